//! Parser for `/proc/PID/stat` and `/proc/PID/task/TID/stat`: pure, byte-safe, no I/O.

/// `PF_KTHREAD` in the flags field: the task is a kernel thread.
pub const PF_KTHREAD: u32 = 0x0020_0000;

/// The fields of a stat line that procscope uses. Fields after `rss` are optional because
/// older kernels print fewer of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    pub pid: u32,
    /// The raw comm bytes between the first `(` and the last `)`.
    pub comm: Vec<u8>,
    pub state: u8,
    pub ppid: u32,
    pub pgrp: i32,
    pub session: i32,
    pub tty_nr: u32,
    /// The foreground process group of the controlling terminal (-1 without one).
    pub tpgid: i32,
    pub flags: u32,
    pub minflt: u64,
    pub majflt: u64,
    pub utime_ticks: u64,
    pub stime_ticks: u64,
    pub priority: i64,
    pub nice: i64,
    pub num_threads: u64,
    pub starttime_ticks: u64,
    pub vsize_bytes: u64,
    pub rss_pages: u64,
    pub processor: Option<u32>,
    pub rt_priority: Option<u32>,
    pub policy: Option<u32>,
}

/// Why a stat line could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatError(pub &'static str);

impl Stat {
    /// True for kernel threads (PF_KTHREAD).
    pub fn is_kernel_thread(&self) -> bool {
        self.flags & PF_KTHREAD != 0
    }

    /// True for zombies (`Z`) and dead tasks (`X`).
    pub fn is_zombie(&self) -> bool {
        matches!(self.state, b'Z' | b'X')
    }

    /// Total CPU time in clock ticks.
    pub fn cpu_ticks(&self) -> u64 {
        self.utime_ticks.saturating_add(self.stime_ticks)
    }
}

/// Parses one stat line. The comm may hold any byte, including `)` and spaces, so the
/// fields are split after the last `)`.
pub fn parse_stat(line: &[u8]) -> Result<Stat, StatError> {
    let open = line
        .iter()
        .position(|&b| b == b'(')
        .ok_or(StatError("no '(' before the name"))?;
    let close = line
        .iter()
        .rposition(|&b| b == b')')
        .filter(|&close| close > open)
        .ok_or(StatError("no ')' after the name"))?;
    let pid = parse_num(trim(&line[..open])).ok_or(StatError("bad pid"))?;
    let comm = line[open + 1..close].to_vec();
    let rest = &line[close + 1..];
    let mut fields = rest
        .split(|b| b.is_ascii_whitespace())
        .filter(|field| !field.is_empty());
    // Field numbers below follow proc_pid_stat(5); the iterator starts at field 3.
    let state = match fields.next() {
        Some([state]) => *state,
        _ => return Err(StatError("bad state")),
    };
    let mut next = |what: &'static str| fields.next().ok_or(StatError(what));
    let ppid = num(next("missing ppid")?, "bad ppid")?;
    let pgrp = signed(next("missing pgrp")?, "bad pgrp")?;
    let session = signed(next("missing session")?, "bad session")?;
    let tty_nr = signed(next("missing tty_nr")?, "bad tty_nr")? as u32;
    let tpgid = signed(next("missing tpgid")?, "bad tpgid")?;
    let flags = num(next("missing flags")?, "bad flags")?;
    let minflt = num(next("missing minflt")?, "bad minflt")?;
    let _cminflt = next("missing cminflt")?;
    let majflt = num(next("missing majflt")?, "bad majflt")?;
    let _cmajflt = next("missing cmajflt")?;
    let utime_ticks = num(next("missing utime")?, "bad utime")?;
    let stime_ticks = num(next("missing stime")?, "bad stime")?;
    let _cutime = next("missing cutime")?;
    let _cstime = next("missing cstime")?;
    let priority = signed(next("missing priority")?, "bad priority")?;
    let nice = signed(next("missing nice")?, "bad nice")?;
    let num_threads = num(next("missing num_threads")?, "bad num_threads")?;
    let _itrealvalue = next("missing itrealvalue")?;
    let starttime_ticks = num(next("missing starttime")?, "bad starttime")?;
    let vsize_bytes = num(next("missing vsize")?, "bad vsize")?;
    let rss_pages = signed(next("missing rss")?, "bad rss")?.max(0) as u64;
    // Optional tail: fields 25..=38 are skipped, then processor (39), rt_priority, policy.
    let tail: Vec<&[u8]> = fields.skip(14).take(3).collect();
    let optional = |index: usize| tail.get(index).and_then(|field| parse_num(field));
    Ok(Stat {
        pid,
        comm,
        state,
        ppid,
        pgrp: pgrp as i32,
        session: session as i32,
        tty_nr,
        tpgid: tpgid as i32,
        flags,
        minflt,
        majflt,
        utime_ticks,
        stime_ticks,
        priority,
        nice,
        num_threads,
        starttime_ticks,
        vsize_bytes,
        rss_pages,
        processor: optional(0),
        rt_priority: optional(1),
        policy: optional(2),
    })
}

fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

fn num<T: std::str::FromStr>(field: &[u8], what: &'static str) -> Result<T, StatError> {
    parse_num(field).ok_or(StatError(what))
}

fn signed(field: &[u8], what: &'static str) -> Result<i64, StatError> {
    parse_num(field).ok_or(StatError(what))
}

/// Parses an ASCII decimal number; `None` for anything else.
pub fn parse_num<T: std::str::FromStr>(field: &[u8]) -> Option<T> {
    std::str::from_utf8(field).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from /proc/PID/stat of a freshly forked child on Linux 6.18 (52 fields).
    const FORKED: &[u8] = b"4754 (bash) R 4752 4752 1054 0 -1 4194368 0 0 0 0 0 0 0 0 20 0 1 0 26748 4816896 127 18446744073709551615 94355767660544 94355768449949 140735900990976 0 0 0 81922 0 81920 0 0 0 17 1 0 0 0 0 0 94355768683248 94355768731492 94356802433024 140735900998525 140735900998540 140735900998540 140735900999658 0\n";
    // Captured from /proc/2/stat (kthreadd) on the same machine.
    const KTHREADD: &[u8] = b"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 25 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

    #[test]
    fn parses_a_real_line() {
        let stat = parse_stat(FORKED).unwrap();
        assert_eq!(stat.pid, 4754);
        assert_eq!(stat.comm, b"bash");
        assert_eq!(stat.state, b'R');
        assert_eq!(stat.ppid, 4752);
        assert_eq!(stat.pgrp, 4752);
        assert_eq!(stat.session, 1054);
        assert_eq!(stat.tty_nr, 0);
        assert_eq!(stat.flags, 4194368);
        assert_eq!(stat.priority, 20);
        assert_eq!(stat.nice, 0);
        assert_eq!(stat.num_threads, 1);
        assert_eq!(stat.starttime_ticks, 26748);
        assert_eq!(stat.vsize_bytes, 4816896);
        assert_eq!(stat.rss_pages, 127);
        assert_eq!(stat.processor, Some(1));
        assert_eq!(stat.rt_priority, Some(0));
        assert_eq!(stat.policy, Some(0));
        assert!(!stat.is_kernel_thread());
    }

    #[test]
    fn kthreadd_is_a_kernel_thread() {
        let stat = parse_stat(KTHREADD).unwrap();
        assert_eq!((stat.pid, stat.ppid), (2, 0));
        assert_eq!(stat.comm, b"kthreadd");
        assert!(stat.is_kernel_thread());
        assert_eq!(stat.vsize_bytes, 0);
    }

    #[test]
    fn name_with_parens_and_fields_is_split_at_last_paren() {
        let line = b"77 (a) R 1 (b) S 5 77 77 0 -1 4194560 1 0 0 0 3 4 0 0 20 0 1 0 100 4096 10 18446744073709551615";
        let stat = parse_stat(line).unwrap();
        assert_eq!(stat.comm, b"a) R 1 (b");
        assert_eq!(stat.state, b'S');
        assert_eq!(stat.ppid, 5);
        assert_eq!(stat.utime_ticks, 3);
        assert_eq!(stat.stime_ticks, 4);
        assert_eq!(stat.cpu_ticks(), 7);
    }

    #[test]
    fn name_with_newline_escape_and_invalid_utf8_is_kept_raw() {
        let line = b"9 (x\ny\x1b[31m\xff) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0";
        let stat = parse_stat(line).unwrap();
        assert_eq!(stat.comm, b"x\ny\x1b[31m\xff");
        assert_eq!(stat.state, b'S');
    }

    #[test]
    fn kernel_thread_with_long_name() {
        let name = "kworker/u8:3-events_unbound_with_a_name_of_sixty-four_chars_xyz1";
        assert_eq!(name.len(), 64);
        let line = format!(
            "45 ({name}) I 2 0 0 0 -1 69238880 0 0 0 0 0 12 0 0 20 0 1 0 30 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0"
        );
        let stat = parse_stat(line.as_bytes()).unwrap();
        assert_eq!(stat.comm, name.as_bytes());
        assert!(stat.is_kernel_thread());
        assert_eq!(stat.state, b'I');
        assert_eq!(stat.ppid, 2);
        assert_eq!(stat.processor, Some(0));
    }

    #[test]
    fn short_line_without_trailing_fields() {
        let line = b"3 (old) S 1 3 3 0 -1 0 0 0 0 0 5 6 0 0 20 0 2 0 99 8192 2";
        let stat = parse_stat(line).unwrap();
        assert_eq!(stat.num_threads, 2);
        assert_eq!(stat.rss_pages, 2);
        assert_eq!(stat.processor, None);
        assert_eq!(stat.policy, None);
    }

    #[test]
    fn zombie_state() {
        let line = b"12 (defunct) Z 10 12 12 0 -1 4227084 0 0 0 0 0 0 0 0 20 0 1 0 50 0 0";
        assert!(parse_stat(line).unwrap().is_zombie());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse_stat(b"").is_err());
        assert!(parse_stat(b"12 (x").is_err());
        assert!(parse_stat(b")(").is_err());
        assert!(parse_stat(b"12 (x) S").is_err());
        assert!(parse_stat(b"12 (x) SS 1").is_err());
        assert!(parse_stat(b"abc (x) S 1 2 3").is_err());
    }
}
