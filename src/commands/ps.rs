//! `procscope ps`: list processes with the columns asked for, reading only what they need.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json};

use crate::analyze::filter::FilterProcess;
use crate::analyze::runtime::ClusterRole;
use crate::analyze::tree::Forest;
use crate::collect::scan::{Scan, scan};
use crate::collect::{Field, Needs, ProcFs, ProcessSample, SystemInfo, UserNames};
use crate::columns::{self, COLUMNS, Column, Context, Value, value};
use crate::exit::{self, Exit};
use crate::model::Unavailable;
use crate::query::ProcessFilter;
use crate::render::escape::Escaped;
use crate::render::table::{self, Align, Text, Tone};
use crate::render::{ErrorEntry, Report, Style};

/// The listing, ready to render.
pub struct PsReport {
    columns: Vec<&'static Column>,
    threads: bool,
    rows: Vec<Row>,
    now_unix: f64,
    vanished: usize,
    filtered: bool,
    /// Named PIDs (`--pid`) that could not be listed.
    errors: Vec<ErrorEntry>,
    /// What to suggest for denied fields.
    denied_hint: &'static str,
}

struct Row {
    pid: u32,
    tid: u32,
    ppid: Option<u32>,
    /// Depth in the process tree, with `--tree`.
    depth: Option<usize>,
    cells: Vec<Field<Value>>,
}

// moved (issue 14): re-export until merge
pub type PsQuery = crate::query::ps::PsQuery<Column>;

/// Rejects a PID above this system's pid_max (it can never exist here).
// moved (issue 14): re-export until merge (the check is `query::pid::check_pid_max`)
pub fn check_pid_max(pid: u32, system: &SystemInfo) -> anyhow::Result<()> {
    crate::query::pid::check_pid_max(pid, system.pid_max).map_err(exit::usage)
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

/// The PIDs to read: every visible process the filter does not reject by number alone.
pub fn candidate_pids(procfs: &ProcFs, filter: &ProcessFilter) -> anyhow::Result<Vec<u32>> {
    Ok(procfs
        .pids()
        .map_err(|err| anyhow::anyhow!("cannot list {}: {err}", procfs.root().display()))?
        .into_iter()
        .filter(|&pid| !filter.rejects_pid(pid))
        .collect())
}

/// Runs the listing.
pub fn run(
    query: &PsQuery,
    procfs: &ProcFs,
    system: &SystemInfo,
    users: &UserNames,
) -> anyhow::Result<PsReport> {
    let needs = query.needs();
    let mut pids = candidate_pids(procfs, &query.filter)?;
    let mut vanished = 0;
    let wants_net = query
        .columns
        .iter()
        .any(|c| columns::registry::NET_COLUMNS.contains(&c.name));
    if wants_net && query.interval.is_none() {
        return Err(exit::usage(
            "net_tx, net_rx and net_shared are rates: add --interval (e.g. --interval 1s)",
        ));
    }
    let net_before = wants_net.then(|| (crate::collect::net::tcp_byte_counters(), Instant::now()));
    let sampled_cpu = match query.interval {
        Some(interval) => {
            let (cpu, gone) = sample_cpu(procfs, query, &pids, interval, system);
            vanished += gone;
            pids = cpu.keys().map(|&(pid, _)| pid).collect();
            pids.sort_unstable();
            pids.dedup();
            Some(cpu)
        }
        None => None,
    };
    let sampled_net = net_before.map(|(before, started)| sample_net(procfs, &before, started));
    let context = Context {
        system,
        users,
        sampled_cpu: sampled_cpu.as_ref(),
        sampled_net: sampled_net.as_ref(),
    };
    let scanned = read_rows(
        procfs,
        &pids,
        &query.filter,
        needs,
        query.threads,
        |sample| {
            let cells = query
                .columns
                .iter()
                .map(|c| c.value(sample, &context))
                .collect();
            let keys: Vec<Field<Value>> = query
                .sort_keys
                .iter()
                .map(|(c, _)| c.value(sample, &context))
                .collect();
            Some((
                keys,
                Row {
                    pid: sample.pid,
                    tid: sample.tid,
                    ppid: sample.stat().ok().map(|stat| stat.ppid),
                    depth: None,
                    cells,
                },
            ))
        },
    );
    vanished += scanned.vanished;
    let by_pid_only = query.filter.matcher.is_none()
        && query.filter.runtime.is_none()
        && query.filter.ppids.is_empty()
        && query.filter.uids.is_empty()
        && query.filter.states.is_empty()
        && !query.filter.selects_by_cgroup();
    let filtered = !by_pid_only || !query.filter.pids.is_empty();
    // A process that exited before it could be read counts only when it was selected: when
    // the selection needs its files (user, name, state...), nobody knows whether it was.
    if !by_pid_only {
        vanished = 0;
    }
    let mut rows = scanned.rows;
    rows.sort_by(|(a, ra), (b, rb)| {
        compare_keys(&query.sort_keys, a, b)
            .then(ra.pid.cmp(&rb.pid))
            .then(ra.tid.cmp(&rb.tid))
    });
    if query.reverse {
        rows.reverse();
    }
    let mut rows: Vec<Row> = rows.into_iter().map(|(_, row)| row).collect();
    if query.tree {
        rows = tree_order(rows);
    }
    mark_cluster_primaries(
        procfs,
        &query.columns,
        &mut rows,
        by_pid_only && query.filter.pids.is_empty(),
    );
    let errors = if by_pid_only {
        missing_pids(&query.filter.pids, &rows)
    } else {
        Vec::new()
    };
    if let Some(limit) = query.limit {
        rows.truncate(limit);
    }
    Ok(PsReport {
        columns: query.columns.clone(),
        threads: query.threads,
        rows,
        now_unix: system.now_unix(),
        vanished,
        filtered,
        errors,
        denied_hint: crate::collect::system::denied_hint(),
    })
}

/// Compares two rows' sort keys in order; a descending key reverses its values but keeps
/// unavailable cells last.
fn compare_keys(
    keys: &[(&'static Column, bool)],
    a: &[Field<Value>],
    b: &[Field<Value>],
) -> std::cmp::Ordering {
    keys.iter()
        .zip(a.iter().zip(b))
        .map(|((_, descending), (a, b))| match (a, b) {
            (Ok(_), Ok(_)) if *descending => value::compare(b, a),
            _ => value::compare(a, b),
        })
        .find(|order| order.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

/// Gives cluster primaries their role in the runtime column, as `tree`, `ports` and `show`
/// do: a primary carries no mark of its own, its workers name it. With the whole listing
/// every worker is a row; a selection may leave them out, so their parents' children are
/// read then.
fn mark_cluster_primaries(
    procfs: &ProcFs,
    columns: &[&'static Column],
    rows: &mut [Row],
    whole_listing: bool,
) {
    let Some(index) = columns
        .iter()
        .position(|c| c.kind == columns::Kind::Runtime)
    else {
        return;
    };
    let runtime = |row: &Row| match &row.cells[index] {
        Ok(Value::Runtime(info)) => Some(info.cluster.clone()),
        _ => None,
    };
    let primaries: HashMap<u32, ClusterRole> = if whole_listing {
        let family = crate::analyze::runtime::family::Family::from_roles(
            rows.iter()
                .filter_map(|row| Some((row.pid, runtime(row)??)))
                .filter(|(_, role)| matches!(role, ClusterRole::Worker { .. })),
        );
        family
            .roles
            .into_iter()
            .filter(|(_, role)| matches!(role, ClusterRole::Primary { .. }))
            .collect()
    } else {
        let unmarked: Vec<u32> = rows
            .iter()
            .filter(|row| runtime(row) == Some(None))
            .map(|row| row.pid)
            .collect();
        if unmarked.is_empty() {
            return;
        }
        crate::analyze::runtime::family::Family::of(
            &crate::collect::family::read_children_runtimes(procfs, &unmarked),
        )
        .primaries_among(&unmarked)
    };
    for row in rows.iter_mut() {
        if let Ok(Value::Runtime(info)) = &mut row.cells[index]
            && info.cluster.is_none()
        {
            info.cluster = primaries.get(&row.pid).cloned();
        }
    }
}

/// An `errors` entry for each PID named with `--pid` that no row shows.
fn missing_pids(pids: &[u32], rows: &[Row]) -> Vec<ErrorEntry> {
    let listed: std::collections::HashSet<u32> = rows.iter().map(|row| row.pid).collect();
    pids.iter()
        .filter(|pid| !listed.contains(pid))
        .map(|&pid| ErrorEntry {
            pid: Some(pid),
            reason: Unavailable::Gone,
            message: format!("no process with PID {pid}"),
        })
        .collect()
}

/// Puts rows in process-tree order (children under their parent, siblings in their sorted
/// order) and records each row's depth.
fn tree_order(rows: Vec<Row>) -> Vec<Row> {
    let rank: HashMap<u32, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| (row.pid, i))
        .collect();
    let forest = Forest::new(rows.iter().map(|row| (row.pid, row.ppid.unwrap_or(0))));
    let mut roots = forest.roots().to_vec();
    roots.sort_by_key(|pid| rank.get(pid).copied().unwrap_or(usize::MAX));
    let mut slots: Vec<Option<Row>> = rows.into_iter().map(Some).collect();
    let mut ordered = Vec::with_capacity(slots.len());
    for step in forest.walk(&roots) {
        if let Some(mut row) = rank.get(&step.pid).and_then(|&i| slots[i].take()) {
            row.depth = Some(step.depth);
            ordered.push(row);
        }
    }
    ordered.extend(slots.into_iter().flatten());
    ordered
}

/// Reads the processes that pass the filter (or, with `threads`, every thread of each) and
/// maps each through `map`, in the reader threads.
pub fn read_rows<T, F>(
    procfs: &ProcFs,
    pids: &[u32],
    filter: &ProcessFilter,
    needs: Needs,
    threads: bool,
    map: F,
) -> Scan<T>
where
    T: Send,
    F: Fn(&ProcessSample) -> Option<T> + Sync,
{
    if !threads {
        return scan(pids, |pid| {
            let sample = ProcessSample::read(procfs, pid, needs)?;
            Ok(filter.keeps(&sample).then(|| map(&sample)).flatten())
        });
    }
    let nested = scan(pids, |pid| {
        let dir = procfs.process(pid)?;
        let process = ProcessSample::read_dir(&dir, filter.needs())?;
        if !filter.keeps(&process) {
            return Ok(None);
        }
        let tids = dir.numeric_entries("task")?;
        let rows: Vec<T> = tids
            .into_iter()
            .filter_map(|tid| ProcessSample::read_thread(&dir, tid, needs).ok())
            .filter_map(|thread| map(&thread))
            .collect();
        Ok(Some(rows))
    });
    Scan {
        rows: nested.rows.into_iter().flatten().collect(),
        vanished: nested.vanished,
        hidden: nested.hidden,
    }
}

/// Per-process TCP throughput from the counters sampled at `started` and now.
fn sample_net(
    procfs: &ProcFs,
    before: &HashMap<u64, (u64, u64)>,
    started: Instant,
) -> HashMap<u32, crate::model::socket::ProcessNet> {
    use crate::collect::holders::{Kind, scan_holders};
    let after = crate::collect::net::tcp_byte_counters();
    let seconds = started.elapsed().as_secs_f64();
    let holders = scan_holders(procfs, Kind::Sockets, false);
    crate::analyze::sockets::per_process_throughput(before, &after, &holders.by_inode, seconds)
}

/// Measures CPU% over `interval`: CPU ticks of every selected process (or thread) read
/// twice. Returns CPU% by (PID, TID) and how many vanished (or were replaced by a reused ID).
fn sample_cpu(
    procfs: &ProcFs,
    query: &PsQuery,
    pids: &[u32],
    interval: Duration,
    system: &SystemInfo,
) -> (HashMap<(u32, u32), f64>, usize) {
    let needs = query.filter.needs() | Needs::STAT;
    let ticks = |sample: &ProcessSample| {
        let stat = sample.stat().ok()?;
        Some((
            (sample.pid, sample.tid),
            stat.starttime_ticks,
            stat.cpu_ticks(),
        ))
    };
    let first = read_rows(procfs, pids, &query.filter, needs, query.threads, ticks);
    let started = Instant::now();
    std::thread::sleep(interval);
    let mut first_pids: Vec<u32> = first.rows.iter().map(|((pid, _), _, _)| *pid).collect();
    first_pids.dedup();
    let second = read_rows(
        procfs,
        &first_pids,
        &query.filter,
        needs,
        query.threads,
        ticks,
    );
    let elapsed = started.elapsed().as_secs_f64().max(1e-3);
    let before: HashMap<(u32, u32), (u64, u64)> = first
        .rows
        .into_iter()
        .map(|(id, start, t)| (id, (start, t)))
        .collect();
    let mut cpu = HashMap::new();
    let mut gone = first.vanished + second.vanished;
    for (id, start, after) in second.rows {
        match before.get(&id) {
            Some(&(first_start, first_ticks)) if first_start == start => {
                let used = system.ticks_to_seconds(after.saturating_sub(first_ticks));
                cpu.insert(id, used / elapsed * 100.0);
            }
            _ => gone += 1,
        }
    }
    (cpu, gone)
}

impl PsReport {
    /// The column that shows the tree's indentation: the command, else the name.
    fn tree_column(&self) -> Option<&'static str> {
        ["cmd", "name"]
            .into_iter()
            .find(|name| self.columns.iter().any(|c| c.name == *name))
    }

    fn row_json(&self, row: &Row) -> Json {
        let mut object = Map::new();
        let mut unavailable = Map::new();
        object.insert("pid".into(), Json::from(row.pid));
        if row.tid != row.pid || self.threads {
            object.insert("tid".into(), Json::from(row.tid));
        }
        if let Some(depth) = row.depth {
            object.insert("depth".into(), Json::from(depth));
        }
        for (column, cell) in self.columns.iter().zip(&row.cells) {
            value::put_json(&mut object, &mut unavailable, column.json_key, cell);
        }
        if !unavailable.is_empty() {
            object.insert("unavailable".into(), Json::Object(unavailable));
        }
        Json::Object(object)
    }

    /// Counts of unavailable cells by reason and column, for the footer.
    fn unavailable_summary(&self) -> BTreeMap<Unavailable, (usize, Vec<&'static str>)> {
        let mut summary: BTreeMap<Unavailable, (usize, Vec<&'static str>)> = BTreeMap::new();
        for row in &self.rows {
            let mut counted = Vec::new();
            for (column, cell) in self.columns.iter().zip(&row.cells) {
                if let Err(why) = cell {
                    let entry = summary.entry(*why).or_default();
                    if !entry.1.contains(&column.header) {
                        entry.1.push(column.header);
                    }
                    if !counted.contains(why) {
                        counted.push(*why);
                        entry.0 += 1;
                    }
                }
            }
        }
        summary
    }
}

impl Report for PsReport {
    fn command(&self) -> &'static str {
        "ps"
    }

    fn json(&self) -> Map<String, Json> {
        let mut payload = Map::new();
        payload.insert(
            "processes".into(),
            Json::Array(self.rows.iter().map(|row| self.row_json(row)).collect()),
        );
        payload.insert("vanished".into(), Json::from(self.vanished));
        payload
    }

    fn ndjson(&self) -> Option<Vec<Json>> {
        Some(self.rows.iter().map(|row| self.row_json(row)).collect())
    }

    fn errors(&self) -> Vec<ErrorEntry> {
        self.errors.clone()
    }

    fn table(&self, style: &Style) -> String {
        if self.rows.is_empty() {
            return String::new();
        }
        let headers: Vec<(&str, Align)> = self
            .columns
            .iter()
            .map(|c| {
                (
                    c.header,
                    if c.kind.is_numeric() {
                        Align::Right
                    } else {
                        Align::Left
                    },
                )
            })
            .collect();
        let rows = self
            .rows
            .iter()
            .map(|row| {
                self.columns
                    .iter()
                    .zip(&row.cells)
                    .map(|(column, cell)| {
                        let mut text = value::table_text(cell, self.now_unix);
                        if let Some(depth) = row
                            .depth
                            .filter(|_| Some(column.name) == self.tree_column())
                            && depth > 0
                        {
                            let mut indented = Escaped::text(&"  ".repeat(depth - 1));
                            indented.push(&Escaped::literal("\\_ "));
                            indented.push(&text);
                            text = indented;
                        }
                        Text::toned(text, tone(column, cell))
                    })
                    .collect()
            })
            .collect();
        table::render(&headers, rows, *style)
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

    fn exit(&self) -> Exit {
        if (self.filtered && self.rows.is_empty()) || !self.errors.is_empty() {
            Exit::Partial
        } else {
            Exit::Success
        }
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
            "groups": {"type": "array", "items": crate::commands::ps_groups::row_schema(), "description": "with --group-by: one object per application (instead of processes)"},
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
    crate::render::json::document_schema("ps", "procscope ps --json", payload)
}
