//! The validated `ps`/`top` request: columns, sort keys, the process filter and limits.
//! Generic over the column type: the registry sits above this layer and plugs in through
//! [`ColumnCatalog`]. Validation only; nothing here reads a process.

use std::time::Duration;

use crate::query::filter::ProcessFilter;
use crate::query::matcher::Matcher;
use crate::query::needs::Needs;
use crate::query::secrets::SecretPolicy;

/// A column registry a request can name columns from.
pub trait ColumnCatalog: Sized + 'static {
    /// The column with this `-o` name, if there is one.
    fn find(name: &str) -> Option<&'static Self>;
    /// The valid names, comma-separated, for error messages.
    fn names() -> String;
    /// The names listed when no `-o` is given.
    fn defaults(threads: bool) -> &'static [&'static str];
    /// What the column needs read for each process.
    fn needs(&self) -> Needs;
}

/// What `ps --group-by` sums processes by.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Name,
    User,
    Unit,
    Container,
    Runtime,
}

/// The validated request.
pub struct PsQuery<C: 'static> {
    pub columns: Vec<&'static C>,
    /// The first sort key (every key, with its direction, is in `sort_keys`).
    pub sort: &'static C,
    /// Every sort key in order; `true` sorts that key descending (`-s rss,-cpu`).
    pub sort_keys: Vec<(&'static C, bool)>,
    pub reverse: bool,
    pub filter: ProcessFilter,
    pub limit: Option<usize>,
    pub interval: Option<Duration>,
    /// One row per thread instead of per process.
    pub threads: bool,
    /// Rows in process-tree order.
    pub tree: bool,
    /// Keep the exact command line bytes (`cmdline_b64`).
    pub raw_cmdline: bool,
    /// How `env:NAME` columns treat secret-looking variables.
    pub secrets: SecretPolicy,
}

impl<C: ColumnCatalog> PsQuery<C> {
    /// Everything each process must have read: columns, sort key and filter.
    pub fn needs(&self) -> Needs {
        let mut needs = self.filter.needs();
        for (key, _) in &self.sort_keys {
            needs |= key.needs();
        }
        for column in &self.columns {
            needs |= column.needs();
        }
        if self.interval.is_some() || self.tree {
            needs |= Needs::STAT;
        }
        if self.raw_cmdline && needs.contains(Needs::CMDLINE) {
            needs |= Needs::RAW_CMDLINE;
        }
        needs
    }
}

/// What BSD and System V `ps` users type to see every process (`ps aux`, `ps -ef`): taken as
/// "no pattern", so the habit lists everything instead of matching nothing. `--exact aux`
/// still finds a process named `aux`.
pub const PS_HABITS: &[&str] = &[
    "aux", "auxw", "auxww", "axu", "ax", "-aux", "-ef", "-efw", "-efww", "-eF", "-e", "-A",
];

/// The columns named by `-o` (each validated), or the defaults.
pub fn columns<C: ColumnCatalog>(
    names: &[String],
    threads: bool,
) -> Result<Vec<&'static C>, String> {
    if names.is_empty() {
        return Ok(C::defaults(threads)
            .iter()
            .filter_map(|name| C::find(name))
            .collect());
    }
    names.iter().map(|name| column(name)).collect()
}

/// Parses `-s rss,-cpu`: column names, each with an optional `-` for descending; by pid when
/// no list is given.
pub fn sort_keys<C: ColumnCatalog>(list: Option<&str>) -> Result<Vec<(&'static C, bool)>, String> {
    let Some(list) = list else {
        return Ok(vec![(column("pid")?, false)]);
    };
    list.split(',')
        .map(|key| {
            let (name, descending) = match key.strip_prefix('-') {
                Some(name) => (name, true),
                None => (key.strip_prefix('+').unwrap_or(key), false),
            };
            if name.is_empty() {
                return Err(format!(
                    "'{list}' is not a list of sort keys: expected column names, comma-separated, each optionally prefixed with - for descending (e.g. rss,-cpu)"
                ));
            }
            Ok((column(name)?, descending))
        })
        .collect()
}

/// One column by its `-o` name.
pub fn column<C: ColumnCatalog>(name: &str) -> Result<&'static C, String> {
    C::find(name)
        .ok_or_else(|| format!("unknown column '{name}': valid columns are {}", C::names()))
}

/// The matcher for a `ps` pattern: none for a `ps aux` habit (unless `--exact`/`--regex`),
/// and an error for an unknown option typed where the pattern goes.
pub fn pattern_matcher(
    pattern: Option<&str>,
    exact: bool,
    regex: bool,
) -> Result<Option<Matcher>, String> {
    if let Some(pattern) = pattern
        && pattern.starts_with('-')
        && !regex
        && !exact
        && !PS_HABITS.contains(&pattern)
    {
        return Err(format!(
            "unknown option '{pattern}': see `procscope ps --help` (to match text that starts with '-', use --regex)"
        ));
    }
    pattern
        .filter(|pattern| exact || regex || !PS_HABITS.contains(pattern))
        .map(|pattern| Matcher::new(pattern, exact, regex))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A two-column catalog: the request validates against any registry.
    #[derive(Debug)]
    struct Fake(&'static str, Needs);

    static FAKES: [Fake; 2] = [Fake("pid", Needs::NONE), Fake("rss", Needs::STATUS)];

    impl ColumnCatalog for Fake {
        fn find(name: &str) -> Option<&'static Self> {
            FAKES.iter().find(|fake| fake.0 == name)
        }
        fn names() -> String {
            "pid, rss".into()
        }
        fn defaults(_threads: bool) -> &'static [&'static str] {
            &["pid", "nosuch"]
        }
        fn needs(&self) -> Needs {
            self.1
        }
    }

    #[test]
    fn sort_keys_with_directions() {
        let keys = sort_keys::<Fake>(Some("rss,-pid,+rss")).unwrap();
        let names: Vec<(&str, bool)> = keys.iter().map(|(c, d)| (c.0, *d)).collect();
        assert_eq!(names, [("rss", false), ("pid", true), ("rss", false)]);
        assert_eq!(sort_keys::<Fake>(None).unwrap()[0].0.0, "pid");
        let err = sort_keys::<Fake>(Some("rss,")).unwrap_err();
        assert!(err.contains("'rss,'"), "{err}");
        let err = sort_keys::<Fake>(Some("cpu")).unwrap_err();
        assert!(err.contains("'cpu'") && err.contains("pid, rss"), "{err}");
    }

    #[test]
    fn default_columns_skip_unknown_names() {
        let defaults = columns::<Fake>(&[], false).unwrap();
        assert_eq!(defaults.len(), 1);
        assert!(columns::<Fake>(&["nosuch".into()], false).is_err());
    }

    #[test]
    fn ps_habits_are_no_pattern_unless_exact() {
        assert!(
            pattern_matcher(Some("aux"), false, false)
                .unwrap()
                .is_none()
        );
        assert!(
            pattern_matcher(Some("-ef"), false, false)
                .unwrap()
                .is_none()
        );
        assert!(pattern_matcher(Some("aux"), true, false).unwrap().is_some());
        let err = pattern_matcher(Some("-x"), false, false).unwrap_err();
        assert!(err.contains("unknown option '-x'"), "{err}");
        assert!(pattern_matcher(Some("-x"), false, true).unwrap().is_some());
        assert!(pattern_matcher(None, false, false).unwrap().is_none());
    }
}
