//! Snapshot streams on stdout: a table per snapshot (with top's summary lines in
//! `top --batch`), or with `--ndjson` one object per process per snapshot, stamped with the
//! snapshot's time and carrying the interval's rates.

use serde_json::{Map, Value as Json};

use crate::columns::value;
use crate::model::machine::Machine;
use crate::render::escape::Escaped;
use crate::render::table::{self, Align, Style, Text};
use crate::render::tui::header;
use crate::render::tui::snapshot::{Snapshot, TopRow};
use crate::render::tui::view::View;

/// One snapshot as the printer gets it: the rows in view order, and the machine's figures
/// when asked for.
pub struct Frame<'a> {
    pub snapshot: &'a Snapshot,
    pub view: &'a View,
    pub machine: Option<&'a Machine>,
}

/// One snapshot as a table, preceded by a time line (and the machine's summary lines).
pub fn table(frame: &Frame, style: &Style) -> String {
    let mut out = String::new();
    if let Some(machine) = frame.machine {
        for line in header::lines(machine, frame.snapshot) {
            out.push_str(&line);
            out.push('\n');
        }
    } else {
        out.push_str(&format!(
            "# {}\n",
            crate::render::units::date_time(frame.snapshot.taken_unix)
        ));
    }
    let view = frame.view;
    let headers: Vec<(&str, Align)> = view
        .columns
        .iter()
        .map(|c| {
            let align = if c.kind.is_numeric() {
                Align::Right
            } else {
                Align::Left
            };
            (c.header, align)
        })
        .collect();
    let tree_column = ["cmd", "name"]
        .iter()
        .find_map(|name| view.columns.iter().position(|c| c.name == *name));
    let rows = view
        .visible
        .iter()
        .map(|v| {
            let row = &frame.snapshot.rows[v.index];
            row.cells
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    let text = value::table_text(cell, frame.snapshot.taken_unix);
                    if Some(i) != tree_column || v.depth == 0 {
                        return Text::plain(text);
                    }
                    // Indented under its parent, as `ps --tree` draws it.
                    let mut indented = Escaped::text(&"  ".repeat(v.depth - 1));
                    indented.push(&Escaped::literal("\\_ "));
                    indented.push(&text);
                    Text::plain(indented)
                })
                .collect()
        })
        .collect();
    out.push_str(&table::render(&headers, rows, *style));
    out.push('\n');
    out
}

/// One snapshot as NDJSON: a line per process.
pub fn ndjson(frame: &Frame) -> String {
    let mut out = String::new();
    for v in &frame.view.visible {
        let object = row_json(frame, &frame.snapshot.rows[v.index]);
        out.push_str(&serde_json::to_string(&Json::Object(object)).unwrap_or_default());
        out.push('\n');
    }
    out
}

fn row_json(frame: &Frame, row: &TopRow) -> Map<String, Json> {
    let snapshot = frame.snapshot;
    let mut object = Map::new();
    let mut unavailable = Map::new();
    object.insert("snapshot".into(), Json::from(round3(snapshot.taken_unix)));
    object.insert(
        "interval_seconds".into(),
        snapshot.interval_seconds.map(round3).into(),
    );
    object.insert("pid".into(), Json::from(row.pid));
    if frame.view.threads {
        object.insert("tid".into(), Json::from(row.tid));
    }
    for (column, cell) in frame.view.columns.iter().zip(&row.cells) {
        value::put_json(&mut object, &mut unavailable, column.json_key, cell);
    }
    let rates = row.rates;
    for (key, rate) in [
        ("cpu_percent", rates.cpu_percent),
        ("ctxt_switches_per_second", rates.ctxt_switches_per_second),
        ("read_bytes_per_second", rates.read_bytes_per_second),
        ("write_bytes_per_second", rates.write_bytes_per_second),
        ("rchar_per_second", rates.rchar_per_second),
        ("wchar_per_second", rates.wchar_per_second),
    ] {
        object.insert(key.into(), rate.map(round3).into());
    }
    if !unavailable.is_empty() {
        object.insert("unavailable".into(), Json::Object(unavailable));
    }
    object
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
