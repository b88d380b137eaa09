//! Validated, pure descriptions of what the user asked for: PIDs, durations, filters, the process matcher.

pub mod duration;
pub mod exposition;
pub mod filter;
pub mod groups;
pub mod matcher;
pub mod needs;
pub mod pid;
pub mod ps;
pub mod secrets;
pub mod signal;
pub mod socket_states;

pub use duration::parse_duration;
pub use filter::{ProcessFilter, parse_states};
pub use matcher::Matcher;
pub use needs::Needs;
pub use pid::{parse_pid, parse_ppid};
