//! The `ps` table, its stderr notes and the schema of `ps --json` (built from the column
//! registry).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};
use serde_json::{Map, Value as Json};

use crate::columns::packed::PackedCells;
use crate::columns::{self, COLUMNS, Column, Value, value};
use crate::model::Unavailable;
use crate::render::json;
use crate::render::ps_groups::row_schema as group_row_schema;
use crate::render::table::{self, Align, Fit, Text, Tone};
use crate::render::{Sheet, Style};
use crate::text::escape::Escaped;

/// The listing of `ps`, with the column registry's types.
pub type PsReport = crate::model::listing::Listing<Column, PackedCells>;

type Field<T> = Result<T, Unavailable>;

impl PsReport {
    /// The column that shows the tree's indentation: the command, else the name.
    fn tree_column(&self) -> Option<&'static str> {
        ["cmd", "name"]
            .into_iter()
            .find(|name| self.columns.iter().any(|c| c.name == *name))
    }

    /// Counts of unavailable cells by reason and column, for the footer.
    fn unavailable_summary(&self) -> BTreeMap<Unavailable, (usize, Vec<&'static str>)> {
        let mut summary: BTreeMap<Unavailable, (usize, Vec<&'static str>)> = BTreeMap::new();
        for row in &self.rows {
            let mut counted = Vec::new();
            for (index, why) in row.cells.reasons() {
                let Some(column) = self.columns.get(index) else {
                    continue;
                };
                let entry = summary.entry(why).or_default();
                if !entry.1.contains(&column.header) {
                    entry.1.push(column.header);
                }
                if !counted.contains(&why) {
                    counted.push(why);
                    entry.0 += 1;
                }
            }
        }
        summary
    }
}

impl Sheet for PsReport {
    fn table(&self, style: &Style) -> String {
        if self.rows.is_empty() {
            return String::new();
        }
        let columns: Vec<table::Column> = self
            .columns
            .iter()
            .map(|c| {
                table::Column::new(c.header, Align::for_numeric(c.kind.is_numeric()), Fit::Keep)
            })
            .collect();
        let tree_column = self.tree_column();
        // Each cell is formatted when the table measures and writes it, never kept.
        table::render_cells(&columns, self.rows.len(), *style, |row, column| {
            let row = &self.rows[row];
            let (column, cell) = (self.columns.get(column)?, row.cells.get(column)?);
            let mut text = value::table_text(&cell, self.now_unix);
            if let Some(depth) = row.depth.filter(|_| Some(column.name) == tree_column)
                && depth > 0
            {
                let mut indented = Escaped::text(&"  ".repeat(depth - 1));
                indented.push(&Escaped::literal("\\_ "));
                indented.push(&text);
                text = indented;
            }
            Some(Cow::Owned(Text::toned(text, tone(column, &cell))))
        })
    }

    /// Each process's object is built, written and dropped in turn: a JSON tree of 10000
    /// processes (twice, for the document and its envelope) took more memory than the rows.
    fn json_line(&self) -> Option<String> {
        let members = PsMembers {
            processes: RowStream(self),
            vanished: self.vanished,
        };
        let size_hint = self.rows.len() * 64 * self.columns.len().max(1);
        Some(json::document_line("ps", &members, &self.errors, size_hint))
    }

    fn notes(&self) -> Vec<String> {
        let mut notes: Vec<String> = self
            .unavailable_summary()
            .into_iter()
            .map(|(why, (rows, headers))| {
                let hint = if why == Unavailable::PermissionDenied {
                    format!("; {}", self.denied_hint)
                } else {
                    String::new()
                };
                // With -L each row is a thread.
                let (one, many) = if self.threads {
                    ("thread", "threads")
                } else {
                    ("process", "processes")
                };
                format!(
                    "- means unavailable: {why} ({} {}: {}){hint}",
                    rows,
                    plural(rows, one, many),
                    headers.join(", ")
                )
            })
            .collect();
        notes.extend(self.errors.iter().map(|error| error.message.clone()));
        if self.vanished > 0 {
            notes.push(format!(
                "{} {} exited during the listing and {} not shown",
                self.vanished,
                plural(self.vanished, "process", "processes"),
                plural(self.vanished, "is", "are")
            ));
        }
        notes
    }
}

/// The members of `ps --json`, in [`crate::model::listing::ListingDocument`]'s order.
#[derive(Serialize)]
struct PsMembers<'a> {
    processes: RowStream<'a>,
    vanished: usize,
}

/// The rows as JSON objects, each made only while it is written.
struct RowStream<'a>(&'a PsReport);

impl Serialize for RowStream<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let report = self.0;
        let mut sequence = serializer.serialize_seq(Some(report.rows.len()))?;
        for row in &report.rows {
            sequence.serialize_element(&(report.row_json)(&report.columns, report.threads, row))?;
        }
        sequence.end()
    }
}

fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}

fn tone(column: &Column, cell: &Field<Value>) -> Tone {
    match cell {
        Err(_) => Tone::Dim,
        Ok(Value::Label(state)) if matches!(column.name, "state" | "stat") => {
            match state.get(..1).unwrap_or_default() {
                "R" => Tone::Good,
                "D" => Tone::Warn,
                "Z" | "X" => Tone::Bad,
                _ => Tone::Plain,
            }
        }
        _ => Tone::Plain,
    }
}

/// The text of `-o help`: every column with its header, JSON key and meaning.
pub fn column_help() -> String {
    let rows = COLUMNS
        .iter()
        .map(|c| {
            vec![
                Text::plain(c.name),
                Text::plain(c.header),
                Text::plain(c.json_key),
                Text::plain(c.about),
            ]
        })
        .collect();
    table::help(
        &[
            ("COLUMN", Align::Left),
            ("HEADER", Align::Left),
            ("JSON KEY", Align::Left),
            ("MEANING", Align::Left),
        ],
        rows,
    )
}

/// The JSON Schema of `ps --json`, built from the column registry.
pub fn schema() -> Json {
    let mut properties = Map::new();
    let mut defs = Map::new();
    properties.insert(
        "pid".into(),
        serde_json::json!({"type": "integer", "minimum": 1}),
    );
    for column in COLUMNS {
        let mut schema = column.kind.schema();
        defs.extend(column.kind.schema_defs());
        schema["description"] = Json::from(column.about);
        properties.insert(column.json_key.into(), schema);
        if column.kind.has_lossless_form() {
            let b64 = if column.kind == columns::Kind::Argv {
                serde_json::json!({"type": "array", "items": {"type": "string"}, "description": "exact bytes (base64) when not UTF-8"})
            } else {
                serde_json::json!({"type": "string", "description": "exact bytes (base64) when not UTF-8"})
            };
            properties.insert(format!("{}_b64", column.json_key), b64);
        }
        if column.kind == columns::Kind::Argv {
            properties.insert(
                format!("{}_truncated", column.json_key),
                serde_json::json!({"type": "boolean", "description": "present (true) when arguments were left out: more than 4096, or more than 256 KiB"}),
            );
            properties.insert(
                "cmdline_b64".into(),
                serde_json::json!({"type": "string", "description": "the exact cmdline bytes (base64, at most 256 KiB), with --raw-cmdline"}),
            );
        }
    }
    let reasons = serde_json::to_value(schemars::schema_for!(Unavailable)).unwrap_or_default();
    properties.insert(
        "unavailable".into(),
        serde_json::json!({"type": "object", "description": "why a null field has no value", "additionalProperties": {"$ref": "#/$defs/Unavailable"}}),
    );
    let mut reason_def = reasons;
    if let Some(object) = reason_def.as_object_mut() {
        object.remove("$schema");
    }
    let env_values = serde_json::json!({"type": ["string", "null"], "description": "-o env:NAME: the variable's starting value (env_NAME), <redacted> for secret-looking names, with env_NAME_b64 for non-UTF-8 bytes"});
    let row = serde_json::json!({"type": "object", "properties": properties, "patternProperties": {"^env_": env_values}, "required": ["pid"], "additionalProperties": false});
    let payload = serde_json::json!({
        "properties": {
            "processes": {"type": "array", "items": row},
            "groups": {"type": "array", "items": group_row_schema(), "description": "with --group-by: one object per application (instead of processes)"},
            "vanished": {"type": "integer", "minimum": 0, "description": "processes that exited during the listing"}
        },
        "required": ["vanished"],
        "oneOf": [{"required": ["processes"]}, {"required": ["groups"]}],
        "$defs": {"Unavailable": reason_def}
    });
    let mut payload = payload;
    if let Some(all) = payload["$defs"].as_object_mut() {
        all.extend(defs);
    }
    json::document_schema("ps", "procscope ps --json", payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErrorEntry;
    use crate::model::Payload;
    use crate::model::listing::ListingRow;
    use std::sync::OnceLock;

    /// A row's JSON object as `commands::ps` makes it (render does not import commands).
    fn row_json(
        columns: &[&'static Column],
        threads: bool,
        row: &ListingRow<PackedCells>,
    ) -> Map<String, Json> {
        let mut object = Map::new();
        let mut unavailable = Map::new();
        object.insert("pid".into(), Json::from(row.pid));
        if threads {
            object.insert("tid".into(), Json::from(row.tid));
        }
        for (column, cell) in columns.iter().zip(row.cells.iter()) {
            value::put_json(&mut object, &mut unavailable, column.json_key, &cell);
        }
        if !unavailable.is_empty() {
            object.insert("unavailable".into(), Json::Object(unavailable));
        }
        object
    }

    fn report(rows: Vec<ListingRow<PackedCells>>, errors: Vec<ErrorEntry>) -> PsReport {
        let columns =
            ["pid", "name", "cpu", "rss", "cmd"].map(|name| columns::lookup::find(name).unwrap());
        PsReport {
            document: OnceLock::new(),
            row_json,
            vanished: 2,
            columns: columns.to_vec(),
            rows,
            threads: false,
            now_unix: 0.0,
            filtered: true,
            errors,
            denied_hint: "",
        }
    }

    fn row(pid: u32, name: &[u8], rss: Field<Value>) -> ListingRow<PackedCells> {
        let argv = Value::Argv {
            argv: [name.to_vec(), b"--flag=\xfe".to_vec()].into(),
            fallback: None,
            truncated: pid == 7,
            raw: None,
        };
        ListingRow {
            pid,
            tid: pid,
            ppid: Some(1),
            depth: None,
            cells: PackedCells::pack([
                Ok(Value::Integer(pid.into())),
                Ok(Value::Text(name.to_vec())),
                Ok(Value::Percent(1.0 / 3.0)),
                rss,
                Ok(argv),
            ]),
        }
    }

    #[test]
    fn streamed_json_is_the_documents_bytes() {
        let error = ErrorEntry {
            pid: Some(9),
            reason: Unavailable::Gone,
            message: "no process with PID 9".into(),
        };
        let rows = vec![
            row(7, b"sleep", Ok(Value::Bytes(4096))),
            row(8, b"n\xffme\n", Err(Unavailable::PermissionDenied)),
        ];
        for (rows, errors) in [(rows, vec![error]), (Vec::new(), Vec::new())] {
            let report = report(rows, errors);
            let members = json::members(Payload::document(&report));
            let expected =
                super::super::to_json_line(&json::document("ps", members, &report.errors));
            assert_eq!(
                Sheet::json_line(&report).as_deref(),
                Some(expected.as_str())
            );
        }
    }
}
