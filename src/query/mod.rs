//! Validated, pure descriptions of what the user asked for: one request type per command
//! (ps, kill, ports, mem, threads, show, who, profile), PIDs and pid_max, durations, filters,
//! the process matcher, signals. Imports only model, parse and text; never reads a process.

pub mod duration;
pub mod export;
pub mod filter;
pub mod groups;
pub mod kill;
pub mod matcher;
pub mod mem;
pub mod needs;
pub mod pid;
pub mod ports;
pub mod profile;
pub mod ps;
pub mod secrets;
pub mod show;
pub mod signal;
pub mod socket_states;
pub mod threads;
pub mod who;

pub use duration::parse_duration;
pub use filter::{ProcessFilter, parse_states};
pub use matcher::Matcher;
pub use needs::Needs;
pub use pid::{parse_pid, parse_ppid};
