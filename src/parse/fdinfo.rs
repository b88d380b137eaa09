//! Parser for `/proc/PID/fdinfo/N`: position, open flags, and the per-type lines (the fds an
//! epoll instance watches, an eventfd's counter, a pidfd's process).

use super::keyed::Keyed;
use super::stat::parse_num;

/// What fdinfo says about one descriptor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FdInfo {
    pub pos: Option<u64>,
    /// The open flags (octal in the file).
    pub flags: Option<u32>,
    pub mnt_id: Option<u64>,
    pub ino: Option<u64>,
    /// For an epoll fd: the watched descriptors (`tfd:` lines).
    pub epoll_targets: Vec<i32>,
    /// For an eventfd: its counter.
    pub eventfd_count: Option<u64>,
    /// For a pidfd: the process it refers to (`Pid:`; -1 once it has exited).
    pub pidfd_pid: Option<i64>,
    /// For an inotify fd: the number of watches.
    pub inotify_watches: usize,
}

/// Parses an fdinfo file.
pub fn parse_fdinfo(raw: &[u8]) -> FdInfo {
    let keyed = Keyed::new(raw.to_vec());
    let mut info = FdInfo {
        pos: keyed.number("pos"),
        flags: keyed
            .get("flags")
            .and_then(|v| u32::from_str_radix(std::str::from_utf8(v).ok()?, 8).ok()),
        mnt_id: keyed.number("mnt_id"),
        ino: keyed.number("ino"),
        eventfd_count: keyed
            .get("eventfd-count")
            .and_then(|v| u64::from_str_radix(std::str::from_utf8(v).ok()?.trim(), 16).ok()),
        pidfd_pid: keyed.get("Pid").and_then(|v| parse_num(v.trim_ascii())),
        ..FdInfo::default()
    };
    for line in raw.split(|&b| b == b'\n') {
        if let Some(rest) = line.strip_prefix(b"tfd:") {
            let target = rest.trim_ascii_start();
            let end = target
                .iter()
                .position(u8::is_ascii_whitespace)
                .unwrap_or(target.len());
            if let Some(fd) = parse_num(&target[..end]) {
                info.epoll_targets.push(fd);
            }
        } else if line.starts_with(b"inotify wd:") {
            info.inotify_watches += 1;
        }
    }
    info
}

/// The access mode and flags of an open-flags word: (`r`/`w`/`rw`, flag names).
pub fn describe_flags(flags: u32) -> (&'static str, Vec<&'static str>) {
    let access = match flags & 0o3 {
        0 => "r",
        1 => "w",
        _ => "rw",
    };
    const NAMES: &[(u32, &str)] = &[
        (0o2000, "append"),
        (0o4000, "nonblock"),
        (0o4010000, "sync"),
        (0o40000, "direct"),
        (0o1000000, "noatime"),
        (0o2000000, "cloexec"),
        (0o10000000, "path"),
    ];
    let names = NAMES
        .iter()
        .filter(|(bit, _)| flags & bit == *bit)
        .map(|(_, name)| *name)
        .collect();
    (access, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoll_with_targets() {
        // Captured from an epoll fd watching fd 9 on Linux 6.18.
        let info = parse_fdinfo(b"pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1038\ntfd:        9 events:       1f data:                9  pos:0 ino:4fe10 sdev:f\ntfd:       12 events:       19 data:                c  pos:0 ino:4fe11 sdev:f\n");
        assert_eq!(info.pos, Some(0));
        assert_eq!(info.flags, Some(0o2000002));
        assert_eq!(info.epoll_targets, vec![9, 12]);
        assert_eq!(describe_flags(info.flags.unwrap()), ("rw", vec!["cloexec"]));
    }

    #[test]
    fn file_eventfd_pidfd_inotify() {
        let file = parse_fdinfo(b"pos:\t4096\nflags:\t0102001\nmnt_id:\t24\nino:\t77\n");
        assert_eq!(file.pos, Some(4096));
        assert_eq!(describe_flags(file.flags.unwrap()), ("w", vec!["append"]));
        let eventfd = parse_fdinfo(b"pos:\t0\nflags:\t02004002\nmnt_id:\t17\nino:\t1038\neventfd-count:                2\neventfd-id: 5\n");
        assert_eq!(eventfd.eventfd_count, Some(2));
        assert_eq!(
            describe_flags(eventfd.flags.unwrap()).1,
            vec!["nonblock", "cloexec"]
        );
        let pidfd = parse_fdinfo(
            b"pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1038\nPid:\t4711\nNSpid:\t4711\n",
        );
        assert_eq!(pidfd.pidfd_pid, Some(4711));
        let inotify = parse_fdinfo(b"pos:\t0\nflags:\t00\ninotify wd:1 ino:2 sdev:3 mask:fce ignored_mask:0\ninotify wd:2 ino:5 sdev:3 mask:fce ignored_mask:0\n");
        assert_eq!(inotify.inotify_watches, 2);
    }

    #[test]
    fn garbage_gives_empty_info() {
        assert_eq!(parse_fdinfo(b"\xff\x00garbage"), FdInfo::default());
    }
}
