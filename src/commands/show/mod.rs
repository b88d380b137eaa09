//! `procscope show PID`: one process on one screen, every section fallible on its own.

pub mod security;

use std::collections::BTreeMap;

use crate::analyze::fd_kind::{split_deleted, type_name};
use crate::analyze::memory::{Category, ThreadSp, classify};
use crate::analyze::runtime::facts;
use crate::analyze::runtime::family::Family;
use crate::analyze::sockets::socket_info;
use crate::collect::detail::{ProcessDetailFiles, read_detail_with};
use crate::collect::fds::FdEntry;
use crate::collect::net::{SocketIndex, SocketTables};
use crate::collect::thread_facts::{self, Observed};
use crate::collect::threads::{Switches, read_threads};
use crate::collect::{Field, ProcFs, SystemInfo, TaskKind, UserNames};
use crate::columns::value::round2;
use crate::commands::not_a_process;
use crate::model::Unavailable;
use crate::model::detail::{
    Counts, CpuSummary, Identity, LimitEntry, MemoryGroup, MemorySummary, ProcessDetail,
    ProcessKind,
};
use crate::model::fd::{FdKind, SocketInfo};
use crate::model::fields::DetailField;
use crate::model::report::ShowReport;
use crate::model::runtime::{RuntimeInfo, ThreadRole};
use crate::model::text::{lossless, lossless_list};
use crate::parse::cgroup::{parse_cgroup, summary as cgroup_summary};
use crate::parse::codes::{policy_name, state_name};
use crate::parse::keyed::Keyed;
use crate::parse::link::inode_of;
use crate::parse::maps::Mapping;
use crate::parse::stat::Stat;
use crate::parse::tty::tty_name;
use crate::query::show::ShowExtras;
use security::{environment, security};

/// The limits `show` lists.
const SHOWN_LIMITS: &[&str] = &["Max open files", "Max stack size", "Max processes"];

/// Reads and assembles the process.
pub fn run(
    pid: u32,
    procfs: &ProcFs,
    system: &SystemInfo,
    users: &UserNames,
    raw_cmdline: bool,
    extras: &ShowExtras,
) -> anyhow::Result<ShowReport> {
    crate::query::pid::check_pid_max(pid, system.pid_max).map_err(crate::exit::usage)?;
    let files =
        read_detail_with(procfs, pid, extras.env).map_err(|why| not_a_process("show", pid, why))?;
    let runtime = runtime_section(&files, procfs, system);
    let mut detail = assemble(&files, system, users, extras.all_limits);
    detail.security = security(
        &files.sample,
        &files.security,
        users,
        &mut detail.unavailable,
    );
    match &files.security.environ {
        Some(Ok(environ)) => detail.environment = Some(environment(environ, &extras.secrets)),
        Some(Err(why)) => {
            let why = crate::collect::process::explain(*why, files.sample.kind());
            detail.unavailable.insert(DetailField::Environment, why);
        }
        None => {}
    }
    if raw_cmdline {
        use base64::Engine;
        detail.identity.cmdline_b64 = (files.sample.cmdline_raw.as_deref())
            .map(|raw| base64::engine::general_purpose::STANDARD.encode(raw));
    }
    if let Some((info, summary, by_role)) = runtime {
        detail.runtime = Some(info);
        detail.runtime_summary = Some(summary);
        detail.counts.threads_by_role = Some(by_role);
    }
    Ok(ShowReport { detail })
}

/// The runtime of the process, its thread roles counted (judged as `threads` judges them)
/// and, for a cluster primary, its workers; the threads are read through the handle
/// `show` already holds.
fn runtime_section(
    files: &ProcessDetailFiles,
    procfs: &ProcFs,
    system: &SystemInfo,
) -> Option<(RuntimeInfo, String, BTreeMap<ThreadRole, u64>)> {
    let (analyzer, mut info) = crate::analyze::runtime::detect(&files.sample.runtime_facts())?;
    if info.may_lead_workers() {
        let pid = files.sample.pid;
        let children = crate::collect::family::read_children_runtimes(procfs, &[pid]);
        if let Some(primary) = Family::of(&children).primaries_among(&[pid]).remove(&pid) {
            info.cluster = Some(primary);
        }
    }
    let threads = read_threads(&files.dir, 3, Switches::Status).ok()?;
    let maps: Vec<Mapping> = (files.memory.as_ref())
        .and_then(|memory| memory.smaps.as_ref().ok())
        .map(|entries| entries.iter().map(|e| e.mapping.clone()).collect())
        .unwrap_or_default();
    let observed = Observed::of_samples(&threads);
    let reads = thread_facts::read(
        &files.dir,
        &files.sample,
        &observed,
        system,
        facts::epoll_fd,
    );
    let (facts, context) = facts::role_facts(&reads, &maps);
    let roles = analyzer.thread_roles(&info, &context, &facts);
    let summary = analyzer.summary(&info, &roles);
    let mut by_role = BTreeMap::new();
    for assignment in roles {
        *by_role.entry(assignment.role).or_insert(0) += 1;
    }
    Some((info, summary, by_role))
}

/// Records why fields are missing while the sections are built.
#[derive(Default)]
struct Recorder {
    unavailable: BTreeMap<DetailField, Unavailable>,
}

impl Recorder {
    fn take<T>(&mut self, key: DetailField, field: Field<T>) -> Option<T> {
        match field {
            Ok(value) => Some(value),
            Err(why) => {
                self.unavailable.insert(key, why);
                None
            }
        }
    }
}

fn assemble(
    files: &ProcessDetailFiles,
    system: &SystemInfo,
    users: &UserNames,
    all_limits: bool,
) -> ProcessDetail {
    let mut rec = Recorder::default();
    let sample = &files.sample;
    let stat_value = rec.take(DetailField::IdentityState, sample.stat().cloned());
    let st = stat_value.as_ref();
    let status_value = rec.take(DetailField::IdentityUids, sample.status().cloned());
    let sv = status_value.as_ref();
    let identity = identity(files, st, sv, system, users, &mut rec);
    let cpu = cpu_summary(st, sv, system);
    let memory = memory_summary(files, st, sv, system, &mut rec);
    let (counts, listening, limits) = counts_and_limits(files, st, all_limits, &mut rec);
    let memory_map = memory_groups(files, &mut rec);
    let cgroups = rec
        .take(DetailField::Cgroup, files.cgroup.clone())
        .map(|raw| parse_cgroup(&raw));
    if let Err(why) = &files.cgroup {
        rec.unavailable.insert(DetailField::Cgroups, *why);
    }
    let (cgroup, cgroup_b64) = files
        .cgroup
        .as_ref()
        .ok()
        .map(|raw| lossless(&cgroup_summary(raw)))
        .unzip();

    ProcessDetail {
        pid: sample.pid,
        identity,
        cpu,
        memory,
        counts,
        limits,
        runtime: None,
        runtime_summary: None,
        memory_map,
        listening,
        cgroup,
        cgroup_b64: cgroup_b64.flatten(),
        cgroups,
        security: Default::default(),
        environment: None,
        unavailable: rec.unavailable,
    }
}

/// The identity section; a missing `status` is recorded for every field that needs it.
fn identity(
    files: &ProcessDetailFiles,
    st: Option<&Stat>,
    sv: Option<&Keyed>,
    system: &SystemInfo,
    users: &UserNames,
    rec: &mut Recorder,
) -> Identity {
    let sample = &files.sample;
    let kind = sample.kind();
    let name = rec.take(DetailField::IdentityName, sample.name());
    let (name_text, name_b64) = name.as_deref().map(lossless).unzip();
    let argv = rec.take(DetailField::IdentityArgv, sample.cmdline().cloned());
    let (argv_text, argv_b64) = argv.as_deref().map(lossless_list).unzip();
    let exe = rec.take(DetailField::IdentityExe, sample.exe().cloned());
    // Deleted by the file's link count, not by a name that may end in " (deleted)".
    let exe_split = (exe.as_ref()).map(|path| split_deleted(path, files.exe_nlink));
    let exe_deleted = exe_split.map(|(_, deleted)| deleted);
    let exe_path = exe_split.map(|(path, _)| path.to_vec());
    let (exe_text, exe_b64) = exe_path.as_deref().map(lossless).unzip();
    let cwd = rec.take(DetailField::IdentityCwd, files.cwd.clone());
    let (cwd_text, cwd_b64) = cwd.as_deref().map(lossless).unzip();
    if sv.is_none() {
        let why = sample.status().err().unwrap_or(Unavailable::ReadError);
        for key in [
            DetailField::IdentityUser,
            DetailField::IdentityGids,
            DetailField::IdentityNsPids,
            DetailField::CpuAffinity,
            DetailField::CpuVoluntaryCtxtSwitches,
            DetailField::CpuNonvoluntaryCtxtSwitches,
            DetailField::MemoryDataBytes,
            DetailField::MemoryStackBytes,
        ] {
            rec.unavailable.insert(key, why);
        }
    }

    Identity {
        ppid: st.map(|s| s.ppid),
        name: name_text,
        name_b64: name_b64.flatten(),
        state: st.map(|s| char::from(s.state).to_string()),
        state_name: st.map(|s| state_name(s.state).to_owned()),
        kind: match kind {
            TaskKind::Normal => ProcessKind::Process,
            TaskKind::Zombie => ProcessKind::Zombie,
            TaskKind::KernelThread => ProcessKind::KernelThread,
        },
        user: sample.euid().ok().map(|uid| users.name(uid)),
        uids: sv.and_then(|s| s.numbers("Uid")),
        gids: sv.and_then(|s| s.numbers("Gid")),
        argv: argv_text,
        argv_b64: argv_b64.flatten(),
        argv_truncated: sample.argv_truncated,
        cmdline_b64: None,
        exe: exe_text,
        exe_b64: exe_b64.flatten(),
        exe_deleted,
        cwd: cwd_text,
        cwd_b64: cwd_b64.flatten(),
        start_time_unix: st.map(|s| system.start_time_unix(s.starttime_ticks)),
        age_seconds: st.map(|s| system.age_seconds(s.starttime_ticks)),
        tty: st.and_then(|s| tty_name(s.tty_nr)),
        session: st.map(|s| s.session),
        pgid: st.map(|s| s.pgrp),
        ns_pids: sv.and_then(|s| s.numbers("NSpid")),
    }
}

fn cpu_summary(st: Option<&Stat>, sv: Option<&Keyed>, system: &SystemInfo) -> CpuSummary {
    CpuSummary {
        user_seconds: st.map(|s| system.ticks_to_seconds(s.utime_ticks)),
        system_seconds: st.map(|s| system.ticks_to_seconds(s.stime_ticks)),
        cpu_percent: st
            .map(|s| round2(system.lifetime_cpu_percent(s.cpu_ticks(), s.starttime_ticks))),
        nice: st.map(|s| s.nice),
        priority: st.map(|s| s.priority),
        policy: st.and_then(|s| s.policy).map(policy_name),
        last_cpu: st.and_then(|s| s.processor),
        affinity: sv.and_then(|s| s.text("Cpus_allowed_list")),
        voluntary_ctxt_switches: sv.and_then(|s| s.number("voluntary_ctxt_switches")),
        nonvoluntary_ctxt_switches: sv.and_then(|s| s.number("nonvoluntary_ctxt_switches")),
    }
}

/// The memory section: sizes from `stat`, `status` and the kernel's rollup.
fn memory_summary(
    files: &ProcessDetailFiles,
    st: Option<&Stat>,
    sv: Option<&Keyed>,
    system: &SystemInfo,
    rec: &mut Recorder,
) -> MemorySummary {
    let sample = &files.sample;
    let kind = sample.kind();
    let rollup = rec.take(DetailField::MemoryPssBytes, files.rollup);
    if let Err(why) = files.rollup {
        rec.unavailable.insert(DetailField::MemorySwapBytes, why);
    }
    // VmData and VmStk are absent from status when there is no memory at all.
    let no_memory = match kind {
        TaskKind::Zombie => Unavailable::Zombie,
        TaskKind::KernelThread => Unavailable::KernelThread,
        TaskKind::Normal => Unavailable::Unsupported,
    };
    for (key, status_key) in [
        (DetailField::MemoryDataBytes, "VmData"),
        (DetailField::MemoryStackBytes, "VmStk"),
    ] {
        if sv.is_some_and(|s| s.get(status_key).is_none()) {
            rec.unavailable.insert(key.to_owned(), no_memory);
        }
    }
    MemorySummary {
        rss_bytes: rec.take(
            DetailField::MemoryRssBytes,
            sample.rss_bytes(system.page_size),
        ),
        vsz_bytes: st.map(|s| s.vsize_bytes),
        pss_bytes: rollup.map(|r| r.pss),
        swap_bytes: rollup.map(|r| r.swap),
        data_bytes: sv.and_then(|s| s.kib_as_bytes("VmData")),
        stack_bytes: sv.and_then(|s| s.kib_as_bytes("VmStk")),
    }
}

/// Thread and descriptor counts, the listening sockets, and the limits shown.
fn counts_and_limits(
    files: &ProcessDetailFiles,
    st: Option<&Stat>,
    all_limits: bool,
    rec: &mut Recorder,
) -> (Counts, Option<Vec<SocketInfo>>, Vec<LimitEntry>) {
    let limits = rec
        .take(DetailField::Limits, files.limits.clone())
        .unwrap_or_default();
    let fd_soft_limit = limits
        .iter()
        .find(|l| l.name == "Max open files")
        .and_then(|l| l.soft);
    let threads_by_state = rec
        .take(
            DetailField::CountsThreadsByState,
            files.thread_states.clone(),
        )
        .map(|states| {
            let mut by_state = BTreeMap::new();
            for state in states {
                *by_state.entry(char::from(state).to_string()).or_insert(0) += 1;
            }
            by_state
        });
    let tables = files.sockets.as_ref();
    let index = tables.map(SocketTables::index).unwrap_or_default();
    let fd_entries = rec.take(DetailField::CountsFds, files.fds.clone());
    if let Err(why) = &files.fds {
        rec.unavailable.insert(DetailField::CountsFdsByType, *why);
    }
    let fds_by_type = fd_entries.as_ref().map(|entries| {
        let mut by_type = BTreeMap::new();
        for entry in entries {
            let kind = match entry.target_unavailable {
                Some(_) => FdKind::Unknown.name().to_owned(),
                None => type_name(entry, &index),
            };
            *by_type.entry(kind).or_insert(0) += 1;
        }
        by_type
    });
    let listening = listening(files, fd_entries.as_deref(), &index, rec);
    let counts = Counts {
        threads: st.map(|s| s.num_threads),
        threads_by_state,
        threads_by_role: None,
        fds: fd_entries.as_ref().map(|entries| entries.len() as u64),
        fds_by_type,
        fd_soft_limit,
    };
    let limits = limits
        .into_iter()
        .filter(|limit| all_limits || SHOWN_LIMITS.contains(&limit.name.as_str()))
        .map(|l| LimitEntry {
            name: l.name,
            soft: l.soft,
            hard: l.hard,
            unit: l.unit,
        })
        .collect();
    (counts, listening, limits)
}

/// The sockets the process listens on; unknown when its descriptors (or some of their
/// links) could not be read.
fn listening(
    files: &ProcessDetailFiles,
    fd_entries: Option<&[FdEntry]>,
    index: &SocketIndex<'_>,
    rec: &mut Recorder,
) -> Option<Vec<SocketInfo>> {
    let listening = fd_entries.map(|entries| {
        let mut seen = std::collections::HashSet::new();
        entries
            .iter()
            .filter_map(|entry| inode_of(&entry.target, b"socket"))
            .filter(|inode| seen.insert(*inode))
            .map(|inode| socket_info(index, inode))
            .filter(|info| matches!(info.state.as_deref(), Some("LISTEN" | "BOUND")))
            .collect()
    });
    if let Err(why) = &files.fds {
        rec.unavailable.insert(DetailField::Listening, *why);
    }
    // Sockets behind links we may not read are unknown, so "none" would be wrong.
    let denied_link = fd_entries
        .into_iter()
        .flatten()
        .find_map(|entry| entry.target_unavailable);
    match denied_link {
        Some(why) => {
            rec.unavailable.insert(DetailField::Listening, why);
            None
        }
        None => listening,
    }
}

/// The groups of `show`'s memory map; every mapping is in one, so their RSS adds up to the
/// process's.
const MEMORY_GROUPS: &[&str] = &[
    "heap",
    "stacks",
    "code",
    "libraries",
    "anonymous",
    "shared_memory",
    "other_files",
    "special",
];

/// Heap, stacks, code, libraries, anonymous and shared memory, other files and the kernel's
/// special mappings, from the classified memory map.
fn memory_groups(files: &ProcessDetailFiles, rec: &mut Recorder) -> Option<Vec<MemoryGroup>> {
    let memory = match &files.memory {
        Some(memory) => memory,
        None => {
            let why = match files.sample.kind() {
                TaskKind::Zombie => Unavailable::Zombie,
                _ => Unavailable::KernelThread,
            };
            rec.unavailable.insert(DetailField::MemoryMap, why);
            return None;
        }
    };
    let entries = rec.take(DetailField::MemoryMap, memory.smaps.clone())?;
    let maps: Vec<_> = entries.iter().map(|e| e.mapping.clone()).collect();
    let sps = ThreadSp::of_threads(&memory.threads);
    let categories = classify(&maps, memory.exe.as_deref(), &sps);
    let mut groups: Vec<MemoryGroup> = MEMORY_GROUPS
        .iter()
        .map(|group| MemoryGroup {
            group: (*group).to_owned(),
            rss_bytes: 0,
            virtual_bytes: 0,
            mappings: 0,
            thread_stacks: None,
            unowned_stacks: None,
        })
        .collect();
    let (mut thread_stacks, mut unowned_stacks) = (0, 0);
    for (entry, category) in entries.iter().zip(&categories) {
        let index = match category {
            Category::Heap | Category::MallocArena => 0,
            Category::MainStack => 1,
            Category::ThreadStack(owner) => {
                // A stack and its guard page are two mappings of one stack.
                let counted = u64::from(!entry.mapping.is_inaccessible());
                match owner {
                    Some(_) => thread_stacks += counted,
                    None => unowned_stacks += counted,
                }
                1
            }
            Category::Executable => 2,
            Category::Library(_) => 3,
            Category::AnonData | Category::AnonExec | Category::Reservation => 4,
            Category::SharedMemory => 5,
            Category::FileMapping => 6,
            Category::Special => 7,
        };
        let group = &mut groups[index];
        group.rss_bytes += entry.rss;
        group.virtual_bytes += entry.mapping.size();
        group.mappings += 1;
    }
    groups[1].thread_stacks = Some(thread_stacks);
    groups[1].unowned_stacks = Some(unowned_stacks);
    Some(groups)
}
