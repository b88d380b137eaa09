//! Turning payloads into text: one file per payload draws its table or sheet (`ps.rs`,
//! `show.rs`, `threads.rs`, ...), and each output format is one exporter over every payload
//! (`table.rs`, `json.rs`, `ndjson.rs`). Render reads `model` payloads only: it must not
//! import `commands`, `collect` or `analyze`.
//!
//! Adding a format is one file plus one enum arm: write the exporter file (a
//! `pub fn export(report: &dyn Report, style: &Style) -> Option<String>`, like `ndjson.rs`)
//! and add its arm to [`Format`] (the variant and its line in [`Format::exporter`]); every
//! payload then prints in it. (The flag that picks it belongs to the cli.)

pub mod fds;
pub mod fit;
pub mod json;
pub mod kill;
pub mod mem;
pub mod ndjson;
pub mod openmetrics;
pub mod ports;
pub mod profile;
pub mod ps;
pub mod ps_groups;
pub mod sheet;
pub mod show;
pub mod show_security;
pub mod table;
pub mod threads;
pub mod tree;
pub mod tui;
pub mod watch;
pub mod who;

use serde_json::{Map, Value as Json};

use crate::exit::Exit;
pub use crate::model::ErrorEntry;
use crate::model::Payload;
pub use table::Style;

/// What a command produced, before it is printed in the chosen format: what the exporters
/// read. Every [`Sheet`] payload is a `Report`; a view outside the payload contract (such
/// as the profile view) may implement it by hand.
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
    /// The whole `--json` line written straight from the payload (see [`Sheet::json_line`]);
    /// `None` builds it from [`Report::json`].
    fn json_line(&self) -> Option<String> {
        None
    }
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

/// How a payload looks for people: its table or sheet and its stderr hints. Implemented
/// once per payload, in that payload's file of this module.
pub trait Sheet: Payload {
    /// The table (or sheet) for people.
    fn table(&self, style: &Style) -> String;
    /// The whole `--json` line, the same bytes as the document's, for a payload too large
    /// to copy into a JSON tree first (`ps` at 10000 processes); `None` uses the document.
    fn json_line(&self) -> Option<String> {
        None
    }
    /// Hints for stderr, shown with tables (such as what `-` means).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

impl<P: Sheet> Report for P {
    fn command(&self) -> &'static str {
        P::COMMAND
    }

    fn json(&self) -> Map<String, Json> {
        json::members(self.document())
    }

    fn ndjson(&self) -> Option<Vec<Json>> {
        self.rows().map(json::rows)
    }

    fn table(&self, style: &Style) -> String {
        Sheet::table(self, style)
    }

    fn json_line(&self) -> Option<String> {
        Sheet::json_line(self)
    }

    fn notes(&self) -> Vec<String> {
        Sheet::notes(self)
    }

    fn errors(&self) -> Vec<ErrorEntry> {
        Payload::errors(self).to_vec()
    }

    fn exit(&self) -> Exit {
        if self.partial() {
            Exit::Partial
        } else {
            Exit::Success
        }
    }
}

/// The output format of this run: each one an exporter over every report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Ndjson,
}

/// An exporter: the text of a report in one format, `None` when the format does not apply
/// (`--ndjson` on a command that is not a list).
pub type Exporter = fn(&dyn Report, &Style) -> Option<String>;

impl Format {
    /// The exporter of this format.
    pub fn exporter(self) -> Exporter {
        match self {
            Format::Table => table::export,
            Format::Json => json::export,
            Format::Ndjson => ndjson::export,
        }
    }
}

/// Renders a report in a format; `None` for `--ndjson` on a command that is not a list.
pub fn render(report: &dyn Report, format: Format, style: &Style) -> Option<String> {
    format.exporter()(report, style)
}

/// One JSON value on one line.
fn to_json_line(value: &Json) -> String {
    let mut line = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::report::{TreeReport, WhoReport};
    use crate::model::tree::TreePayload;
    use crate::model::who::WhoList;

    fn style() -> Style {
        Style {
            header: true,
            color: false,
            width: None,
        }
    }

    /// Every format comes from the payload: the envelope, the members, the rows, the exit.
    #[test]
    fn each_format_exports_any_payload() {
        let who = WhoReport {
            list: WhoList {
                mode: "paths".into(),
                files: Vec::new(),
                denied_processes: 0,
            },
        };
        let json = render(&who, Format::Json, &style()).unwrap();
        assert_eq!(
            json,
            format!(
                "{{\"schema_version\":{},\"command\":\"who\",\"mode\":\"paths\",\"files\":[],\"denied_processes\":0,\"errors\":[]}}\n",
                json::SCHEMA_VERSION
            )
        );
        assert_eq!(render(&who, Format::Ndjson, &style()).as_deref(), Some(""));
        assert_eq!(render(&who, Format::Table, &style()).as_deref(), Some(""));
        assert_eq!(who.exit(), Exit::Partial, "nobody holds the file");
        let tree = TreeReport {
            payload: TreePayload {
                ancestors: Vec::new(),
                tree: Vec::new(),
            },
            ascii: true,
        };
        assert_eq!(render(&tree, Format::Ndjson, &style()), None, "not a list");
        assert_eq!(tree.exit(), Exit::Success);
        let schema = json::payload_schema::<TreeReport>();
        assert_eq!(schema["properties"]["command"]["const"], "tree");
        assert!(schema["properties"]["tree"].is_object());
    }
}
