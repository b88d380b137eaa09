//! Validated, pure descriptions of what the user asked for: PIDs, durations, filters.

pub mod duration;
pub mod filter;
pub mod pid;

pub use duration::parse_duration;
pub use filter::{Matcher, ProcessFilter, parse_states};
pub use pid::{parse_pid, parse_ppid};
