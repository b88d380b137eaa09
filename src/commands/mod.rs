//! One module per subcommand. Each builds a report (or a text) and never prints.

pub mod meta;
pub mod ps;
pub mod show;
