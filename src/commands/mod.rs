//! One module per subcommand. Each builds a report (or a text) and never prints.

pub mod export;
pub mod family;
pub mod fds;
pub mod holder_names;
pub mod kill;
pub mod mem;
pub mod meta;
pub mod ports;
pub mod profile;
pub mod ps;
pub mod ps_groups;
pub mod show;
pub mod show_security;
pub mod threads;
pub mod tree;
pub mod who;

use crate::collect::target::NotAProcess;
use crate::exit;
use crate::model::Unavailable;

/// The one-line error (exit 1) for a PID that names no process, for `command PID`.
pub fn not_a_process(command: &str, pid: u32, why: NotAProcess) -> anyhow::Error {
    match why {
        NotAProcess::Missing => {
            exit::target_pid(pid, Unavailable::Gone, format!("no process with PID {pid}"))
        }
        NotAProcess::ThreadOf(tgid) => exit::target_pid(
            pid,
            Unavailable::ReadError,
            format!(
                "PID {pid} is a thread of process {tgid}, not a process: try `procscope {command} {tgid}`"
            ),
        ),
        NotAProcess::Unreadable(why) => {
            exit::target_pid(pid, why, format!("cannot read process {pid}: {why}"))
        }
    }
}
