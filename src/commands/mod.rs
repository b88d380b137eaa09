//! One module per subcommand: query in, typed payload out (types in `model`, drawn by
//! `render`). A command never prints, never formats and never imports another command.

pub mod export;
pub mod fds;
pub mod kill;
pub mod mem;
pub mod ports;
pub mod profile;
pub mod ps;
pub mod ps_groups;
pub mod show;
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
