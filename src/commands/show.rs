//! `procscope show PID`: one process on one screen, every section fallible on its own.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use crate::analyze::fd_kind::{split_deleted, type_name};
use crate::analyze::memory::{Category, ThreadSp, classify};
use crate::analyze::runtime::{ClusterRole, RuntimeInfo};
use crate::analyze::sockets::{describe as describe_socket, socket_info};
use crate::collect::detail::{ProcessDetailFiles, read_detail_with};
use crate::collect::fds::inode_of;
use crate::collect::net::SocketTables;
use crate::collect::{Field, ProcFs, SystemInfo, TaskKind, UserNames};
use crate::columns::value::round2;
use crate::commands::not_a_process;
use crate::commands::show_security::{
    LIMIT_LABELS, ShowExtras, environment, environment_rows, security, security_rows,
};
use crate::exit::Exit;
use crate::model::Unavailable;
use crate::model::detail::{
    Counts, CpuSummary, Identity, LimitEntry, MemoryGroup, MemorySummary, ProcessDetail,
};
use crate::model::text::{lossless, lossless_list};
use crate::parse::cgroup::{parse_cgroup, summary as cgroup_summary};
use crate::parse::codes::{policy_name, state_name};
use crate::parse::tty::tty_name;
use crate::render::escape::Escaped;
use crate::render::json;
use crate::render::sheet;
use crate::render::table::{Text, Tone};
use crate::render::{Report, Style, units};

/// The limits `show` lists.
const SHOWN_LIMITS: &[&str] = &["Max open files", "Max stack size", "Max processes"];

/// The report for one process.
pub struct ShowReport {
    pub detail: ProcessDetail,
}

/// Reads and assembles the process.
pub fn run(
    pid: u32,
    procfs: &ProcFs,
    system: &SystemInfo,
    users: &UserNames,
    raw_cmdline: bool,
    extras: &ShowExtras,
) -> anyhow::Result<ShowReport> {
    crate::commands::ps::check_pid_max(pid, system)?;
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
            detail.unavailable.insert("environment".into(), why);
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

/// The runtime of the process, its thread roles (from `threads`) and, for a cluster
/// primary, its workers.
fn runtime_section(
    files: &ProcessDetailFiles,
    procfs: &ProcFs,
    system: &SystemInfo,
) -> Option<(
    RuntimeInfo,
    String,
    BTreeMap<crate::model::runtime::ThreadRole, u64>,
)> {
    crate::analyze::runtime::detect(&files.sample.runtime_facts())?;
    let pid = files.sample.pid;
    let options = crate::commands::threads::ThreadsOptions {
        samples: 3,
        roles: true,
        explain: false,
    };
    let threads = crate::commands::threads::run(pid, options, procfs, system).ok()?;
    let mut by_role = BTreeMap::new();
    for thread in &threads.list.threads {
        if let Some(role) = &thread.role {
            *by_role.entry(*role).or_insert(0) += 1;
        }
    }
    // The runtime as `threads` found it, a cluster primary's workers included.
    let info = threads.list.runtime.clone()?;
    Some((info, threads.list.runtime_summary?, by_role))
}

/// Records why fields are missing while the sections are built.
#[derive(Default)]
struct Recorder {
    unavailable: BTreeMap<String, Unavailable>,
}

impl Recorder {
    fn take<T>(&mut self, key: &str, field: Field<T>) -> Option<T> {
        match field {
            Ok(value) => Some(value),
            Err(why) => {
                self.unavailable.insert(key.to_owned(), why);
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
    let kind = sample.kind();
    let stat = sample.stat();
    let status = sample.status();
    let name = rec.take("identity.name", sample.name());
    let (name_text, name_b64) = name.as_deref().map(lossless).unzip();
    let argv = rec.take("identity.argv", sample.cmdline().cloned());
    let (argv_text, argv_b64) = argv.as_deref().map(lossless_list).unzip();
    let exe = rec.take("identity.exe", sample.exe().cloned());
    // Deleted by the file's link count, not by a name that may end in " (deleted)".
    let exe_split = (exe.as_ref()).map(|path| split_deleted(path, files.exe_nlink));
    let exe_deleted = exe_split.map(|(_, deleted)| deleted);
    let exe_path = exe_split.map(|(path, _)| path.to_vec());
    let (exe_text, exe_b64) = exe_path.as_deref().map(lossless).unzip();
    let cwd = rec.take("identity.cwd", files.cwd.clone());
    let (cwd_text, cwd_b64) = cwd.as_deref().map(lossless).unzip();
    let stat_value = rec.take("identity.state", stat.cloned());
    let st = stat_value.as_ref();
    let status_value = rec.take("identity.uids", status.cloned());
    let sv = status_value.as_ref();

    let identity = Identity {
        ppid: st.map(|s| s.ppid),
        name: name_text,
        name_b64: name_b64.flatten(),
        state: st.map(|s| char::from(s.state).to_string()),
        state_name: st.map(|s| state_name(s.state).to_owned()),
        kind: match kind {
            TaskKind::Normal => "process",
            TaskKind::Zombie => "zombie",
            TaskKind::KernelThread => "kernel_thread",
        }
        .to_owned(),
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
    };
    if status_value.is_none() {
        let why = status.err().unwrap_or(Unavailable::ReadError);
        for key in [
            "identity.user",
            "identity.gids",
            "identity.ns_pids",
            "cpu.affinity",
            "cpu.voluntary_ctxt_switches",
            "cpu.nonvoluntary_ctxt_switches",
            "memory.data_bytes",
            "memory.stack_bytes",
        ] {
            rec.unavailable.insert(key.to_owned(), why);
        }
    }

    let cpu = CpuSummary {
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
    };

    let rollup = rec.take("memory.pss_bytes", files.rollup);
    if let Err(why) = files.rollup {
        rec.unavailable.insert("memory.swap_bytes".into(), why);
    }
    // VmData and VmStk are absent from status when there is no memory at all.
    let no_memory = match kind {
        TaskKind::Zombie => Unavailable::Zombie,
        TaskKind::KernelThread => Unavailable::KernelThread,
        TaskKind::Normal => Unavailable::Unsupported,
    };
    for (key, status_key) in [
        ("memory.data_bytes", "VmData"),
        ("memory.stack_bytes", "VmStk"),
    ] {
        if sv.is_some_and(|s| s.get(status_key).is_none()) {
            rec.unavailable.insert(key.to_owned(), no_memory);
        }
    }
    let memory = MemorySummary {
        rss_bytes: rec.take("memory.rss_bytes", sample.rss_bytes(system.page_size)),
        vsz_bytes: st.map(|s| s.vsize_bytes),
        pss_bytes: rollup.map(|r| r.pss),
        swap_bytes: rollup.map(|r| r.swap),
        data_bytes: sv.and_then(|s| s.kib_as_bytes("VmData")),
        stack_bytes: sv.and_then(|s| s.kib_as_bytes("VmStk")),
    };

    let limits = rec.take("limits", files.limits.clone()).unwrap_or_default();
    let fd_soft_limit = limits
        .iter()
        .find(|l| l.name == "Max open files")
        .and_then(|l| l.soft);
    let threads_by_state = rec
        .take("counts.threads_by_state", files.thread_states.clone())
        .map(|states| {
            let mut by_state = BTreeMap::new();
            for state in states {
                *by_state.entry(char::from(state).to_string()).or_insert(0) += 1;
            }
            by_state
        });
    let tables = files.sockets.as_ref();
    let index = tables.map(SocketTables::index).unwrap_or_default();
    let fd_entries = rec.take("counts.fds", files.fds.clone());
    if let Err(why) = &files.fds {
        rec.unavailable.insert("counts.fds_by_type".into(), *why);
    }
    let fds_by_type = fd_entries.as_ref().map(|entries| {
        let mut by_type = BTreeMap::new();
        for entry in entries {
            let kind = match entry.target_unavailable {
                Some(_) => crate::commands::fds::UNKNOWN_KIND.to_owned(),
                None => type_name(entry, &index),
            };
            *by_type.entry(kind).or_insert(0) += 1;
        }
        by_type
    });
    let listening = fd_entries.as_ref().map(|entries| {
        let mut seen = std::collections::HashSet::new();
        entries
            .iter()
            .filter_map(|entry| inode_of(&entry.target, b"socket"))
            .filter(|inode| seen.insert(*inode))
            .map(|inode| socket_info(&index, inode))
            .filter(|info| matches!(info.state.as_deref(), Some("LISTEN" | "BOUND")))
            .collect()
    });
    if let Err(why) = &files.fds {
        rec.unavailable.insert("listening".into(), *why);
    }
    // Sockets behind links we may not read are unknown, so "none" would be wrong.
    let denied_link = fd_entries
        .iter()
        .flatten()
        .find_map(|entry| entry.target_unavailable);
    let listening = match denied_link {
        Some(why) => {
            rec.unavailable.insert("listening".into(), why);
            None
        }
        None => listening,
    };
    let memory_map = memory_groups(files, &mut rec);
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
    let cgroups = rec
        .take("cgroup", files.cgroup.clone())
        .map(|raw| parse_cgroup(&raw));
    if let Err(why) = &files.cgroup {
        rec.unavailable.insert("cgroups".into(), *why);
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
            rec.unavailable.insert("memory_map".into(), why);
            return None;
        }
    };
    let entries = rec.take("memory_map", memory.smaps.clone())?;
    let maps: Vec<_> = entries.iter().map(|e| e.mapping.clone()).collect();
    let sps: Vec<ThreadSp> = memory
        .threads
        .iter()
        .filter_map(|(tid, _, sp)| {
            Some(ThreadSp {
                tid: *tid,
                sp: (*sp)?,
            })
        })
        .collect();
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

impl Report for ShowReport {
    fn command(&self) -> &'static str {
        "show"
    }

    fn json(&self) -> Map<String, Json> {
        json::member("process", &self.detail)
    }

    fn table(&self, style: &Style) -> String {
        let d = &self.detail;
        let mut title = Escaped::text(&format!("PID {}  ", d.pid));
        match d.identity.name.as_deref() {
            Some(name) => title.push(&exact_text(name, d.identity.name_b64.as_deref())),
            None => title.push_text("-"),
        }
        [
            sheet::section(&title, self.identity_rows(), style),
            sheet::section(&"CPU".into(), self.cpu_rows(), style),
            self.runtime_rows()
                .map(|rows| sheet::section(&"Runtime".into(), rows, style))
                .unwrap_or_default(),
            sheet::section(&"Memory".into(), self.memory_rows(), style),
            sheet::section(&"Memory map".into(), self.memory_map_rows(), style),
            sheet::section(&"Limits".into(), self.limit_rows(), style),
            sheet::section(
                &"Security".into(),
                security_rows(&d.security, &d.unavailable),
                style,
            ),
            d.environment
                .as_ref()
                .map(|env| sheet::section(&"Environment".into(), environment_rows(env), style))
                .unwrap_or_default(),
        ]
        .concat()
    }

    fn exit(&self) -> Exit {
        Exit::Success
    }
}

type Rows = Vec<(&'static str, Text)>;

impl ShowReport {
    /// A value, or `-` with the reason recorded for `key`.
    fn or_reason(&self, key: &str, value: Option<impl Into<Escaped>>) -> Text {
        match value {
            Some(text) => Text::plain(text),
            None => match self.detail.unavailable.get(key) {
                Some(why) => Text::toned(format!("- ({why})"), Tone::Dim),
                None => Text::toned("-", Tone::Dim),
            },
        }
    }

    fn identity_rows(&self) -> Rows {
        let id = &self.detail.identity;
        let state = id
            .state
            .as_ref()
            .map(|s| format!("{s} ({})", id.state_name.clone().unwrap_or_default()));
        let user = id.user.as_ref().map(|user| {
            let uids = id
                .uids
                .as_ref()
                .map(|u| format!(" (uid {})", join(u)))
                .unwrap_or_default();
            format!("{user}{uids}")
        });
        let argv = id
            .argv
            .as_ref()
            .map(|argv| match (argv.is_empty(), id.kind.as_str()) {
                (true, "kernel_thread") => Escaped::text("(none: kernel thread)"),
                (true, "zombie") => Escaped::text("(none: zombie)"),
                _ => Escaped::join(
                    argv.iter().enumerate().map(|(i, arg)| {
                        exact_text(
                            arg,
                            id.argv_b64
                                .as_ref()
                                .and_then(|b| b.get(i))
                                .map(String::as_str),
                        )
                    }),
                    " ",
                ),
            });
        let exe = id.exe.as_ref().map(|exe| {
            let deleted = if id.exe_deleted == Some(true) {
                " (deleted)"
            } else {
                ""
            };
            let mut text = exact_text(exe, id.exe_b64.as_deref());
            text.push_text(deleted);
            text
        });
        let started = id.start_time_unix.map(|t| {
            format!(
                "{} ({} ago)",
                units::date_time(t),
                units::age(id.age_seconds.unwrap_or(0.0))
            )
        });
        let ns = id
            .ns_pids
            .as_ref()
            .filter(|ns| ns.len() > 1)
            .map(|ns| join(ns));
        let mut rows = vec![
            (
                "parent",
                self.or_reason("identity.state", id.ppid.map(|p| p.to_string())),
            ),
            ("state", self.or_reason("identity.state", state)),
            ("kind", Text::plain(id.kind.replace('_', " "))),
            ("user", self.or_reason("identity.uids", user)),
            ("command", self.or_reason("identity.argv", argv)),
            ("exe", self.or_reason("identity.exe", exe)),
            (
                "cwd",
                self.or_reason(
                    "identity.cwd",
                    id.cwd
                        .as_deref()
                        .map(|cwd| exact_text(cwd, id.cwd_b64.as_deref())),
                ),
            ),
            ("started", self.or_reason("identity.state", started)),
            (
                "tty",
                Text::plain(id.tty.clone().unwrap_or_else(|| "none".into())),
            ),
            (
                "session",
                self.or_reason("identity.state", id.session.map(|s| s.to_string())),
            ),
            (
                "group",
                self.or_reason("identity.state", id.pgid.map(|s| s.to_string())),
            ),
            (
                "cgroup",
                self.or_reason(
                    "cgroup",
                    self.detail
                        .cgroup
                        .as_deref()
                        .map(|cgroup| exact_text(cgroup, self.detail.cgroup_b64.as_deref())),
                ),
            ),
        ];
        if let Some(ns) = ns {
            rows.push(("ns pids", Text::plain(ns)));
        }
        rows
    }

    fn cpu_rows(&self) -> Rows {
        let cpu = &self.detail.cpu;
        let times = cpu
            .user_seconds
            .zip(cpu.system_seconds)
            .map(|(u, s)| format!("{} user, {} system", units::cpu_time(u), units::cpu_time(s)));
        let switches = cpu
            .voluntary_ctxt_switches
            .zip(cpu.nonvoluntary_ctxt_switches)
            .map(|(v, n)| format!("{v} voluntary, {n} involuntary"));
        vec![
            ("time", self.or_reason("identity.state", times)),
            (
                "%cpu",
                self.or_reason("identity.state", cpu.cpu_percent.map(units::percent)),
            ),
            (
                "nice",
                self.or_reason("identity.state", cpu.nice.map(|n| n.to_string())),
            ),
            (
                "priority",
                self.or_reason("identity.state", cpu.priority.map(|n| n.to_string())),
            ),
            (
                "policy",
                self.or_reason("identity.state", cpu.policy.clone()),
            ),
            (
                "last cpu",
                self.or_reason("identity.state", cpu.last_cpu.map(|n| n.to_string())),
            ),
            (
                "affinity",
                self.or_reason("cpu.affinity", cpu.affinity.clone()),
            ),
            (
                "switches",
                self.or_reason("cpu.voluntary_ctxt_switches", switches),
            ),
        ]
    }

    fn memory_rows(&self) -> Rows {
        let m = &self.detail.memory;
        let c = &self.detail.counts;
        let bytes = |v: Option<u64>| v.map(units::bytes);
        let fds = c.fds.map(|n| match c.fd_soft_limit {
            Some(limit) => format!("{n} of {limit}"),
            None => n.to_string(),
        });
        vec![
            (
                "rss",
                self.or_reason("memory.rss_bytes", bytes(m.rss_bytes)),
            ),
            (
                "pss",
                self.or_reason("memory.pss_bytes", bytes(m.pss_bytes)),
            ),
            (
                "swap",
                self.or_reason("memory.swap_bytes", bytes(m.swap_bytes)),
            ),
            (
                "virtual",
                self.or_reason("identity.state", bytes(m.vsz_bytes)),
            ),
            (
                "data",
                self.or_reason("memory.data_bytes", bytes(m.data_bytes)),
            ),
            (
                "stack",
                self.or_reason("memory.stack_bytes", bytes(m.stack_bytes)),
            ),
            (
                "threads",
                self.or_reason("identity.state", c.threads.map(|n| self.threads_text(n))),
            ),
            ("open fds", self.or_reason("counts.fds", fds)),
            (
                "fd types",
                self.or_reason("counts.fds_by_type", self.fd_types()),
            ),
            (
                "listening",
                self.or_reason("listening", self.listening_text()),
            ),
        ]
    }

    /// The runtime, its threads by role, and the cluster role.
    fn runtime_rows(&self) -> Option<Rows> {
        let info = self.detail.runtime.as_ref()?;
        let mut rows = vec![(
            "runtime",
            Text::plain(
                self.detail
                    .runtime_summary
                    .clone()
                    .unwrap_or_else(|| info.label()),
            ),
        )];
        let cluster = info.cluster.as_ref().map(ClusterRole::sentence);
        if let Some(cluster) = cluster {
            rows.push(("cluster", Text::plain(cluster)));
        }
        for (key, value) in &info.settings {
            rows.push(("setting", Text::plain(format!("{key}={value}"))));
        }
        Some(rows)
    }

    /// Heap, stacks, code, libraries and anonymous memory: RSS (virtual).
    fn memory_map_rows(&self) -> Rows {
        let Some(groups) = &self.detail.memory_map else {
            return vec![("map", self.or_reason("memory_map", None::<Escaped>))];
        };
        groups
            .iter()
            // The groups most processes lack are shown only when they hold something.
            .filter(|g| g.mappings > 0 || MEMORY_GROUPS[..5].contains(&g.group.as_str()))
            .map(|g| {
                let key = match g.group.as_str() {
                    "heap" => "heap",
                    "stacks" => "stacks",
                    "code" => "code",
                    "libraries" => "libraries",
                    "anonymous" => "anonymous",
                    "shared_memory" => "shared memory",
                    "other_files" => "other files",
                    _ => "special",
                };
                let what = match (g.thread_stacks, g.unowned_stacks) {
                    (Some(n), Some(0) | None) => {
                        format!(
                            "main + {}: ",
                            units::count(n, "thread stack", "thread stacks")
                        )
                    }
                    (Some(n), Some(u)) => {
                        format!(
                            "main + {} + {u} of unknown owner: ",
                            units::count(n, "thread stack", "thread stacks")
                        )
                    }
                    _ => String::new(),
                };
                let text = format!(
                    "{what}{} resident of {} virtual",
                    units::bytes(g.rss_bytes),
                    units::bytes(g.virtual_bytes)
                );
                (key, Text::plain(text))
            })
            .collect()
    }

    /// `3 file, 2 tcp, 1 pipe`.
    fn fd_types(&self) -> Option<String> {
        let by_type = self.detail.counts.fds_by_type.as_ref()?;
        let mut counts: Vec<(&String, &u64)> = by_type.iter().collect();
        counts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        Some(
            counts
                .iter()
                .map(|(kind, n)| format!("{n} {kind}"))
                .collect::<Vec<_>>()
                .join(", "),
        )
    }

    /// `tcp 127.0.0.1:3000 LISTEN; udp *:5353 BOUND`, or `none`.
    fn listening_text(&self) -> Option<String> {
        let listening = self.detail.listening.as_ref()?;
        if listening.is_empty() {
            return Some("none".into());
        }
        Some(
            listening
                .iter()
                .map(describe_socket)
                .collect::<Vec<_>>()
                .join("; "),
        )
    }

    /// `7 (6 sleeping, 1 running)`.
    fn threads_text(&self, count: u64) -> String {
        match &self.detail.counts.threads_by_state {
            Some(states) if !states.is_empty() => {
                let parts: Vec<String> = states
                    .iter()
                    .map(|(state, n)| format!("{n} {}", state_name(state.as_bytes()[0])))
                    .collect();
                format!("{count} ({})", parts.join(", "))
            }
            _ => count.to_string(),
        }
    }

    fn limit_rows(&self) -> Rows {
        if self.detail.limits.is_empty() {
            return vec![("limits", self.or_reason("limits", None::<Escaped>))];
        }
        self.detail
            .limits
            .iter()
            .map(|limit| {
                let label = LIMIT_LABELS
                    .iter()
                    .find(|(name, _)| *name == limit.name)
                    .map_or("other", |(_, label)| label);
                let show = |v: Option<u64>| match (v, limit.unit.as_str()) {
                    (None, _) => "unlimited".to_owned(),
                    (Some(v), "bytes") => units::bytes(v),
                    (Some(v), _) => v.to_string(),
                };
                (
                    label,
                    Text::plain(format!("{} (hard {})", show(limit.soft), show(limit.hard))),
                )
            })
            .collect()
    }
}

/// The table form of a text field: its exact bytes (from the base64 form when the bytes are
/// not UTF-8), escaped.
pub fn exact_text(text: &str, b64: Option<&str>) -> Escaped {
    use base64::Engine;
    match b64.and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok()) {
        Some(bytes) => Escaped::bytes(&bytes),
        None => Escaped::text(text),
    }
}

fn join(values: &[u64]) -> String {
    values
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The JSON Schema of `show --json`.
pub fn schema() -> Json {
    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct ShowPayload {
        process: ProcessDetail,
    }
    crate::render::json::document_schema(
        "show",
        "procscope show --json",
        crate::render::json::schema_of::<ShowPayload>(),
    )
}
