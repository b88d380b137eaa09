//! A column value and its three faces: table text, JSON value, and sort order.

use std::cmp::Ordering;

use serde_json::{Map, Value as Json};

use crate::analyze::placement::ContainerInfo;
use crate::collect::Field;
use crate::model::runtime::RuntimeInfo;
use crate::model::text::{lossless, lossless_list};
use crate::text::escape::Escaped;
use crate::text::units;

/// What a column holds; decides alignment, table format and JSON schema type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A whole number (PID, count, nice).
    Integer,
    /// A size in bytes (`rss_bytes`).
    Bytes,
    /// A percentage of one CPU or of total memory.
    Percent,
    /// CPU time in seconds.
    CpuSeconds,
    /// Elapsed seconds (age).
    Duration,
    /// A point in time, seconds since the epoch.
    Timestamp,
    /// Text from the kernel that may hold any byte (name, path).
    RawText,
    /// Short ASCII text (state, tty, user name).
    Label,
    /// A list of arguments.
    Argv,
    /// A recognised runtime: an object in JSON, its label in tables.
    Runtime,
    /// A container: an object in JSON (full ID), engine and short ID in tables.
    Container,
}

impl Kind {
    /// Numbers align right, text left.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Self::Integer
                | Self::Bytes
                | Self::Percent
                | Self::CpuSeconds
                | Self::Duration
                | Self::Timestamp
        )
    }

    /// The JSON Schema fragment for a value of this kind (always nullable: a field can be
    /// unavailable).
    pub fn schema(self) -> Json {
        match self {
            Self::Integer | Self::Bytes => serde_json::json!({"type": ["integer", "null"]}),
            Self::Percent | Self::CpuSeconds | Self::Duration | Self::Timestamp => {
                serde_json::json!({"type": ["number", "null"]})
            }
            Self::RawText | Self::Label => serde_json::json!({"type": ["string", "null"]}),
            Self::Argv => {
                serde_json::json!({"type": ["array", "null"], "items": {"type": "string"}})
            }
            // The definition is put in the document's `$defs` by [`schema_defs`].
            Self::Runtime => {
                serde_json::json!({"anyOf": [{"$ref": "#/$defs/RuntimeInfo"}, {"type": "null"}]})
            }
            Self::Container => {
                serde_json::json!({"anyOf": [{"$ref": "#/$defs/ContainerInfo"}, {"type": "null"}]})
            }
        }
    }

    /// The definitions the schema fragment refers to, for the document's `$defs`.
    pub fn schema_defs(self) -> Map<String, Json> {
        let mut defs = Map::new();
        let (name, mut schema) = match self {
            Self::Runtime => ("RuntimeInfo", schema_of::<RuntimeInfo>()),
            Self::Container => ("ContainerInfo", schema_of::<ContainerInfo>()),
            _ => return defs,
        };
        if let Some(object) = schema.as_object_mut() {
            object.remove("$schema");
            if let Some(Json::Object(nested)) = object.remove("$defs") {
                defs.extend(nested);
            }
        }
        defs.insert(name.into(), schema);
        defs
    }

    /// True when the JSON form may carry an extra `<key>_b64` member.
    pub fn has_lossless_form(self) -> bool {
        matches!(self, Self::RawText | Self::Argv)
    }
}

/// The value of one cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Integer(i64),
    Bytes(u64),
    Percent(f64),
    CpuSeconds(f64),
    Duration(f64),
    Timestamp(f64),
    Text(Vec<u8>),
    Label(String),
    /// A recognised runtime (the same object `show` and `threads` give).
    Runtime(Box<RuntimeInfo>),
    /// The container a process runs in.
    Container(Box<ContainerInfo>),
    /// A number with its own table text (`etime` 01:02:03, `lstart` as a date).
    Number {
        value: f64,
        text: String,
    },
    /// Arguments; `fallback` is what a table shows when there are none (`[kthreadd]`).
    Argv {
        argv: Vec<Vec<u8>>,
        fallback: Option<String>,
        /// Arguments were left out (too many, or too many bytes): `<key>_truncated` in JSON.
        truncated: bool,
        /// The exact `cmdline` bytes, when asked for (`--raw-cmdline`): `cmdline_b64`.
        raw: Option<Vec<u8>>,
    },
    /// Not applicable (no controlling terminal): `?` in tables, `null` in JSON.
    Absent,
    /// Nothing to show (no runtime recognised): blank in tables, `null` in JSON.
    Empty,
}

/// What a table shows for a cell, given "now" for start times; escaped.
pub fn table_text(cell: &Field<Value>, now_unix: f64) -> Escaped {
    let Ok(value) = cell else {
        return Escaped::text("-");
    };
    match value {
        Value::Integer(n) => Escaped::text(&n.to_string()),
        Value::Bytes(n) => Escaped::text(&units::bytes(*n)),
        Value::Percent(p) => Escaped::text(&units::percent(*p)),
        Value::CpuSeconds(s) => Escaped::text(&units::cpu_time(*s)),
        Value::Duration(s) => Escaped::text(&units::age(*s)),
        Value::Timestamp(t) => Escaped::text(&units::start_time(*t, now_unix)),
        Value::Text(bytes) => Escaped::bytes(bytes),
        Value::Label(text) => Escaped::text(text),
        Value::Runtime(info) => Escaped::text(&info.label()),
        Value::Container(info) => Escaped::text(&info.label()),
        Value::Number { text, .. } => Escaped::text(text),
        Value::Argv { argv, fallback, .. } => match (argv.is_empty(), fallback) {
            (true, Some(fallback)) => Escaped::text(fallback),
            _ => Escaped::join(argv.iter().map(|arg| Escaped::bytes(arg)), " "),
        },
        Value::Absent => Escaped::text("?"),
        Value::Empty => Escaped::default(),
    }
}

/// Writes a cell into a JSON object under `key` (plus `<key>_b64` for non-UTF-8 bytes), or
/// records why it is unavailable.
pub fn put_json(
    object: &mut Map<String, Json>,
    unavailable: &mut Map<String, Json>,
    key: &str,
    cell: &Field<Value>,
) {
    let value = match cell {
        Err(why) => {
            unavailable.insert(key.to_owned(), Json::from(why.as_str()));
            Json::Null
        }
        Ok(Value::Integer(n)) => Json::from(*n),
        Ok(Value::Bytes(n)) => Json::from(*n),
        Ok(Value::Percent(x) | Value::CpuSeconds(x) | Value::Duration(x) | Value::Timestamp(x)) => {
            Json::from(round2(*x))
        }
        Ok(Value::Label(text)) => Json::from(text.as_str()),
        Ok(Value::Runtime(info)) => serde_json::to_value(info).unwrap_or(Json::Null),
        Ok(Value::Container(info)) => serde_json::to_value(info).unwrap_or(Json::Null),
        Ok(Value::Number { value, .. }) => Json::from(round2(*value)),
        Ok(Value::Text(bytes)) => {
            let (text, exact) = lossless(bytes);
            if let Some(exact) = exact {
                object.insert(format!("{key}_b64"), Json::from(exact));
            }
            Json::from(text)
        }
        Ok(Value::Argv {
            argv,
            truncated,
            raw,
            ..
        }) => {
            let (texts, exact) = lossless_list(argv);
            if let Some(exact) = exact {
                object.insert(format!("{key}_b64"), Json::from(exact));
            }
            if *truncated {
                object.insert(format!("{key}_truncated"), Json::from(true));
            }
            if let Some(raw) = raw {
                use base64::Engine;
                let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
                object.insert("cmdline_b64".to_owned(), Json::from(b64));
            }
            Json::from(texts)
        }
        Ok(Value::Absent | Value::Empty) => Json::Null,
    };
    object.insert(key.to_owned(), value);
}

/// Rounds to two decimals, as every JSON percentage and duration is.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Sort order: values of the same kind compare naturally; unavailable cells sort last.
pub fn compare(a: &Field<Value>, b: &Field<Value>) -> Ordering {
    match (a, b) {
        (Ok(a), Ok(b)) => compare_values(a, b),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => Ordering::Equal,
    }
}

fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (sort_number(a), sort_number(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => sort_bytes(a).cmp(&sort_bytes(b)),
    }
}

fn sort_number(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(n) => Some(*n as f64),
        Value::Bytes(n) => Some(*n as f64),
        Value::Percent(x) | Value::CpuSeconds(x) | Value::Duration(x) | Value::Timestamp(x) => {
            Some(*x)
        }
        Value::Number { value, .. } => Some(*value),
        _ => None,
    }
}

fn sort_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::Text(bytes) => bytes.clone(),
        Value::Label(text) => text.clone().into_bytes(),
        Value::Runtime(info) => info.label().into_bytes(),
        Value::Container(info) => info.id.clone().into_bytes(),
        Value::Argv { argv, fallback, .. } if argv.is_empty() => {
            fallback.clone().unwrap_or_default().into_bytes()
        }
        Value::Argv { argv, .. } => argv.join(&b' '),
        _ => Vec::new(),
    }
}

/// The schema of a serializable value type, via schemars, with `$defs` kept.
fn schema_of<T: schemars::JsonSchema>() -> Json {
    serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Unavailable;

    #[test]
    fn table_faces() {
        assert_eq!(table_text(&Ok(Value::Bytes(2048)), 0.0).as_str(), "2.0K");
        assert_eq!(
            table_text(&Err(Unavailable::PermissionDenied), 0.0).as_str(),
            "-"
        );
        assert_eq!(table_text(&Ok(Value::Absent), 0.0).as_str(), "?");
        let kthread = Value::Argv {
            argv: vec![],
            fallback: Some("[kthreadd]".into()),
            truncated: false,
            raw: None,
        };
        assert_eq!(table_text(&Ok(kthread), 0.0).as_str(), "[kthreadd]");
        let argv = Value::Argv {
            argv: vec![b"sleep".to_vec(), b"1\n".to_vec()],
            fallback: None,
            truncated: false,
            raw: None,
        };
        assert_eq!(table_text(&Ok(argv), 0.0).as_str(), "sleep 1\\n");
    }

    #[test]
    fn json_faces_keep_bytes_and_reasons() {
        let mut object = Map::new();
        let mut unavailable = Map::new();
        put_json(
            &mut object,
            &mut unavailable,
            "name",
            &Ok(Value::Text(b"a\xff".to_vec())),
        );
        put_json(
            &mut object,
            &mut unavailable,
            "exe",
            &Err(Unavailable::PermissionDenied),
        );
        put_json(
            &mut object,
            &mut unavailable,
            "cpu_percent",
            &Ok(Value::Percent(1.23456)),
        );
        assert_eq!(object["name"], "a\u{fffd}");
        assert_eq!(object["name_b64"], "Yf8=");
        assert_eq!(object["exe"], Json::Null);
        assert_eq!(unavailable["exe"], "permission_denied");
        assert_eq!(object["cpu_percent"], 1.23);
    }

    #[test]
    fn unavailable_sorts_last() {
        let mut cells = [
            Err(Unavailable::Gone),
            Ok(Value::Integer(5)),
            Ok(Value::Integer(2)),
        ];
        cells.sort_by(compare);
        assert_eq!(cells[0], Ok(Value::Integer(2)));
        assert!(cells[2].is_err());
    }
}
