//! `procscope ps`: list processes with the columns asked for, reading only what they need.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json};

use crate::analyze::tree::Forest;
use crate::collect::listing::sample_cpu;
use crate::collect::{Field, Needs, ProcFs, SystemInfo, UserNames};
use crate::columns::packed::PackedCells;
use crate::columns::{self, Column, Context, Value, value};
use crate::exit;
use crate::model::ErrorEntry;
use crate::model::Unavailable;
use crate::model::listing::{Listing, ListingRow};
use crate::model::runtime::ClusterRole;
use crate::query::ProcessFilter;
type PsQuery = crate::query::ps::PsQuery<Column>;
use crate::collect::listing::{candidate_pids, read_listed_rows, read_rows};

/// The listing, ready to render.
pub type PsReport = Listing<Column, PackedCells>;

type Row = ListingRow<PackedCells>;

/// Runs the listing.
pub fn run(
    query: &PsQuery,
    procfs: &ProcFs,
    system: &SystemInfo,
    users: &UserNames,
) -> anyhow::Result<PsReport> {
    // Read as /proc is listed, unless the PIDs are named or needed twice (an interval).
    let streamed = query.interval.is_none() && !query.threads && query.filter.pids.is_empty();
    let mut pids = if streamed {
        Vec::new()
    } else {
        candidate_pids(procfs, &query.filter)?
    };
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
    let sampled_cpu = query.interval.map(|interval| {
        let (cpu, gone) = sample_cpu_of(query, procfs, &mut pids, interval, system);
        vanished += gone;
        cpu
    });
    let sampled_net = net_before.map(|(before, started)| sample_net(procfs, &before, started));
    let context = Context {
        system,
        users,
        sampled_cpu: sampled_cpu.as_ref(),
        sampled_net: sampled_net.as_ref(),
    };
    let source = if streamed {
        Source::Listing
    } else {
        Source::Pids(&pids)
    };
    let (rows, gone) = read_sorted(query, procfs, source, &context)?;
    vanished += gone;
    let by_pid_only = selects_by_pid_only(&query.filter);
    let filtered = !by_pid_only || !query.filter.pids.is_empty();
    // A process that exited before it could be read counts only when it was selected: when
    // the selection needs its files (user, name, state...), nobody knows whether it was.
    if !by_pid_only {
        vanished = 0;
    }
    let mut rows = rows;
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
        document: OnceLock::new(),
        row_json,
        vanished,
        columns: query.columns.clone(),
        threads: query.threads,
        rows,
        now_unix: system.now_unix(),
        filtered,
        errors,
        denied_hint: crate::collect::system::denied_hint(),
    })
}

/// CPU% of each selected process (or thread) over `interval`, and how many vanished; `pids`
/// becomes the processes still there.
fn sample_cpu_of(
    query: &PsQuery,
    procfs: &ProcFs,
    pids: &mut Vec<u32>,
    interval: Duration,
    system: &SystemInfo,
) -> (HashMap<(u32, u32), f64>, usize) {
    let (cpu, gone) = sample_cpu(procfs, &query.filter, query.threads, pids, interval, system);
    *pids = cpu.keys().map(|&(pid, _)| pid).collect();
    pids.sort_unstable();
    pids.dedup();
    (cpu, gone)
}

/// What each process must have read: the query's needs, and, unless fault counters are
/// shown, a many-threaded process's CPU total from the kernel's process CPU clock (the
/// columns use only that total).
fn listing_needs(query: &PsQuery) -> Needs {
    let needs = query.needs();
    if needs.contains(Needs::FAULTS) {
        needs
    } else {
        needs | Needs::CPU_CLOCK
    }
}

/// Which processes a listing reads.
enum Source<'a> {
    /// These: named with `--pid`, or listed first (for `--threads`, or for an interval's
    /// two samples).
    Pids(&'a [u32]),
    /// Every process `/proc` lists, read as it lists them.
    Listing,
}

/// Reads the rows of the listing in their order (sort keys, `--reverse`, `--tree`), and
/// how many processes vanished while they were read.
fn read_sorted(
    query: &PsQuery,
    procfs: &ProcFs,
    source: Source,
    context: &Context,
) -> anyhow::Result<(Vec<Row>, usize)> {
    let needs = listing_needs(query);
    let row = |sample: &crate::collect::ProcessSample| {
        let cells = PackedCells::pack(query.columns.iter().map(|c| c.value(sample, context)));
        let keys: Vec<Field<Value>> = query
            .sort_keys
            .iter()
            .map(|(c, _)| c.value(sample, context))
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
    };
    let scanned = match source {
        Source::Pids(pids) => read_rows(procfs, pids, &query.filter, needs, query.threads, row),
        Source::Listing => read_listed_rows(procfs, &query.filter, needs, row)?,
    };
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
    Ok((rows, scanned.vanished))
}

/// True when the filter selects by PID at most (nothing about a process's files).
fn selects_by_pid_only(filter: &ProcessFilter) -> bool {
    filter.matcher.is_none()
        && filter.runtime.is_none()
        && filter.ppids.is_empty()
        && filter.uids.is_empty()
        && filter.states.is_empty()
        && !filter.selects_by_cgroup()
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
/// do: a primary carries no mark of its own (or only that of a forked child), its workers
/// name it. With the whole listing
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
    let runtime = |row: &Row| match row.cells.get(index) {
        Some(Ok(Value::Runtime(info))) => Some(info.cluster),
        _ => None,
    };
    let may_lead = |row: &Row| matches!(row.cells.get(index), Some(Ok(Value::Runtime(info))) if info.may_lead_workers());
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
            .filter(|row| may_lead(row))
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
        let Some(role) = primaries.get(&row.pid) else {
            continue;
        };
        row.cells.update(index, |cell| {
            if let Ok(Value::Runtime(info)) = cell
                && info.may_lead_workers()
            {
                info.cluster = Some(role.clone());
            }
        });
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

/// One row as `ps --json` prints it: the columns' JSON keys, and `unavailable` reasons.
fn row_json(columns: &[&'static Column], threads: bool, row: &Row) -> Map<String, Json> {
    let mut object = Map::new();
    let mut unavailable = Map::new();
    object.insert("pid".into(), Json::from(row.pid));
    if row.tid != row.pid || threads {
        object.insert("tid".into(), Json::from(row.tid));
    }
    if let Some(depth) = row.depth {
        object.insert("depth".into(), Json::from(depth));
    }
    for (column, cell) in columns.iter().zip(row.cells.iter()) {
        value::put_json(&mut object, &mut unavailable, column.json_key, &cell);
    }
    if !unavailable.is_empty() {
        object.insert("unavailable".into(), Json::Object(unavailable));
    }
    object
}
