//! Turning reports into text: tables for people, JSON and NDJSON for scripts.

pub mod escape;
pub mod fit;
pub mod json;
pub mod openmetrics;
pub mod profile;
pub mod sheet;
pub mod table;
pub mod tui;
pub mod units;
pub mod watch;

use serde_json::{Map, Value as Json};

use crate::exit::Exit;
pub use json::ErrorEntry;
pub use table::Style;

/// What a command produced, before it is printed in the chosen format.
pub trait Report {
    /// The command name in the JSON envelope.
    fn command(&self) -> &'static str;
    /// The payload members of the JSON document (e.g. `processes`), and any others.
    fn json(&self) -> Map<String, Json>;
    /// One object per row for `--ndjson`; `None` when the command is not a list.
    fn ndjson(&self) -> Option<Vec<Json>> {
        None
    }
    /// The table for people.
    fn table(&self, style: &Style) -> String;
    /// Hints for stderr, shown with tables (such as what `-` means).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
    /// Targets that could not be reported on.
    fn errors(&self) -> Vec<ErrorEntry> {
        Vec::new()
    }
    /// The exit code: success, or partial when nothing matched or a target failed.
    fn exit(&self) -> Exit;
}

/// The output format of this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Ndjson,
}

/// Renders a report in a format; `None` for `--ndjson` on a command that is not a list.
pub fn render(report: &dyn Report, format: Format, style: &Style) -> Option<String> {
    match format {
        Format::Table => Some(report.table(style)),
        Format::Json => {
            let document = json::document(report.command(), report.json(), &report.errors());
            Some(to_json_line(&document))
        }
        Format::Ndjson => report
            .ndjson()
            .map(|rows| rows.iter().map(to_json_line).collect()),
    }
}

fn to_json_line(value: &Json) -> String {
    let mut line = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    line.push('\n');
    line
}
