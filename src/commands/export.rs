//! `procscope export` and each scrape of `serve`: every process read once through the same
//! collectors as `ps` (plus io, limits, smaps_rollup, cgroup and descriptor links), grouped
//! by the rules, and summed into an [`ExportPayload`]. Payload out; never formats.

use std::collections::HashMap;
use std::time::Instant;

use crate::analyze::runtime::{Runtime, detect};
use crate::analyze::syscalls;
use crate::collect::ProcessDir;
use crate::collect::scan::scan;
use crate::collect::thread_facts::{self, Observed};
use crate::collect::usage::{FdSummary, Usage, UsageNeeds, listening_inet, read_usage};
use crate::collect::{Needs, ProcFs, ProcessSample, SystemInfo, UserNames};
use crate::columns::{Column, Context, Value};
use crate::model::Unavailable;
use crate::model::export::{ExportPayload, GroupStats, ListeningPort, ProcessStats, RoleStats};
use crate::model::runtime::{ClusterRole, RuntimeInfo};
use crate::parse::codes::state_name;
use crate::parse::maps::parse_maps;
use crate::parse::syscall::SyscallState;
use crate::query::export::ExportQuery;
use crate::query::groups::{Candidate, RuleNeeds};

/// One process, read and assigned to its group.
struct Record {
    group: String,
    per_pid: bool,
    sample: ProcessSample,
    usage: Usage,
    runtime: Option<RuntimeRecord>,
}

/// What a recognised runtime adds: the roles of its threads and its cluster role.
struct RuntimeRecord {
    roles: Vec<(String, String, RoleStats)>,
    cluster_worker: bool,
}

/// Listening sockets of our network namespace by inode.
type Listening = HashMap<u64, ListeningPort>;

/// Only the cgroup file.
const CGROUP: UsageNeeds = UsageNeeds {
    io: false,
    fd_limit: false,
    pss: false,
    cgroup: true,
    fd_links: false,
};

/// Reads the executable's runtime facts (and, for a runtime, the environment) into `sample`.
fn read_runtime(
    dir: &ProcessDir,
    sample: &mut ProcessSample,
) -> Result<(), crate::model::Unavailable> {
    let runtime = ProcessSample::read_dir(dir, Needs::EXE | Needs::RUNTIME)?;
    sample.binary = runtime.binary;
    sample.environ = runtime.environ;
    if sample.exe.is_none() {
        sample.exe = runtime.exe;
    }
    Ok(())
}

/// Reads every process and sums each group.
pub fn run(
    query: &ExportQuery,
    procfs: &ProcFs,
    system: &SystemInfo,
    users: &UserNames,
) -> anyhow::Result<ExportPayload> {
    let started = Instant::now();
    let pids = procfs
        .pids()
        .map_err(|err| anyhow::anyhow!("cannot list {}: {err}", procfs.root().display()))?;
    let reader = Reader::new(query, system, users);
    let scanned = scan(&pids, |pid| reader.read(&procfs.process(pid)?));
    let holds_sockets = scanned
        .rows
        .iter()
        .any(|record| matches!(&record.usage.fds, Some(Ok(fds)) if !fds.sockets.is_empty()));
    let listening = if holds_sockets {
        listening_sockets(procfs)
    } else {
        Listening::new()
    };
    let mut payload = ExportPayload {
        vanished: scanned.vanished,
        hidden: scanned.hidden,
        pss: query.pss,
        ..ExportPayload::default()
    };
    for record in scanned.rows {
        if record.per_pid {
            payload.processes.extend(process_stats(&record, system));
        }
        let group = payload.groups.entry(record.group.clone()).or_default();
        add_process(group, &record, system, &listening);
    }
    payload.duration_seconds = started.elapsed().as_secs_f64();
    Ok(payload)
}

/// Reads one process: first what the rules need to place it, then, only for a process
/// that is exported, the rest.
struct Reader<'a> {
    query: &'a ExportQuery,
    system: &'a SystemInfo,
    users: &'a UserNames,
    rules: RuleNeeds,
    /// What placing a process needs.
    assign_needs: Needs,
    usage_needs: UsageNeeds,
}

impl<'a> Reader<'a> {
    fn new(query: &'a ExportQuery, system: &'a SystemInfo, users: &'a UserNames) -> Self {
        let rules = query.grouping.needs();
        let mut assign_needs = Needs::STAT | rss_column().needs;
        for (wanted, need) in [
            (rules.cmdline, Needs::CMDLINE),
            (rules.exe, Needs::EXE),
            (rules.user, Needs::STATUS),
        ] {
            if wanted {
                assign_needs |= need;
            }
        }
        let usage_needs = UsageNeeds {
            io: true,
            fd_limit: true,
            pss: query.pss,
            cgroup: false,
            fd_links: true,
        };
        Self {
            query,
            system,
            users,
            rules,
            assign_needs,
            usage_needs,
        }
    }

    fn read(&self, dir: &ProcessDir) -> Result<Option<Record>, Unavailable> {
        let pid = dir.pid();
        let rules = self.rules;
        let mut sample = ProcessSample::read_dir(dir, self.assign_needs)?;
        let cgroup = rules
            .cgroup
            .then(|| read_usage(dir, CGROUP).cgroup)
            .flatten();
        if rules.runtime {
            read_runtime(dir, &mut sample)?;
        }
        let detected = rules
            .runtime
            .then(|| detect(&sample.runtime_facts()))
            .flatten();
        let runtime_name = detected.as_ref().map(|(_, info)| info.runtime.clone());
        let cmdline = sample.cmdline().ok().map(|args| args.join(&b' '));
        let uid = sample.euid().ok();
        let user = rules
            .user
            .then(|| uid.map(|uid| self.users.name(uid)))
            .flatten();
        let comm = sample.name().unwrap_or_default();
        let candidate = Candidate {
            comm: &comm,
            exe: sample.exe().ok().map(Vec::as_slice),
            cmdline: cmdline.as_deref(),
            uid,
            user: user.as_deref(),
            cgroup: cgroup.as_ref().and_then(|c| c.as_deref().ok()),
            runtime: runtime_name.as_deref(),
        };
        let Some((group, per_pid)) = self.query.grouping.assign(&candidate, pid) else {
            return Ok(None);
        };
        // Only the processes exported pay for the rest.
        if sample.status.is_none() {
            sample.status = ProcessSample::read_dir(dir, Needs::STATUS)?.status;
        }
        // A runtime always starts helper threads: single-threaded processes are not probed.
        let detected = match detected {
            Some(found) => Some(found),
            None if sample.stat().is_ok_and(|stat| stat.num_threads >= 2) => {
                read_runtime(dir, &mut sample)?;
                detect(&sample.runtime_facts())
            }
            None => None,
        };
        let runtime = detected.map(|(analyzer, info)| RuntimeRecord {
            roles: runtime_roles(dir, &sample, (analyzer, &info), self.system),
            cluster_worker: matches!(info.cluster, Some(ClusterRole::Worker { .. })),
        });
        Ok(Some(Record {
            group,
            per_pid,
            usage: read_usage(dir, self.usage_needs),
            sample,
            runtime,
        }))
    }
}

/// Adds one process to its group's totals.
fn add_process(
    group: &mut GroupStats,
    record: &Record,
    system: &SystemInfo,
    listening: &Listening,
) {
    let sample = &record.sample;
    group.num_procs += 1;
    group.resident_bytes += resident_bytes(sample, system).unwrap_or(0);
    if let Ok(stat) = sample.stat() {
        group.cpu_user_seconds += system.ticks_to_seconds(stat.utime_ticks);
        group.cpu_system_seconds += system.ticks_to_seconds(stat.stime_ticks);
        group.virtual_bytes += stat.vsize_bytes;
        group.threads += stat.num_threads;
        group.major_faults += stat.majflt;
        group.minor_faults += stat.minflt;
        let start = system.start_time_unix(stat.starttime_ticks);
        group.oldest_start_time_unix =
            Some(group.oldest_start_time_unix.map_or(start, |s| s.min(start)));
        *group.states.entry(state_name(stat.state)).or_default() += 1;
    }
    if let Ok(status) = sample.status() {
        group.swap_bytes += status.kib_as_bytes("VmSwap").unwrap_or(0);
        group.voluntary_ctxt_switches += status.number("voluntary_ctxt_switches").unwrap_or(0);
        group.involuntary_ctxt_switches += status.number("nonvoluntary_ctxt_switches").unwrap_or(0);
    }
    let usage = &record.usage;
    match &usage.io {
        Some(Ok((read, write))) => {
            group.read_bytes += read;
            group.write_bytes += write;
        }
        Some(Err(_)) => group.io_unreadable += 1,
        None => {}
    }
    if let Some(Ok(pss)) = usage.pss_bytes {
        group.proportional_bytes += pss;
    }
    if let Some(Ok(fds)) = &usage.fds {
        add_fds(group, fds, usage, listening);
    }
    if let Some(runtime) = &record.runtime {
        group.cluster_workers += u64::from(runtime.cluster_worker);
        for (name, role, stats) in &runtime.roles {
            let total = group.roles.entry((name.clone(), role.clone())).or_default();
            total.threads += stats.threads;
            total.busy += stats.busy;
            total.cpu_seconds += stats.cpu_seconds;
        }
    }
}

/// Descriptor counts, kinds, limit headroom and listening ports of one process.
fn add_fds(group: &mut GroupStats, fds: &FdSummary, usage: &Usage, listening: &Listening) {
    group.open_fds += fds.open;
    for (kind, count) in &fds.kinds {
        *group.fds_by_kind.entry(kind).or_default() += count;
    }
    if let Some(Ok(Some(limit))) = usage.fd_limit {
        let headroom = limit.saturating_sub(fds.open);
        group.fd_headroom = Some(group.fd_headroom.map_or(headroom, |h| h.min(headroom)));
        let ratio = if limit == 0 {
            1.0
        } else {
            fds.open as f64 / limit as f64
        };
        group.fd_limit_ratio = Some(group.fd_limit_ratio.map_or(ratio, |r| r.max(ratio)));
    }
    for inode in &fds.sockets {
        if let Some(port) = listening.get(inode) {
            group.ports.insert(port.clone());
        }
    }
}

/// The `rss` column of `ps`: the exported RSS is read and defined exactly as `ps` shows it.
fn rss_column() -> &'static Column {
    crate::columns::lookup::find("rss").expect("the rss column exists")
}

fn resident_bytes(sample: &ProcessSample, system: &SystemInfo) -> Option<u64> {
    let context = Context {
        system,
        users: &UserNames::default(),
        sampled_cpu: None,
        sampled_net: None,
    };
    match (rss_column().extract)(sample, &context) {
        Ok(Value::Bytes(bytes)) => Some(bytes),
        _ => None,
    }
}

/// The per-PID series of one selected process.
fn process_stats(record: &Record, system: &SystemInfo) -> Option<ProcessStats> {
    let stat = record.sample.stat().ok()?;
    let fds = record.usage.fds.as_ref().and_then(|f| f.as_ref().ok());
    Some(ProcessStats {
        pid: record.sample.pid,
        group: record.group.clone(),
        start_time_unix: system.start_time_unix(stat.starttime_ticks),
        cpu_user_seconds: system.ticks_to_seconds(stat.utime_ticks),
        cpu_system_seconds: system.ticks_to_seconds(stat.stime_ticks),
        resident_bytes: resident_bytes(&record.sample, system).unwrap_or(0),
        proportional_bytes: record.usage.pss_bytes.and_then(Result::ok),
        threads: stat.num_threads,
        open_fds: fds.map(|f| f.open),
    })
}

/// Listening TCP and bound UDP sockets of our network namespace, by inode.
fn listening_sockets(procfs: &ProcFs) -> Listening {
    listening_inet(procfs)
        .into_iter()
        .map(|(proto, socket)| {
            let port = ListeningPort {
                protocol: proto.name(),
                address: socket.local.0.to_string(),
                port: socket.local.1,
            };
            (socket.inode, port)
        })
        .collect()
}

/// The threads of a runtime process by role: how many, how many busy now, their CPU time.
fn runtime_roles(
    dir: &ProcessDir,
    process: &ProcessSample,
    (analyzer, info): (&dyn Runtime, &RuntimeInfo),
    system: &SystemInfo,
) -> Vec<(String, String, RoleStats)> {
    let Ok(tids) = dir.numeric_entries("task") else {
        return Vec::new();
    };
    let threads: Vec<ProcessSample> = tids
        .into_iter()
        .filter_map(|tid| {
            ProcessSample::read_thread(dir, tid, crate::collect::threads::THREAD_NEEDS).ok()
        })
        .collect();
    let maps = dir
        .read("maps")
        .map(|raw| parse_maps(&raw))
        .unwrap_or_default();
    let observed = Observed::of_samples(&threads);
    let reads = thread_facts::read(
        dir,
        process,
        &observed,
        system,
        crate::analyze::runtime::facts::epoll_fd,
    );
    let (facts, context) = crate::analyze::runtime::facts::role_facts(&reads, &maps);
    let roles = analyzer.thread_roles(info, &context, &facts);
    let runtime = info.runtime.as_str();
    let mut by_role: Vec<(String, String, RoleStats)> = Vec::new();
    for (thread, assignment) in threads.iter().zip(roles) {
        let index = match by_role
            .iter()
            .position(|(_, role, _)| role == assignment.role.as_str())
        {
            Some(index) => index,
            None => {
                by_role.push((
                    runtime.to_owned(),
                    assignment.role.as_str().to_owned(),
                    RoleStats::default(),
                ));
                by_role.len() - 1
            }
        };
        let stats = &mut by_role[index].2;
        stats.threads += 1;
        stats.busy += u64::from(is_busy(thread));
        if let Ok(stat) = thread.stat() {
            stats.cpu_seconds += system.ticks_to_seconds(stat.cpu_ticks());
        }
    }
    by_role
}

/// Busy: on a CPU, or in a system call other than waiting for work (futex, epoll, poll).
fn is_busy(thread: &ProcessSample) -> bool {
    match thread.syscall() {
        Ok(SyscallState::Running) => true,
        Ok(SyscallState::InSyscall { nr, .. }) => !matches!(
            syscalls::name(nr),
            Some(
                "futex"
                    | "futex_wait"
                    | "futex_waitv"
                    | "epoll_wait"
                    | "epoll_pwait"
                    | "epoll_pwait2"
                    | "poll"
                    | "ppoll"
                    | "select"
                    | "pselect6"
                    | "nanosleep"
                    | "clock_nanosleep"
            )
        ),
        Ok(SyscallState::Outside { .. }) => thread.stat().is_ok_and(|s| s.state == b'R'),
        Err(_) => false,
    }
}
