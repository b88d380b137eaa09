//! System call names and their key argument: `read(fd 3)`, `epoll_pwait(fd 14)`, `futex`.

use super::syscall_table;

/// The name of system call `nr` on this architecture.
pub fn name(nr: u64) -> Option<&'static str> {
    if cfg!(target_arch = "x86_64") {
        syscall_table::NAMES
            .get(usize::try_from(nr).ok()?)
            .copied()
            .filter(|name| !name.is_empty())
    } else {
        None
    }
}

/// System calls whose first argument is the file descriptor they wait on.
const FD_FIRST: &[&str] = &[
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "recvfrom",
    "recvmsg",
    "recvmmsg",
    "sendto",
    "sendmsg",
    "sendmmsg",
    "accept",
    "accept4",
    "connect",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "fsync",
    "fdatasync",
    "flock",
    "ioctl",
    "getdents64",
    "io_uring_enter",
    "fcntl",
    "sendfile",
    "splice",
    "tee",
];

/// A blocked system call described for people, and the fd it waits on if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallWait {
    pub name: Option<&'static str>,
    pub fd: Option<i64>,
    /// `read(fd 3)`, `futex`, `syscall 999`.
    pub text: String,
}

/// Describes system call `nr` with its arguments.
pub fn describe(nr: u64, args: &[u64; 6]) -> SyscallWait {
    let Some(name) = name(nr) else {
        return SyscallWait {
            name: None,
            fd: None,
            text: format!("syscall {nr}"),
        };
    };
    if FD_FIRST.contains(&name) {
        let fd = args[0] as i32 as i64;
        return SyscallWait {
            name: Some(name),
            fd: Some(fd),
            text: format!("{name}(fd {fd})"),
        };
    }
    let text = match name {
        "wait4" | "waitid" if args[0] as i64 as i32 == -1 => format!("{name}(any child)"),
        "wait4" => format!("{name}(pid {})", args[0] as i32),
        "poll" | "ppoll" => format!(
            "{name}({} fd{})",
            args[1],
            if args[1] == 1 { "" } else { "s" }
        ),
        _ => name.to_owned(),
    };
    SyscallWait {
        name: Some(name),
        fd: None,
        text,
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    #[test]
    fn names_by_number() {
        assert_eq!(name(0), Some("read"));
        assert_eq!(name(202), Some("futex"));
        assert_eq!(name(230), Some("clock_nanosleep"));
        assert_eq!(name(281), Some("epoll_pwait"));
        assert_eq!(name(441), Some("epoll_pwait2"));
        assert_eq!(name(9999), None);
    }

    #[test]
    fn key_arguments() {
        assert_eq!(describe(0, &[3, 0, 0, 0, 0, 0]).text, "read(fd 3)");
        let epoll = describe(281, &[14, 0x7ffc, 1024, u64::from(u32::MAX), 0, 8]);
        assert_eq!(
            (epoll.text.as_str(), epoll.fd),
            ("epoll_pwait(fd 14)", Some(14))
        );
        assert_eq!(describe(202, &[0x7f00, 0x80, 0, 0, 0, 0]).text, "futex");
        assert_eq!(
            describe(61, &[u64::MAX, 0, 0, 0, 0, 0]).text,
            "wait4(any child)"
        );
        assert_eq!(describe(7, &[0x1000, 2, 0, 0, 0, 0]).text, "poll(2 fds)");
        assert_eq!(describe(9999, &[0; 6]).text, "syscall 9999");
    }
}
