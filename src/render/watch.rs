//! Snapshot streams on stdout: a table per snapshot (with top's summary lines in
//! `top --batch`), or with `--ndjson` one object per process per snapshot, stamped with the
//! snapshot's time and carrying the interval's rates.

use std::cell::RefCell;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value as Json};

use crate::columns::value;
use crate::model::machine::Machine;
use crate::render::table::{self, Align, Style, Text};
use crate::render::tui::header;
use crate::render::tui::snapshot::{Rates, Snapshot, TopRow};
use crate::render::tui::view::View;
use crate::text::escape::Escaped;

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
            crate::text::units::date_time(frame.snapshot.taken_unix)
        ));
    }
    let view = frame.view;
    let headers: Vec<(&str, Align)> = view
        .columns
        .iter()
        .map(|c| (c.header, Align::for_numeric(c.kind.is_numeric())))
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

/// One snapshot as NDJSON: a line per process, each written straight from its row (no JSON
/// object is built per process).
pub fn ndjson(frame: &Frame) -> String {
    let mut out = Vec::with_capacity(frame.view.visible.len() * 256);
    let scratch = RefCell::new(Map::new());
    for v in &frame.view.visible {
        let row = RowJson {
            frame,
            row: &frame.snapshot.rows[v.index],
            scratch: &scratch,
        };
        if serde_json::to_writer(&mut out, &row).is_ok() {
            out.push(b'\n');
        }
    }
    // serde_json writes UTF-8 only.
    String::from_utf8(out).unwrap_or_default()
}

/// The rates every NDJSON object carries, after the columns.
const RATE_KEYS: [&str; 6] = [
    "cpu_percent",
    "ctxt_switches_per_second",
    "read_bytes_per_second",
    "write_bytes_per_second",
    "rchar_per_second",
    "wchar_per_second",
];

fn rate_values(rates: &Rates) -> [Option<f64>; 6] {
    [
        rates.cpu_percent,
        rates.ctxt_switches_per_second,
        rates.read_bytes_per_second,
        rates.write_bytes_per_second,
        rates.rchar_per_second,
        rates.wchar_per_second,
    ]
}

/// One process's NDJSON object: `snapshot`, `interval_seconds`, `pid` (and `tid` in thread
/// mode), the columns' members as `value::put_json` writes them, the rates, `unavailable`.
/// A key written twice keeps its first place: `pid`/`tid` columns repeat the row's own, and
/// the `cpu` column's `cpu_percent` carries the interval's rate.
struct RowJson<'a> {
    frame: &'a Frame<'a>,
    row: &'a TopRow,
    /// Reused for each cell's members.
    scratch: &'a RefCell<Map<String, Json>>,
}

impl Serialize for RowJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (snapshot, view, row) = (self.frame.snapshot, self.frame.view, self.row);
        let rates = rate_values(&row.rates);
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("snapshot", &round3(snapshot.taken_unix))?;
        map.serialize_entry("interval_seconds", &snapshot.interval_seconds.map(round3))?;
        map.serialize_entry("pid", &row.pid)?;
        if view.threads {
            map.serialize_entry("tid", &row.tid)?;
        }
        let mut rate_written = [false; RATE_KEYS.len()];
        let mut unavailable = Map::new();
        let mut scratch = self.scratch.borrow_mut();
        for (column, cell) in view.columns.iter().zip(&row.cells) {
            value::put_json(&mut scratch, &mut unavailable, column.json_key, cell);
            for (key, value) in scratch.iter() {
                if key == "pid" || (view.threads && key == "tid") {
                    continue;
                }
                match RATE_KEYS.iter().position(|k| k == key) {
                    Some(i) => {
                        map.serialize_entry(key, &rates[i].map(round3))?;
                        rate_written[i] = true;
                    }
                    None => map.serialize_entry(key, value)?,
                }
            }
            scratch.clear();
        }
        for (i, key) in RATE_KEYS.iter().enumerate() {
            if !rate_written[i] {
                map.serialize_entry(key, &rates[i].map(round3))?;
            }
        }
        if !unavailable.is_empty() {
            map.serialize_entry("unavailable", &unavailable)?;
        }
        map.end()
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::columns::{Value, lookup};
    use crate::model::Unavailable;
    use crate::render::tui::view::Visible;

    /// The object as a JSON map builds it (insertion order, a repeated key keeps its
    /// first place): what the streamed object must equal byte for byte.
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

    fn row(pid: u32, cells: Vec<Result<Value, Unavailable>>) -> TopRow {
        TopRow {
            pid,
            tid: pid + 1,
            cells,
            rates: Rates {
                cpu_percent: Some(12.3456),
                ctxt_switches_per_second: Some(3.0),
                read_bytes_per_second: None,
                ..Rates::default()
            },
            ..TopRow::default()
        }
    }

    #[test]
    fn streamed_objects_equal_the_json_maps() {
        let names = ["pid", "tid", "cpu", "name", "cmd", "rss"];
        let columns: Vec<_> = names.iter().map(|n| lookup::find(n).unwrap()).collect();
        let argv = Value::Argv {
            argv: vec![b"a\xffb".to_vec(), b"--x".to_vec()],
            fallback: None,
            truncated: true,
            raw: None,
        };
        let rows = vec![
            row(
                10,
                vec![
                    Ok(Value::Integer(10)),
                    Ok(Value::Integer(11)),
                    Ok(Value::Percent(50.0)),
                    Ok(Value::Text(b"n\xfe".to_vec())),
                    Ok(argv),
                    Err(Unavailable::PermissionDenied),
                ],
            ),
            row(
                20,
                vec![
                    Ok(Value::Integer(20)),
                    Ok(Value::Integer(21)),
                    Err(Unavailable::Gone),
                    Ok(Value::Text(b"plain".to_vec())),
                    Err(Unavailable::ReadError),
                    Ok(Value::Bytes(4096)),
                ],
            ),
        ];
        let snapshot = Snapshot {
            taken_unix: 1_800_000_000.123_456,
            interval_seconds: Some(1.000_4),
            rows,
            ..Snapshot::default()
        };
        for threads in [false, true] {
            let mut view = View::new(columns.clone(), 0, false, Duration::from_secs(1));
            view.threads = threads;
            view.visible = vec![
                Visible { index: 1, depth: 0 },
                Visible { index: 0, depth: 1 },
            ];
            let frame = Frame {
                snapshot: &snapshot,
                view: &view,
                machine: None,
            };
            let expected: String = view
                .visible
                .iter()
                .map(|v| {
                    let object = row_json(&frame, &snapshot.rows[v.index]);
                    serde_json::to_string(&Json::Object(object)).unwrap() + "\n"
                })
                .collect();
            assert_eq!(ndjson(&frame), expected);
        }
    }
}
