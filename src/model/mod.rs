//! Plain serializable types shared by the commands: no I/O happens here.

pub mod detail;
pub mod fd;
pub mod kill;
pub mod memory;
pub mod security;
pub mod socket;
pub mod text;
pub mod thread;
pub mod tree;
pub mod unavailable;

pub use unavailable::Unavailable;
