//! The `ps` listing: one row of column cells per process (or thread), generic over the
//! column type and the row-of-cells type of the column registry (model does not import
//! `columns`), with the JSON document built from the same cells.

use schemars::JsonSchema;
use serde::Serialize;
use std::sync::OnceLock;

use serde_json::{Map, Value as Json};

use crate::model::payload::{ErrorEntry, Payload};

/// `ps`: the processes (or threads) that match, in their sorted order.
pub struct Listing<C: 'static, V> {
    /// What `--json` prints, built from the rows on first use (a table never builds it).
    pub document: OnceLock<ListingDocument>,
    /// One row as its columns' JSON keys (the column registry knows each cell's form).
    pub row_json: RowJson<C, V>,
    /// Processes that exited during the listing.
    pub vanished: usize,
    /// The columns asked for, in order.
    pub columns: Vec<&'static C>,
    /// The rows, in their sorted order.
    pub rows: Vec<ListingRow<V>>,
    /// One row per thread (`-L`).
    pub threads: bool,
    /// "Now" for ages and start times.
    pub now_unix: f64,
    /// A filter selected the rows: an empty listing then means nothing matched.
    pub filtered: bool,
    /// Named PIDs (`--pid`) that could not be listed.
    pub errors: Vec<ErrorEntry>,
    /// What to suggest for denied fields.
    pub denied_hint: &'static str,
}

/// How one row of a listing prints in JSON: its columns, whether rows are threads, the row.
pub type RowJson<C, V> = fn(&[&'static C], bool, &ListingRow<V>) -> Map<String, Json>;

/// One process (or thread) of a listing.
#[derive(Debug, Clone)]
pub struct ListingRow<V> {
    pub pid: u32,
    pub tid: u32,
    pub ppid: Option<u32>,
    /// Depth in the process tree, with `--tree`.
    pub depth: Option<usize>,
    /// One cell per column: its value, or why it has none (packed by the column registry).
    pub cells: V,
}

/// The members of `ps --json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ListingDocument {
    pub processes: Vec<Map<String, Json>>,
    /// Processes that exited during the listing.
    pub vanished: usize,
}

impl<C: 'static, V> Payload for Listing<C, V> {
    const COMMAND: &'static str = "ps";
    type Document = ListingDocument;
    type Row = Map<String, Json>;

    fn document(&self) -> &ListingDocument {
        self.document.get_or_init(|| ListingDocument {
            processes: (self.rows.iter())
                .map(|row| (self.row_json)(&self.columns, self.threads, row))
                .collect(),
            vanished: self.vanished,
        })
    }

    fn rows(&self) -> Option<&[Map<String, Json>]> {
        Some(&self.document().processes)
    }

    fn errors(&self) -> &[ErrorEntry] {
        &self.errors
    }

    /// A filter that matched nothing, or a named PID that is not listed.
    fn partial(&self) -> bool {
        (self.filtered && self.rows.is_empty()) || !self.errors.is_empty()
    }
}

/// `ps --group-by`: the selected processes summed per application.
pub struct GroupListing {
    /// What `--json` prints: one object per group.
    pub document: GroupDocument,
    /// What the groups are keyed by (`name`, `user`, `unit`, `container`, `runtime`).
    pub by: &'static str,
    /// The PSS sums are shown (`--pss`).
    pub pss: bool,
    /// The groups in the same order as `document.groups`.
    pub groups: Vec<GroupRow>,
}

/// One application's totals.
#[derive(Debug, Clone, Default)]
pub struct GroupRow {
    /// The key in JSON (a full container ID); `None` for processes without one (no unit).
    pub key: Option<String>,
    /// The key in tables (a container's engine and short ID).
    pub label: String,
    pub processes: u64,
    pub cpu_percent: f64,
    pub rss_bytes: u64,
    pub pss_bytes: u64,
    pub threads: u64,
    pub fds: u64,
    pub pids: Vec<u32>,
    /// How many processes' value of each field could not be read (left out of its sum).
    pub unavailable: std::collections::BTreeMap<&'static str, u64>,
}

/// The members of `ps --group-by … --json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GroupDocument {
    pub groups: Vec<Map<String, Json>>,
    /// Processes that exited during the listing.
    pub vanished: usize,
}

impl Payload for GroupListing {
    const COMMAND: &'static str = "ps";
    type Document = GroupDocument;
    type Row = Map<String, Json>;

    fn document(&self) -> &GroupDocument {
        &self.document
    }

    fn rows(&self) -> Option<&[Map<String, Json>]> {
        Some(&self.document.groups)
    }

    /// Every system has processes: no group means a filter matched nothing.
    fn partial(&self) -> bool {
        self.groups.is_empty()
    }
}
