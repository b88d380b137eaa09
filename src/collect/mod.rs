//! Reading the operating system: the only module that touches /proc or makes syscalls about
//! other processes.

pub mod binary;
mod cpu_clock;
pub mod detail;
mod dir_entries;
pub mod family;
pub mod fds;
pub mod holder_names;
pub mod holders;
pub mod listing;
pub mod machine;
pub mod memory;
pub mod modules;
pub mod net;
pub mod port_holders;
mod proc_read;
pub mod process;
mod process_files;
pub mod procfs;
pub mod runtime;
pub mod sampler;
pub mod scan;
pub mod security;
pub mod sock_diag;
pub mod system;
pub mod target;
pub mod taskstats;
pub mod thread_facts;
pub mod threads;
pub mod tree;
pub mod usage;
pub mod users;
pub mod wait_targets;
pub mod watchdog;
pub mod who;

pub use crate::query::needs::Needs;
pub use process::{Field, ProcessSample, TaskKind};
pub use process_files::read_leader_stat;
pub use procfs::{ProcFs, ProcessDir};
pub use system::SystemInfo;
pub use users::UserNames;
