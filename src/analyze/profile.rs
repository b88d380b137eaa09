//! Aggregating thread samples: per thread the share of samples running and in each wait
//! (by system call and descriptor), the blocked program counters, CPU over the window;
//! per role the same together. Pure: targets and symbols come in through closures.

use std::collections::{BTreeMap, HashMap};

use crate::analyze::waits;
use crate::collect::sampler::ThreadTick;
use crate::model::profile::{PcShare, RoleProfile, StackShare, ThreadProfile, WaitShare};
use crate::model::runtime::ThreadRole;
use crate::parse::syscall::SyscallState;

/// A wait, as samples are grouped: the call and its key argument.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WaitKey {
    /// `running`, `read(fd 3)`, `futex`, `do_signal_stop`, `sleeping`.
    pub text: String,
    pub syscall: Option<&'static str>,
    pub fd: Option<i64>,
}

impl WaitKey {
    pub fn running() -> Self {
        Self {
            text: "running".into(),
            syscall: None,
            fd: None,
        }
    }
}

/// What one thread did over the window so far.
#[derive(Debug, Clone, Default)]
pub struct ThreadAccum {
    pub name: Vec<u8>,
    pub start_ticks: u64,
    pub seen: u32,
    pub running: u32,
    pub cpu_first: Option<u64>,
    pub cpu_last: u64,
    /// Samples per wait, with the last state seen in it.
    pub waits: BTreeMap<WaitKey, (u32, Option<SyscallState>)>,
    /// Blocked samples per (wait, program counter).
    pub pcs: HashMap<(WaitKey, u64), u32>,
}

impl ThreadAccum {
    /// The state to judge the thread's role by: its most frequent blocked one.
    pub fn telling_state(&self) -> Option<SyscallState> {
        self.waits
            .iter()
            .filter(|(key, (_, state))| key.syscall.is_some() && state.is_some())
            .max_by_key(|(_, (count, _))| *count)
            .and_then(|(_, (_, state))| *state)
            .or_else(|| (self.running > 0).then_some(SyscallState::Running))
    }

    /// Running in every sample.
    pub fn always_running(&self) -> bool {
        self.seen > 0 && self.running == self.seen
    }

    pub fn running_percent(&self) -> f64 {
        percent(self.running, self.seen)
    }
}

/// Every thread of one process over the window.
#[derive(Debug, Default)]
pub struct Accumulator {
    pub threads: BTreeMap<u32, ThreadAccum>,
    pub ticks: u32,
}

impl Accumulator {
    /// Adds one tick of samples.
    pub fn add(&mut self, ticks: &[ThreadTick]) {
        self.ticks += 1;
        for tick in ticks {
            let thread = self.threads.entry(tick.tid).or_default();
            thread.name.clone_from(&tick.name);
            thread.start_ticks = tick.start_ticks;
            thread.seen += 1;
            thread.cpu_first.get_or_insert(tick.cpu_ticks);
            thread.cpu_last = tick.cpu_ticks;
            let (key, state) = wait_of(tick);
            if key.text == "running" {
                thread.running += 1;
            }
            if let Some((_, pc)) = state.and_then(|s| s.registers()) {
                *thread.pcs.entry((key.clone(), pc)).or_default() += 1;
            }
            let entry = thread.waits.entry(key).or_default();
            entry.0 += 1;
            if state.is_some() {
                entry.1 = state;
            }
        }
    }
}

/// The wait of one sample; running when on a CPU or runnable.
pub fn wait_of(tick: &ThreadTick) -> (WaitKey, Option<SyscallState>) {
    if tick.is_running() {
        return (WaitKey::running(), None);
    }
    match tick.syscall {
        Ok(state) => {
            let wait = waits::describe(&state, tick.wchan.as_deref());
            let (syscall, fd) = wait.syscall.map_or((None, None), |c| (c.name, c.fd));
            let key = WaitKey {
                text: wait.text,
                syscall,
                fd,
            };
            (key, Some(state))
        }
        Err(_) => {
            let text = tick.wchan.as_ref().map_or_else(
                || crate::parse::codes::state_name(tick.state).to_owned(),
                |w| String::from_utf8_lossy(w).into_owned(),
            );
            let key = WaitKey {
                text,
                syscall: None,
                fd: None,
            };
            (key, None)
        }
    }
}

/// `n` of `of` in percent, 0 when nothing was seen.
pub fn percent(n: u32, of: u32) -> f64 {
    if of == 0 {
        0.0
    } else {
        (f64::from(n) * 1000.0 / f64::from(of)).round() / 10.0
    }
}

/// How waits and program counters are put in words.
pub struct Describe<'a> {
    /// The text of a wait with its target resolved (`read(fd 23 → /data/a.csv)`) and the
    /// target alone.
    pub wait: &'a dyn Fn(&WaitKey) -> (String, Option<String>),
    /// A program counter's location with offset (`epoll_pwait+0x4e in libc.so.6`), and
    /// as a frame without it (`epoll_pwait in libc.so.6`).
    pub pc: &'a mut dyn FnMut(u64) -> (String, String),
}

/// How many blocked program counters each thread lists.
const TOP_PCS: usize = 3;

/// The profile row of one thread (role fields left empty).
pub fn thread_row(
    tid: u32,
    thread: &ThreadAccum,
    describe: &mut Describe,
    cpu_percent: Option<f64>,
) -> ThreadProfile {
    let mut waits: Vec<WaitShare> = thread
        .waits
        .iter()
        .map(|(key, (count, _))| share(key, *count, thread.seen, describe.wait))
        .collect();
    waits.sort_by(|a, b| b.samples.cmp(&a.samples).then(a.wait.cmp(&b.wait)));
    let mut by_pc: HashMap<u64, u32> = HashMap::new();
    for ((_, pc), count) in &thread.pcs {
        *by_pc.entry(*pc).or_default() += count;
    }
    let mut pcs: Vec<(u64, u32)> = by_pc.into_iter().collect();
    pcs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top_pcs = pcs
        .into_iter()
        .take(TOP_PCS)
        .map(|(pc, samples)| PcShare {
            pc,
            location: (describe.pc)(pc).0,
            samples,
        })
        .collect();
    let stacks = stacks(thread, describe);
    ThreadProfile {
        tid,
        name: Some(String::from_utf8_lossy(&thread.name).into_owned()),
        role: None,
        role_name: None,
        role_evidence: None,
        samples: thread.seen,
        running_samples: thread.running,
        running_percent: thread.running_percent(),
        cpu_percent,
        waits,
        top_pcs,
        stacks,
    }
}

/// Samples by (wait, frame): blocked samples at their function, the rest by wait alone.
fn stacks(thread: &ThreadAccum, describe: &mut Describe) -> Vec<StackShare> {
    let mut counts: BTreeMap<(String, Option<String>), u32> = BTreeMap::new();
    let mut framed: HashMap<&WaitKey, u32> = HashMap::new();
    for ((key, pc), n) in &thread.pcs {
        let wait = (describe.wait)(key).0;
        let frame = (describe.pc)(*pc).1;
        *counts.entry((wait, Some(frame))).or_default() += n;
        *framed.entry(key).or_default() += n;
    }
    for (key, (n, _)) in &thread.waits {
        let rest = n - framed.get(key).copied().unwrap_or(0);
        if rest > 0 {
            *counts.entry(((describe.wait)(key).0, None)).or_default() += rest;
        }
    }
    counts
        .into_iter()
        .map(|((wait, frame), samples)| StackShare {
            wait,
            frame,
            samples,
        })
        .collect()
}

fn share(
    key: &WaitKey,
    samples: u32,
    of: u32,
    wait: &dyn Fn(&WaitKey) -> (String, Option<String>),
) -> WaitShare {
    let (text, target) = wait(key);
    WaitShare {
        wait: text,
        syscall: key.syscall.map(str::to_owned),
        fd: key.fd,
        target,
        samples,
        percent: percent(samples, of),
    }
}

/// The threads of each role together, in the order roles first appear.
pub fn role_rows(threads: &[ThreadProfile]) -> Vec<RoleProfile> {
    let mut order: Vec<Option<ThreadRole>> = Vec::new();
    let mut groups: HashMap<Option<ThreadRole>, Vec<&ThreadProfile>> = HashMap::new();
    for thread in threads {
        let role = thread.role;
        if !groups.contains_key(&role) {
            order.push(role);
        }
        groups.entry(role).or_default().push(thread);
    }
    order
        .into_iter()
        .map(|role| {
            let members = &groups[&role];
            let samples: u32 = members.iter().map(|t| t.samples).sum();
            let running: u32 = members.iter().map(|t| t.running_samples).sum();
            let mut waits: BTreeMap<(String, Option<String>), u32> = BTreeMap::new();
            for wait in members.iter().flat_map(|t| &t.waits) {
                *waits
                    .entry((wait.wait.clone(), wait.syscall.clone()))
                    .or_default() += wait.samples;
            }
            let mut waits: Vec<WaitShare> = waits
                .into_iter()
                .map(|((wait, syscall), n)| WaitShare {
                    wait,
                    syscall,
                    fd: None,
                    target: None,
                    samples: n,
                    percent: percent(n, samples),
                })
                .collect();
            waits.sort_by_key(|w| std::cmp::Reverse(w.samples));
            RoleProfile {
                role,
                threads: members.len() as u32,
                samples,
                running_percent: percent(running, samples),
                waits,
            }
        })
        .collect()
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::model::Unavailable;

    fn tick(tid: u32, syscall: Result<SyscallState, Unavailable>, state: u8) -> ThreadTick {
        ThreadTick {
            tid,
            name: b"node".to_vec(),
            state,
            cpu_ticks: 0,
            start_ticks: 5,
            syscall,
            wchan: None,
        }
    }

    fn read(fd: u64, pc: u64) -> Result<SyscallState, Unavailable> {
        Ok(SyscallState::InSyscall {
            nr: 0,
            args: [fd, 0, 0, 0, 0, 0],
            sp: 1,
            pc,
        })
    }

    #[test]
    fn shares_of_running_and_waits() {
        let mut acc = Accumulator::default();
        for i in 0..10 {
            let main = if i < 7 {
                tick(1, Ok(SyscallState::Running), b'R')
            } else {
                tick(1, read(23, 0x10), b'S')
            };
            // Without ptrace access only the state letter counts.
            let denied = tick(
                2,
                Err(Unavailable::PermissionDenied),
                if i < 5 { b'R' } else { b'S' },
            );
            acc.add(&[main, denied]);
        }
        let main = &acc.threads[&1];
        assert_eq!((main.seen, main.running), (10, 7));
        assert_eq!(main.running_percent(), 70.0);
        assert!(matches!(
            main.telling_state(),
            Some(SyscallState::InSyscall { nr: 0, .. })
        ));
        let resolve = |key: &WaitKey| match key.fd {
            Some(23) => (
                "read(fd 23 → /tmp/fifo)".to_owned(),
                Some("/tmp/fifo".to_owned()),
            ),
            _ => (key.text.clone(), None),
        };
        let mut symbol = |pc: u64| (format!("at {pc:#x}"), "at".to_owned());
        let mut describe = Describe {
            wait: &resolve,
            pc: &mut symbol,
        };
        let row = thread_row(1, main, &mut describe, None);
        assert_eq!(row.waits[0].wait, "running");
        assert_eq!(row.waits[1].wait, "read(fd 23 → /tmp/fifo)");
        assert_eq!(row.waits[1].percent, 30.0);
        assert_eq!(row.top_pcs[0].location, "at 0x10");
        assert_eq!(row.stacks.len(), 2);
        assert_eq!(
            (row.stacks[0].frame.as_deref(), row.stacks[0].samples),
            (Some("at"), 3)
        );
        assert_eq!(
            (row.stacks[1].wait.as_str(), row.stacks[1].samples),
            ("running", 7)
        );
        assert_eq!(acc.threads[&2].running_percent(), 50.0);
        assert!(!acc.threads[&2].always_running());
    }
}
