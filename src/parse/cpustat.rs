//! Parser for the `cpu` lines of `/proc/stat`: time spent per CPU in each mode (pure).

use super::Fields;
use super::stat::parse_num;

/// Clock ticks a CPU (or all of them) spent in each mode since boot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    pub steal: u64,
}

/// The share of an interval a CPU spent in each mode, in percent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuShare {
    /// user + nice.
    pub user: f64,
    /// system + irq + softirq.
    pub system: f64,
    pub iowait: f64,
    pub steal: f64,
}

impl CpuShare {
    /// Everything but idle and iowait.
    pub fn busy(&self) -> f64 {
        self.user + self.system + self.steal
    }
}

impl CpuTimes {
    fn total(&self) -> u64 {
        self.user
            + self.nice
            + self.system
            + self.idle
            + self.iowait
            + self.irq
            + self.softirq
            + self.steal
    }

    /// The share of each mode between `earlier` and `self` (all zero when no time passed).
    pub fn share_since(&self, earlier: &CpuTimes) -> CpuShare {
        let elapsed = self.total().saturating_sub(earlier.total());
        if elapsed == 0 {
            return CpuShare::default();
        }
        let pct = |now: u64, then: u64| now.saturating_sub(then) as f64 / elapsed as f64 * 100.0;
        CpuShare {
            user: pct(self.user + self.nice, earlier.user + earlier.nice),
            system: pct(
                self.system + self.irq + self.softirq,
                earlier.system + earlier.irq + earlier.softirq,
            ),
            iowait: pct(self.iowait, earlier.iowait),
            steal: pct(self.steal, earlier.steal),
        }
    }
}

/// The `cpu` line (all CPUs) and the `cpuN` lines in order, from `/proc/stat`.
pub fn parse_cpu_times(raw: &[u8]) -> (Option<CpuTimes>, Vec<CpuTimes>) {
    let mut total = None;
    let mut each = Vec::new();
    for line in raw.split(|&b| b == b'\n') {
        let mut fields = Fields::new(line);
        let Some(label) = fields.next() else { continue };
        if !label.starts_with(b"cpu") {
            continue;
        }
        let numbers: Vec<u64> = fields.filter_map(parse_num).collect();
        let get = |i: usize| numbers.get(i).copied().unwrap_or(0);
        if numbers.len() < 4 {
            continue;
        }
        let times = CpuTimes {
            user: get(0),
            nice: get(1),
            system: get(2),
            idle: get(3),
            iowait: get(4),
            irq: get(5),
            softirq: get(6),
            steal: get(7),
        };
        if label == b"cpu" {
            total = Some(times);
        } else {
            each.push(times);
        }
    }
    (total, each)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &[u8] = b"cpu  100 0 50 800 30 0 10 10 0 0\ncpu0 60 0 20 400 10 0 5 5 0 0\ncpu1 40 0 30 400 20 0 5 5 0 0\nintr 1 2\nbtime 1795674721\n";

    #[test]
    fn total_and_each_cpu() {
        let (total, each) = parse_cpu_times(STAT);
        assert_eq!(total.unwrap().user, 100);
        assert_eq!(each.len(), 2);
        assert_eq!(each[1].system, 30);
    }

    #[test]
    fn shares_over_an_interval() {
        let before = CpuTimes {
            user: 100,
            idle: 100,
            ..CpuTimes::default()
        };
        let after = CpuTimes {
            user: 150,
            system: 20,
            idle: 120,
            iowait: 5,
            steal: 5,
            ..CpuTimes::default()
        };
        let share = after.share_since(&before);
        assert_eq!(share.user, 50.0);
        assert_eq!(share.system, 20.0);
        assert_eq!(share.iowait, 5.0);
        assert_eq!(share.steal, 5.0);
        assert_eq!(share.busy(), 75.0);
        assert_eq!(before.share_since(&before), CpuShare::default());
    }
}
