//! Finding columns by the names people type: `-o`/`--sort` names and their aliases, the
//! default listings, and the registry as a [`ColumnCatalog`] for `query::ps`.

use crate::collect::Needs;
use crate::query::ps::ColumnCatalog;

use super::extended;
use super::registry::{COLUMNS, Column};

/// Looks a column up by its `-o` name (`env:NAME` builds that variable's column).
pub fn find(name: &str) -> Option<&'static Column> {
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, canonical)| canonical);
    COLUMNS
        .iter()
        .find(|column| column.name == name)
        .or_else(|| extended::env_column(name))
}

/// Other names people type for a column (the column keeps its own header and JSON key).
pub const ALIASES: &[(&str, &str)] = &[("io_read", "read_bytes"), ("io_write", "write_bytes")];

/// The valid names, comma-separated, for error messages.
pub fn names() -> String {
    COLUMNS
        .iter()
        .map(|column| column.name)
        .collect::<Vec<_>>()
        .join(", ")
        + ", env:NAME"
}

impl ColumnCatalog for Column {
    fn find(name: &str) -> Option<&'static Self> {
        find(name)
    }

    fn names() -> String {
        names()
    }

    fn defaults(threads: bool) -> &'static [&'static str] {
        if threads { DEFAULT_THREADS } else { DEFAULT }
    }

    fn needs(&self) -> Needs {
        self.needs
    }
}

/// The default thread listing (`ps --threads`), like `ps -L`.
pub const DEFAULT_THREADS: &[&str] = &[
    "tgid", "tid", "user", "state", "cpu", "time", "wait", "name",
];

/// The default listing, like `ps aux` with PPID and threads: PID, PPID, USER, STAT, %CPU,
/// %MEM, VSZ, RSS, TTY, THREADS, START, TIME, COMMAND.
pub const DEFAULT: &[&str] = &[
    "pid", "ppid", "user", "stat", "cpu", "mem", "vsz", "rss", "tty", "threads", "start", "time",
    "cmd",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_name_existing_columns_and_no_column_of_their_own() {
        for (alias, canonical) in ALIASES {
            assert!(COLUMNS.iter().all(|c| c.name != *alias), "{alias}");
            assert_eq!(find(alias).map(|c| c.name), Some(*canonical));
        }
    }

    #[test]
    fn names_and_json_keys_are_unique() {
        let mut names: Vec<_> = COLUMNS.iter().map(|c| c.name).collect();
        let mut keys: Vec<_> = COLUMNS.iter().map(|c| c.json_key).collect();
        names.sort_unstable();
        keys.sort_unstable();
        names.dedup();
        keys.dedup();
        assert_eq!(names.len(), COLUMNS.len());
        assert_eq!(keys.len(), COLUMNS.len());
    }

    #[test]
    fn defaults_exist() {
        for name in DEFAULT {
            assert!(find(name).is_some(), "{name}");
        }
        assert!(find("nosuch").is_none());
    }
}
