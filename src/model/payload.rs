//! What every command's payload tells the output formats — the command it answers, its JSON
//! members, its one-a-line rows, the targets it could not report on — and nothing about how
//! any format looks (that is `render`'s).

use schemars::JsonSchema;
use serde::Serialize;

use crate::model::Unavailable;

/// A command's typed result. `render` turns it into every format: JSON, NDJSON and the
/// schema generically from [`Payload::Document`] and [`Payload::Row`], the table through the
/// payload's own file in `src/render/`.
pub trait Payload {
    /// The command name in the JSON envelope (`"command": "fds"`).
    const COMMAND: &'static str;
    /// The payload members of the JSON document: a struct whose fields are the members
    /// (`processes`, `process`, `threads`, ...).
    type Document: Serialize + JsonSchema;
    /// One `--ndjson` line; [`NotAList`] for a command that prints one document.
    type Row: Serialize;
    /// The members `--json` prints.
    fn document(&self) -> &Self::Document;
    /// The rows `--ndjson` prints one a line; `None` when the command is not a list.
    fn rows(&self) -> Option<&[Self::Row]> {
        None
    }
    /// Targets the command could not report on (the document's `errors`).
    fn errors(&self) -> &[ErrorEntry] {
        &[]
    }
    /// Whether the run answered only in part — nothing matched, or a named target failed —
    /// which exits with 1.
    fn partial(&self) -> bool {
        false
    }
}

/// The row type of a payload that is one document, not a list (no `--ndjson`).
#[derive(Debug, Clone, Copy, Serialize)]
pub enum NotAList {}

/// A target the command could not report on (gone, denied), listed in `errors`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ErrorEntry {
    /// The PID the error is about, if any.
    pub pid: Option<u32>,
    pub reason: Unavailable,
    pub message: String,
}
