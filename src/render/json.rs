//! The JSON document every `--json` run prints: a versioned envelope around the payload.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value as Json};

use crate::model::ErrorEntry;
use crate::model::Payload;
use crate::render::{Report, Style, to_json_line};

/// Bumped when a field is renamed, retyped or removed; adding fields keeps it.
/// 2: `runtime` is one object everywhere (`ps -o runtime` gave a string; its `runtime`
/// member is now `name`).
/// 3: enum-typed values with published value sets (fd type, process kind, the keys of every
/// `unavailable` map, kill outcomes in snake_case, thread roles, code regions).
pub const SCHEMA_VERSION: u32 = 3;

/// Builds `{"schema_version": 1, "command": ..., <payload members>, "errors": [...]}`.
pub fn document(command: &str, payload: Map<String, Json>, errors: &[ErrorEntry]) -> Json {
    let mut document = Map::new();
    document.insert("schema_version".into(), Json::from(SCHEMA_VERSION));
    document.insert("command".into(), Json::from(command));
    document.extend(payload);
    document.insert(
        "errors".into(),
        serde_json::to_value(errors).unwrap_or_else(|_| Json::Array(Vec::new())),
    );
    Json::Object(document)
}

/// The document of a run that could not report on its named target: the envelope and
/// `errors`, without the payload member (the schemas allow that only with an error).
pub fn error_document(command: &str, error: ErrorEntry) -> String {
    let mut line = serde_json::to_string(&document(command, Map::new(), &[error]))
        .unwrap_or_else(|_| "null".into());
    line.push('\n');
    line
}

/// The envelope of [`document`] around payload members that serialize themselves.
#[derive(Serialize)]
struct Envelope<'a, M> {
    schema_version: u32,
    command: &'a str,
    #[serde(flatten)]
    members: &'a M,
    errors: &'a [ErrorEntry],
}

/// The same line as [`document`] gives (members in the same order), written straight from
/// `members` (a struct) without a JSON tree in between; `size_hint` bytes are reserved.
pub fn document_line<M: Serialize>(
    command: &str,
    members: &M,
    errors: &[ErrorEntry],
    size_hint: usize,
) -> String {
    let envelope = Envelope {
        schema_version: SCHEMA_VERSION,
        command,
        members,
        errors,
    };
    let mut line = Vec::with_capacity(size_hint);
    if serde_json::to_writer(&mut line, &envelope).is_err() {
        return "null\n".into();
    }
    line.push(b'\n');
    // serde_json writes UTF-8 only.
    String::from_utf8(line).unwrap_or_else(|_| "null\n".into())
}

/// The JSON Schema of a document whose payload members are described by `payload`
/// (an object schema with `properties` and `required`).
pub fn document_schema(command: &str, title: &str, payload: Json) -> Json {
    let error_schema = serde_json::to_value(schemars::schema_for!(ErrorEntry)).unwrap_or_default();
    let mut properties = Map::new();
    properties.insert(
        "schema_version".into(),
        serde_json::json!({"const": SCHEMA_VERSION}),
    );
    properties.insert("command".into(), serde_json::json!({"const": command}));
    properties.insert(
        "errors".into(),
        serde_json::json!({"type": "array", "items": {"$ref": "#/$defs/ErrorEntry"}}),
    );
    let mut required = vec![
        Json::from("schema_version"),
        Json::from("command"),
        Json::from("errors"),
    ];
    let mut defs = Map::new();
    if let Some(payload_defs) = payload.get("$defs").and_then(Json::as_object) {
        defs.extend(payload_defs.clone());
    }
    if let Some(error_defs) = error_schema.get("$defs").and_then(Json::as_object) {
        defs.extend(error_defs.clone());
    }
    let mut error_def = error_schema.clone();
    if let Some(object) = error_def.as_object_mut() {
        object.remove("$schema");
        object.remove("$defs");
    }
    defs.insert("ErrorEntry".into(), error_def);
    if let Some(payload_properties) = payload.get("properties").and_then(Json::as_object) {
        properties.extend(payload_properties.clone());
    }
    if let Some(payload_required) = payload.get("required").and_then(Json::as_array) {
        required.extend(payload_required.iter().cloned());
    }
    // The payload is required unless the run failed on its target and says so in `errors`.
    let payload_required: Vec<Json> = required.split_off(3);
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "properties": properties,
        "required": required,
        "anyOf": [
            {"required": payload_required},
            {"properties": {"errors": {"minItems": 1}}}
        ],
        "$defs": defs,
    })
}

/// The schema of a serializable payload struct, via schemars, with `$defs` kept.
pub fn schema_of<T: JsonSchema>() -> Json {
    serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default()
}

/// The members of a payload struct, for [`crate::render::Report::json`].
pub fn members<T: Serialize>(payload: &T) -> Map<String, Json> {
    match serde_json::to_value(payload) {
        Ok(Json::Object(map)) => map,
        _ => Map::new(),
    }
}

/// A payload under one key (`{"process": {...}}`).
pub fn member<T: Serialize>(key: &str, payload: &T) -> Map<String, Json> {
    let mut map = Map::new();
    map.insert(
        key.to_owned(),
        serde_json::to_value(payload).unwrap_or(Json::Null),
    );
    map
}

/// One JSON object per row, for [`crate::render::Report::ndjson`].
pub fn rows<T: Serialize>(rows: &[T]) -> Vec<Json> {
    rows.iter()
        .filter_map(|row| serde_json::to_value(row).ok())
        .collect()
}

/// The `--json` exporter: the versioned envelope around the report's members and errors.
pub fn export(report: &dyn Report, _style: &Style) -> Option<String> {
    if let Some(line) = report.json_line() {
        return Some(line);
    }
    let document = document(report.command(), report.json(), &report.errors());
    Some(to_json_line(&document))
}

/// The schema of a payload's `--json` document, from its [`Payload::Document`] type.
pub fn payload_schema<P: Payload>() -> Json {
    document_schema(
        P::COMMAND,
        &format!("procscope {} --json", P::COMMAND),
        schema_of::<P::Document>(),
    )
}
