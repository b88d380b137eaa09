//! The `ps --group-by` table and the schema of one group in `ps --json`.

use serde_json::Value as Json;

use crate::model::listing::GroupListing;
use crate::render::table::{self, Align, Text};
use crate::render::{Sheet, Style};
use crate::text::escape::Escaped;
use crate::text::units;

impl Sheet for GroupListing {
    fn table(&self, style: &Style) -> String {
        if self.groups.is_empty() {
            return String::new();
        }
        let header = self.by.to_ascii_uppercase();
        let mut headers = vec![
            (header.as_str(), Align::Left),
            ("PROCS", Align::Right),
            ("%CPU", Align::Right),
            ("RSS", Align::Right),
        ];
        if self.pss {
            headers.push(("PSS", Align::Right));
        }
        headers.extend([("THR", Align::Right), ("FDS", Align::Right)]);
        let rows = self
            .groups
            .iter()
            .map(|g| {
                let mut cells = vec![
                    Text::plain(Escaped::text(&g.label)),
                    Text::plain(g.processes.to_string()),
                    Text::plain(units::percent(g.cpu_percent)),
                    Text::plain(units::bytes(g.rss_bytes)),
                ];
                if self.pss {
                    cells.push(Text::plain(units::bytes(g.pss_bytes)));
                }
                cells.push(Text::plain(g.threads.to_string()));
                cells.push(Text::plain(g.fds.to_string()));
                cells
            })
            .collect();
        table::render(&headers, rows, *style)
    }

    fn notes(&self) -> Vec<String> {
        let missing: u64 = self
            .groups
            .iter()
            .flat_map(|g| g.unavailable.values())
            .sum();
        if missing == 0 {
            return Vec::new();
        }
        vec![format!(
            "{missing} values could not be read (denied or exited) and are left out of the sums; JSON: unavailable_counts"
        )]
    }
}

/// One `--group-by` row.
pub fn row_schema() -> Json {
    let count = serde_json::json!({"type": "integer", "minimum": 0});
    serde_json::json!({
        "type": "object",
        "properties": {
            "group_by": {"enum": ["name", "user", "unit", "container", "runtime"]},
            "key": {"type": ["string", "null"], "description": "the name, user, unit, full container ID or runtime; null for processes without one"},
            "processes": count,
            "cpu_percent": {"type": "number", "description": "sum of lifetime CPU% (of one core)"},
            "rss_bytes": count,
            "pss_bytes": {"type": "integer", "minimum": 0, "description": "with --pss"},
            "threads": count,
            "fds": count,
            "pids": {"type": "array", "items": {"type": "integer"}},
            "unavailable_counts": {"type": "object", "additionalProperties": {"type": "integer"}, "description": "how many processes' value of a field could not be read (left out of its sum)"}
        },
        "required": ["group_by", "key", "processes", "cpu_percent", "rss_bytes", "threads", "fds", "pids"],
        "additionalProperties": false
    })
}
