//! Conformance: procscope against the peer tools (ps, top, lsof, ss, pmap, pstree and
//! /proc/PID/status) on real servers this binary starts itself (see `servers`). Each
//! comparison states its tolerance and the reason next to it. Every difference is printed
//! as `field, process: procscope value vs peer value`.

/// Prints `notice: ...` straight to standard error, which libtest does not capture, so a
/// skipped comparison shows in the output of a passing run too.
macro_rules! notice {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "notice: {}", format_args!($($arg)*));
    }};
}
pub(crate) use notice;

mod compare_columns;
mod compare_files;
mod compare_memory;
mod compare_ps;
mod compare_security;
mod compare_sockets;
mod compare_tcp_info;
mod compare_tree;
mod compare_who;
mod peers;
mod recipes;
mod servers;
#[path = "../support/system_user.rs"]
mod system_user;
