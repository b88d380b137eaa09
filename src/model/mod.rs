//! Plain serializable types shared by the commands: no I/O happens here.

pub mod code;
pub mod detail;
pub mod export;
pub mod exposition;
pub mod fd;
pub mod fd_kind;
pub mod fields;
pub mod kill;
pub mod listing;
pub mod machine;
pub mod memory;
pub mod payload;
pub mod profile;
pub mod report;
pub mod runtime;
pub mod security;
pub mod socket;
pub mod text;
pub mod thread;
pub mod tree;
pub mod unavailable;
pub mod who;

pub use payload::{ErrorEntry, Payload};
pub use unavailable::Unavailable;
