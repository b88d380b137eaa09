//! Pure parsers for /proc file formats: bytes in, values out, never I/O and never a panic.

pub mod cmdline;
pub mod codes;
pub mod fdinfo;
pub mod keyed;
pub mod limits;
pub mod maps;
pub mod net;
pub mod smaps;
pub mod stat;
pub mod syscall;
pub mod tty;
