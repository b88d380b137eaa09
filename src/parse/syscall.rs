//! Parser for `/proc/PID/task/TID/syscall`: what a thread is blocked in, with its stack
//! pointer and program counter, read without stopping it.

/// The content of a `syscall` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallState {
    /// The thread is on a CPU right now: no registers are sampled.
    Running,
    /// Blocked in system call `nr` with its six arguments.
    InSyscall {
        nr: u64,
        args: [u64; 6],
        sp: u64,
        pc: u64,
    },
    /// Stopped outside a system call (`-1 sp pc`): a signal stop, or a page fault.
    Outside { sp: u64, pc: u64 },
}

impl SyscallState {
    /// The sampled stack pointer and program counter, if any.
    pub fn registers(&self) -> Option<(u64, u64)> {
        match *self {
            Self::Running => None,
            Self::InSyscall { sp, pc, .. } | Self::Outside { sp, pc } => Some((sp, pc)),
        }
    }
}

/// Parses the file; `None` for anything that is not one of the three kernel formats.
pub fn parse_syscall(raw: &[u8]) -> Option<SyscallState> {
    let text = std::str::from_utf8(raw).ok()?.trim();
    if text == "running" {
        return Some(SyscallState::Running);
    }
    let words: Vec<&str> = text.split_ascii_whitespace().collect();
    match words.as_slice() {
        [nr, sp, pc] if nr.starts_with('-') => {
            nr.parse::<i64>().ok()?;
            Some(SyscallState::Outside {
                sp: hex(sp)?,
                pc: hex(pc)?,
            })
        }
        [nr, a0, a1, a2, a3, a4, a5, sp, pc] => Some(SyscallState::InSyscall {
            nr: nr.parse().ok()?,
            args: [hex(a0)?, hex(a1)?, hex(a2)?, hex(a3)?, hex(a4)?, hex(a5)?],
            sp: hex(sp)?,
            pc: hex(pc)?,
        }),
        _ => None,
    }
}

fn hex(word: &str) -> Option<u64> {
    u64::from_str_radix(word.strip_prefix("0x")?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_in_epoll_pwait() {
        // Captured from the main thread of node 20 (epoll_pwait on epfd 14).
        let state = parse_syscall(
            b"281 0xe 0x7ffcbee63c40 0x400 0xffffffff 0x0 0x8 0x7ffcbee63bf0 0x7fec69046cae\n",
        )
        .unwrap();
        assert_eq!(
            state,
            SyscallState::InSyscall {
                nr: 281,
                args: [0xe, 0x7ffcbee63c40, 0x400, 0xffffffff, 0, 8],
                sp: 0x7ffcbee63bf0,
                pc: 0x7fec69046cae
            }
        );
        assert_eq!(state.registers(), Some((0x7ffcbee63bf0, 0x7fec69046cae)));
    }

    #[test]
    fn running_and_outside() {
        assert_eq!(parse_syscall(b"running\n"), Some(SyscallState::Running));
        assert_eq!(parse_syscall(b"running\n").unwrap().registers(), None);
        assert_eq!(
            parse_syscall(b"-1 0x7ffd3a1c8e00 0x55d0c4a1b2c3\n"),
            Some(SyscallState::Outside {
                sp: 0x7ffd3a1c8e00,
                pc: 0x55d0c4a1b2c3
            })
        );
    }

    #[test]
    fn garbage_is_none() {
        for bad in [
            &b""[..],
            b"runn",
            b"0 0x1",
            b"x 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8",
            b"-1 zz 0x1",
            b"\xff",
        ] {
            assert_eq!(parse_syscall(bad), None, "{bad:?}");
        }
    }
}
