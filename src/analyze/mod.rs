//! Derived knowledge from what was read: system call names, program-counter symbols, stack
//! mappings. Pure: it never reads /proc itself.

pub mod fd_kind;
pub mod filter;
pub mod memory;
pub mod placement;
pub mod profile;
pub mod ps_state;
pub mod runtime;
pub mod sockets;
pub mod stacks;
pub mod symbols;
pub mod syscall_table;
pub mod syscalls;
pub mod tree;
pub mod waits;
