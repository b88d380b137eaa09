//! The `--ndjson` exporter: one JSON object a line for list payloads, no envelope.

use crate::render::{Report, Style, to_json_line};

/// The rows of a list report, one object a line; `None` for a one-document report.
pub fn export(report: &dyn Report, _style: &Style) -> Option<String> {
    report
        .ndjson()
        .map(|rows| rows.iter().map(to_json_line).collect())
}
