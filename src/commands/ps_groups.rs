//! `ps --group-by`: the selected processes summed per application (name, user, systemd unit,
//! container or runtime): how many, their CPU, RSS (and PSS with `--pss`), threads and fds.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use crate::analyze::filter::FilterProcess;
use crate::analyze::runtime::detect;
use crate::collect::scan::scan;
use crate::collect::{Field, Needs, ProcFs, ProcessSample, SystemInfo, TaskKind, UserNames};
use crate::columns::extended::placement_of;
use crate::columns::value::round2;
use crate::model::Unavailable;
use crate::model::listing::{GroupDocument, GroupListing, GroupRow};
use crate::query::ps::GroupBy;

use crate::collect::listing::candidate_pids;
use crate::commands::ps::PsQuery;

/// The grouped listing.
pub type GroupReport = GroupListing;

/// One process's contribution to its group.
struct Contribution {
    key: Option<String>,
    label: String,
    pid: u32,
    cpu: Field<f64>,
    rss: Field<u64>,
    pss: Option<Field<u64>>,
    threads: Field<u64>,
    fds: Field<u64>,
}

/// Reads the selected processes and sums them per key.
pub fn run(
    query: &PsQuery,
    by: GroupBy,
    pss: bool,
    procfs: &ProcFs,
    system: &SystemInfo,
    users: &UserNames,
) -> anyhow::Result<GroupReport> {
    let mut needs = query.filter.needs() | Needs::STAT | Needs::RSS | Needs::FD_COUNT;
    needs |= match by {
        GroupBy::Name => Needs::NONE,
        GroupBy::User => Needs::STATUS,
        GroupBy::Unit | GroupBy::Container => Needs::CGROUP,
        GroupBy::Runtime => Needs::EXE | Needs::RUNTIME,
    };
    if pss {
        needs |= Needs::PSS;
    }
    let pids = candidate_pids(procfs, &query.filter)?;
    let scanned = scan(&pids, |pid| {
        let sample = ProcessSample::read(procfs, pid, needs)?;
        if !query.filter.keeps(&sample) {
            return Ok(None);
        }
        Ok(Some(contribution(&sample, by, pss, system, users)))
    });
    let mut groups: BTreeMap<Option<String>, GroupRow> = BTreeMap::new();
    for part in scanned.rows {
        let group = groups.entry(part.key.clone()).or_insert_with(|| GroupRow {
            key: part.key.clone(),
            label: part.label.clone(),
            ..GroupRow::default()
        });
        add(group, part);
    }
    let mut groups: Vec<GroupRow> = groups.into_values().collect();
    groups.sort_by(|a, b| b.rss_bytes.cmp(&a.rss_bytes).then(a.label.cmp(&b.label)));
    if let Some(limit) = query.limit {
        groups.truncate(limit);
    }
    let by = key_name(by);
    let document = GroupDocument {
        groups: groups.iter().map(|g| row_json(by, pss, g)).collect(),
        vanished: scanned.vanished,
    };
    Ok(GroupListing {
        document,
        by,
        pss,
        groups,
    })
}

fn contribution(
    p: &ProcessSample,
    by: GroupBy,
    pss: bool,
    system: &SystemInfo,
    users: &UserNames,
) -> Contribution {
    let (key, label) = group_key(p, by, users);
    let stat = p.stat();
    let fds = match p.kind() {
        TaskKind::Zombie => Err(Unavailable::Zombie),
        _ => p.fd_count().map(|n| n as u64),
    };
    Contribution {
        key,
        label,
        pid: p.pid,
        cpu: stat.map(|s| system.lifetime_cpu_percent(s.cpu_ticks(), s.starttime_ticks)),
        rss: p.rss_bytes(system.page_size),
        pss: pss.then(|| match p.kind() {
            TaskKind::KernelThread => Ok(0),
            _ => p.pss_bytes(),
        }),
        threads: stat.map(|s| s.num_threads),
        fds,
    }
}

/// The group of a process: (JSON key, table label).
fn group_key(p: &ProcessSample, by: GroupBy, users: &UserNames) -> (Option<String>, String) {
    let key = match by {
        GroupBy::Name => p
            .name()
            .ok()
            .map(|name| String::from_utf8_lossy(&name).into_owned()),
        GroupBy::User => p.euid().ok().map(|uid| users.name(uid)),
        GroupBy::Unit => placement_of(p).ok().and_then(|place| place.unit),
        GroupBy::Container => {
            let container = placement_of(p).ok().and_then(|place| place.container);
            let label = container.as_ref().map(|c| c.label());
            return (
                container.map(|c| c.id),
                label.unwrap_or_else(|| "(none)".into()),
            );
        }
        GroupBy::Runtime => detect(&p.runtime_facts()).map(|(_, info)| info.runtime),
    };
    let label = key.clone().unwrap_or_else(|| "(none)".into());
    (key, label)
}

fn add(group: &mut GroupRow, part: Contribution) {
    group.processes += 1;
    group.pids.push(part.pid);
    let mut missing = |name: &'static str| *group.unavailable.entry(name).or_default() += 1;
    match part.cpu {
        Ok(cpu) => group.cpu_percent += cpu,
        Err(_) => missing("cpu_percent"),
    }
    let mut sum = |field: Field<u64>, name: &'static str, total: &mut u64| match field {
        Ok(v) => *total += v,
        Err(_) => missing(name),
    };
    sum(part.rss, "rss_bytes", &mut group.rss_bytes);
    if let Some(pss) = part.pss {
        sum(pss, "pss_bytes", &mut group.pss_bytes);
    }
    sum(part.threads, "threads", &mut group.threads);
    sum(part.fds, "fds", &mut group.fds);
}

/// The name of the grouping key, in JSON and (upper-cased) in the table.
fn key_name(by: GroupBy) -> &'static str {
    match by {
        GroupBy::Name => "name",
        GroupBy::User => "user",
        GroupBy::Unit => "unit",
        GroupBy::Container => "container",
        GroupBy::Runtime => "runtime",
    }
}

/// One group as `--json` prints it.
fn row_json(by: &'static str, pss: bool, row: &GroupRow) -> Map<String, Json> {
    let mut object = Map::new();
    object.insert("group_by".into(), Json::from(by));
    object.insert("key".into(), row.key.clone().map_or(Json::Null, Json::from));
    object.insert("processes".into(), Json::from(row.processes));
    object.insert("cpu_percent".into(), Json::from(round2(row.cpu_percent)));
    object.insert("rss_bytes".into(), Json::from(row.rss_bytes));
    if pss {
        object.insert("pss_bytes".into(), Json::from(row.pss_bytes));
    }
    object.insert("threads".into(), Json::from(row.threads));
    object.insert("fds".into(), Json::from(row.fds));
    let mut pids = row.pids.clone();
    pids.sort_unstable();
    object.insert("pids".into(), Json::from(pids));
    if !row.unavailable.is_empty() {
        let counts: Map<String, Json> = row
            .unavailable
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Json::from(*v)))
            .collect();
        object.insert("unavailable_counts".into(), Json::Object(counts));
    }
    object
}
