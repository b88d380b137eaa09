//! Every series `export` and `serve` emit: name, help (with its OpenTelemetry name), type,
//! unit, and how a group (or selected process) gives its samples. Adding a series is one
//! entry in `GROUP_SERIES`.

use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;

use super::{Family, Labels};
use crate::model::export::{ExportPayload, GroupStats, ProcessStats};

use MetricType::{Counter, Gauge};

pub(super) fn families(payload: &ExportPayload) -> Vec<Family> {
    let mut all = group_families(payload);
    all.extend(process_families(&payload.processes));
    let scrape = [
        (
            "procscope_scrape_duration",
            "Time this collection took",
            Some(Unit::Seconds),
            payload.duration_seconds,
        ),
        (
            "procscope_scrape_vanished_processes",
            "Processes that exited during the collection",
            None,
            payload.vanished as f64,
        ),
        (
            "procscope_scrape_hidden_processes",
            "Processes whose files could not be read",
            None,
            payload.hidden as f64,
        ),
    ];
    for (name, help, unit, value) in scrape {
        let mut family = Family::new(name, help, Gauge, unit);
        family.samples.push((Vec::new(), value));
        all.push(family);
    }
    all
}

/// A per-group series: its name, help, type, unit, and the samples one group adds.
type GroupSeries = (
    &'static str,
    &'static str,
    MetricType,
    Option<Unit>,
    fn(&GroupStats) -> Vec<(Labels, f64)>,
);

fn one(value: f64) -> Vec<(Labels, f64)> {
    vec![(Vec::new(), value)]
}

fn by<K: ToString>(
    label: &'static str,
    pairs: impl IntoIterator<Item = (K, f64)>,
) -> Vec<(Labels, f64)> {
    pairs
        .into_iter()
        .map(|(key, value)| (vec![(label, key.to_string())], value))
        .collect()
}

fn roles(
    group: &GroupStats,
    value: impl Fn(&crate::model::export::RoleStats) -> f64,
) -> Vec<(Labels, f64)> {
    group
        .roles
        .iter()
        .map(|((runtime, role), stats)| {
            (
                vec![("runtime", runtime.clone()), ("role", role.clone())],
                value(stats),
            )
        })
        .collect()
}

const GROUP_SERIES: &[GroupSeries] = &[
    (
        "procscope_group_num_procs",
        "Processes in the group",
        Gauge,
        None,
        |g| one(g.num_procs as f64),
    ),
    (
        "procscope_group_cpu",
        "CPU time of the group's processes by mode (process.cpu.time)",
        Counter,
        Some(Unit::Seconds),
        |g| {
            by(
                "mode",
                [
                    ("user", g.cpu_user_seconds),
                    ("system", g.cpu_system_seconds),
                ],
            )
        },
    ),
    (
        "procscope_group_memory_resident",
        "Resident set size, summed (process.memory.usage)",
        Gauge,
        Some(Unit::Bytes),
        |g| one(g.resident_bytes as f64),
    ),
    (
        "procscope_group_memory_virtual",
        "Virtual memory size, summed (process.memory.virtual)",
        Gauge,
        Some(Unit::Bytes),
        |g| one(g.virtual_bytes as f64),
    ),
    (
        "procscope_group_memory_swap",
        "Swapped-out anonymous memory, summed (VmSwap)",
        Gauge,
        Some(Unit::Bytes),
        |g| one(g.swap_bytes as f64),
    ),
    (
        "procscope_group_threads",
        "Threads of the group's processes (process.thread.count)",
        Gauge,
        None,
        |g| one(g.threads as f64),
    ),
    (
        "procscope_group_open_fds",
        "Open file descriptors (process.open_file_descriptor.count)",
        Gauge,
        None,
        |g| one(g.open_fds as f64),
    ),
    (
        "procscope_group_open_fds_by_kind",
        "Open file descriptors by kind of object",
        Gauge,
        None,
        |g| by("kind", g.fds_by_kind.iter().map(|(k, v)| (*k, *v as f64))),
    ),
    (
        "procscope_group_fd_headroom",
        "Descriptors the worst process may still open before its soft limit",
        Gauge,
        None,
        |g| g.fd_headroom.map(|h| one(h as f64)).unwrap_or_default(),
    ),
    (
        "procscope_group_worst_fd_ratio",
        "Open descriptors over the soft limit of the worst process",
        Gauge,
        None,
        |g| g.fd_limit_ratio.map(one).unwrap_or_default(),
    ),
    (
        "procscope_group_context_switches",
        "Context switches by type (process.context_switches)",
        Counter,
        None,
        |g| {
            by(
                "type",
                [
                    ("voluntary", g.voluntary_ctxt_switches as f64),
                    ("involuntary", g.involuntary_ctxt_switches as f64),
                ],
            )
        },
    ),
    (
        "procscope_group_io",
        "Bytes read and written at the storage layer, where readable (process.disk.io)",
        Counter,
        Some(Unit::Bytes),
        |g| {
            by(
                "direction",
                [
                    ("read", g.read_bytes as f64),
                    ("write", g.write_bytes as f64),
                ],
            )
        },
    ),
    (
        "procscope_group_io_unreadable_processes",
        "Processes whose /proc/PID/io could not be read",
        Gauge,
        None,
        |g| one(g.io_unreadable as f64),
    ),
    (
        "procscope_group_page_faults",
        "Page faults by type (process.paging.faults)",
        Counter,
        None,
        |g| {
            by(
                "type",
                [
                    ("major", g.major_faults as f64),
                    ("minor", g.minor_faults as f64),
                ],
            )
        },
    ),
    (
        "procscope_group_oldest_start_time",
        "Start time of the oldest process, Unix time (process.creation.time)",
        Gauge,
        Some(Unit::Seconds),
        |g| g.oldest_start_time_unix.map(one).unwrap_or_default(),
    ),
    (
        "procscope_group_states",
        "Processes by scheduler state (process.status)",
        Gauge,
        None,
        |g| by("state", g.states.iter().map(|(k, v)| (*k, *v as f64))),
    ),
    // An info series as a gauge of 1 (the node_exporter convention), which both the
    // OpenMetrics and the classic Prometheus text parsers accept.
    (
        "procscope_group_listening_port_info",
        "A listening TCP or bound UDP socket the group holds",
        Gauge,
        None,
        |g| {
            g.ports
                .iter()
                .map(|p| {
                    let labels = vec![
                        ("protocol", p.protocol.to_owned()),
                        ("address", p.address.clone()),
                        ("port", p.port.to_string()),
                    ];
                    (labels, 1.0)
                })
                .collect()
        },
    ),
    (
        "procscope_group_runtime_threads",
        "Threads of a recognised runtime by role",
        Gauge,
        None,
        |g| roles(g, |s| s.threads as f64),
    ),
    (
        "procscope_group_runtime_busy_threads",
        "Threads of a role running or working (not waiting for work) at the read",
        Gauge,
        None,
        |g| roles(g, |s| s.busy as f64),
    ),
    (
        "procscope_group_runtime_cpu",
        "CPU time of a runtime's threads by role",
        Counter,
        Some(Unit::Seconds),
        |g| roles(g, |s| s.cpu_seconds),
    ),
    (
        "procscope_group_cluster_workers",
        "Node.js cluster workers in the group",
        Gauge,
        None,
        |g| one(g.cluster_workers as f64),
    ),
];

fn group_families(payload: &ExportPayload) -> Vec<Family> {
    let mut all: Vec<Family> = GROUP_SERIES
        .iter()
        .map(|(name, help, kind, unit, samples)| {
            let mut family = Family::new(name, help, *kind, unit.clone());
            for (group, stats) in &payload.groups {
                for (mut labels, value) in samples(stats) {
                    labels.insert(0, ("group", group.clone()));
                    family.samples.push((labels, value));
                }
            }
            family
        })
        .collect();
    if payload.pss {
        let mut pss = Family::new(
            "procscope_group_memory_proportional",
            "Proportional set size, summed: shared pages divided among their users (--pss)",
            Gauge,
            Some(Unit::Bytes),
        );
        for (group, stats) in &payload.groups {
            pss.samples.push((
                vec![("group", group.clone())],
                stats.proportional_bytes as f64,
            ));
        }
        all.insert(4, pss);
    }
    all.retain(|f| !f.samples.is_empty() || f.name == "procscope_group_num_procs");
    all
}

fn process_families(processes: &[ProcessStats]) -> Vec<Family> {
    let mut cpu = Family::new(
        "procscope_process_cpu",
        "CPU time of a selected process by mode",
        Counter,
        Some(Unit::Seconds),
    );
    let mut rss = Family::new(
        "procscope_process_memory_resident",
        "Resident set size of a selected process",
        Gauge,
        Some(Unit::Bytes),
    );
    let mut pss = Family::new(
        "procscope_process_memory_proportional",
        "Proportional set size of a selected process (--pss)",
        Gauge,
        Some(Unit::Bytes),
    );
    let mut threads = Family::new(
        "procscope_process_threads",
        "Threads of a selected process",
        Gauge,
        None,
    );
    let mut fds = Family::new(
        "procscope_process_open_fds",
        "Open descriptors of a selected process",
        Gauge,
        None,
    );
    for process in processes {
        let labels = vec![
            ("group", process.group.clone()),
            ("pid", process.pid.to_string()),
            ("start_time", format!("{:.0}", process.start_time_unix)),
        ];
        let with = |key: &'static str, value: &str| {
            let mut more = labels.clone();
            more.push((key, value.to_owned()));
            more
        };
        cpu.samples
            .push((with("mode", "user"), process.cpu_user_seconds));
        cpu.samples
            .push((with("mode", "system"), process.cpu_system_seconds));
        rss.samples
            .push((labels.clone(), process.resident_bytes as f64));
        if let Some(value) = process.proportional_bytes {
            pss.samples.push((labels.clone(), value as f64));
        }
        threads
            .samples
            .push((labels.clone(), process.threads as f64));
        if let Some(value) = process.open_fds {
            fds.samples.push((labels.clone(), value as f64));
        }
    }
    let mut all = vec![cpu, rss, pss, threads, fds];
    all.retain(|f| !f.samples.is_empty());
    all
}
