//! The `show` sheet: one process on one screen, section by section; a missing value
//! shows `-` with its reason from the payload's `unavailable`.

use crate::model::detail::{Identity, ProcessKind};
use crate::model::fields::DetailField;
use crate::model::report::ShowReport;
use crate::model::runtime::ClusterRole;
use crate::model::socket::describe as describe_socket;
use crate::parse::codes::state_name;
use crate::render::sheet;
use crate::render::show_security::{LIMIT_LABELS, environment_rows, security_rows};
use crate::render::table::{Text, Tone};
use crate::render::{Sheet, Style};
use crate::text::escape::{Escaped, exact_text};
use crate::text::units;

/// The memory groups the sheet lists even when no mapping falls in them.
const ALWAYS_SHOWN_GROUPS: &[&str] = &["heap", "stacks", "code", "libraries", "anonymous"];

impl Sheet for ShowReport {
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
}

type Rows = Vec<(&'static str, Text)>;

impl ShowReport {
    /// A value, or `-` with the reason recorded for `key`.
    fn or_reason(&self, key: DetailField, value: Option<impl Into<Escaped>>) -> Text {
        match value {
            Some(text) => Text::plain(text),
            None => match self.detail.unavailable.get(&key) {
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
        let argv = command_text(id);
        let exe = exe_text(id);
        let ns = id
            .ns_pids
            .as_ref()
            .filter(|ns| ns.len() > 1)
            .map(|ns| join(ns));
        let mut rows = vec![
            (
                "parent",
                self.or_reason(DetailField::IdentityState, id.ppid.map(|p| p.to_string())),
            ),
            ("state", self.or_reason(DetailField::IdentityState, state)),
            ("kind", Text::plain(id.kind.words())),
            ("user", self.or_reason(DetailField::IdentityUids, user)),
            ("command", self.or_reason(DetailField::IdentityArgv, argv)),
            ("exe", self.or_reason(DetailField::IdentityExe, exe)),
            (
                "cwd",
                self.or_reason(
                    DetailField::IdentityCwd,
                    id.cwd
                        .as_deref()
                        .map(|cwd| exact_text(cwd, id.cwd_b64.as_deref())),
                ),
            ),
            (
                "started",
                self.or_reason(DetailField::IdentityState, started_text(id)),
            ),
            (
                "tty",
                Text::plain(id.tty.clone().unwrap_or_else(|| "none".into())),
            ),
            (
                "session",
                self.or_reason(
                    DetailField::IdentityState,
                    id.session.map(|s| s.to_string()),
                ),
            ),
            (
                "group",
                self.or_reason(DetailField::IdentityState, id.pgid.map(|s| s.to_string())),
            ),
            (
                "cgroup",
                self.or_reason(
                    DetailField::Cgroup,
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
            ("time", self.or_reason(DetailField::IdentityState, times)),
            (
                "%cpu",
                self.or_reason(
                    DetailField::IdentityState,
                    cpu.cpu_percent.map(units::percent),
                ),
            ),
            (
                "nice",
                self.or_reason(DetailField::IdentityState, cpu.nice.map(|n| n.to_string())),
            ),
            (
                "priority",
                self.or_reason(
                    DetailField::IdentityState,
                    cpu.priority.map(|n| n.to_string()),
                ),
            ),
            (
                "policy",
                self.or_reason(DetailField::IdentityState, cpu.policy.clone()),
            ),
            (
                "last cpu",
                self.or_reason(
                    DetailField::IdentityState,
                    cpu.last_cpu.map(|n| n.to_string()),
                ),
            ),
            (
                "affinity",
                self.or_reason(DetailField::CpuAffinity, cpu.affinity.clone()),
            ),
            (
                "switches",
                self.or_reason(DetailField::CpuVoluntaryCtxtSwitches, switches),
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
                self.or_reason(DetailField::MemoryRssBytes, bytes(m.rss_bytes)),
            ),
            (
                "pss",
                self.or_reason(DetailField::MemoryPssBytes, bytes(m.pss_bytes)),
            ),
            (
                "swap",
                self.or_reason(DetailField::MemorySwapBytes, bytes(m.swap_bytes)),
            ),
            (
                "virtual",
                self.or_reason(DetailField::IdentityState, bytes(m.vsz_bytes)),
            ),
            (
                "data",
                self.or_reason(DetailField::MemoryDataBytes, bytes(m.data_bytes)),
            ),
            (
                "stack",
                self.or_reason(DetailField::MemoryStackBytes, bytes(m.stack_bytes)),
            ),
            (
                "threads",
                self.or_reason(
                    DetailField::IdentityState,
                    c.threads.map(|n| self.threads_text(n)),
                ),
            ),
            ("open fds", self.or_reason(DetailField::CountsFds, fds)),
            (
                "fd types",
                self.or_reason(DetailField::CountsFdsByType, self.fd_types()),
            ),
            (
                "listening",
                self.or_reason(DetailField::Listening, self.listening_text()),
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
            return vec![(
                "map",
                self.or_reason(DetailField::MemoryMap, None::<Escaped>),
            )];
        };
        groups
            .iter()
            // The groups most processes lack are shown only when they hold something.
            .filter(|g| g.mappings > 0 || ALWAYS_SHOWN_GROUPS.contains(&g.group.as_str()))
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
            return vec![(
                "limits",
                self.or_reason(DetailField::Limits, None::<Escaped>),
            )];
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

/// `2024-05-01 10:00:00 (3h 2m ago)`.
fn started_text(id: &Identity) -> Option<String> {
    id.start_time_unix.map(|t| {
        format!(
            "{} ({} ago)",
            units::date_time(t),
            units::age(id.age_seconds.unwrap_or(0.0))
        )
    })
}

/// The command line, each argument from its exact bytes; what a process without one is.
fn command_text(id: &Identity) -> Option<Escaped> {
    id.argv
        .as_ref()
        .map(|argv| match (argv.is_empty(), id.kind) {
            (true, ProcessKind::KernelThread) => Escaped::text("(none: kernel thread)"),
            (true, ProcessKind::Zombie) => Escaped::text("(none: zombie)"),
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
        })
}

/// The executable's path, marked when the file was deleted.
fn exe_text(id: &Identity) -> Option<Escaped> {
    id.exe.as_ref().map(|exe| {
        let deleted = if id.exe_deleted == Some(true) {
            " (deleted)"
        } else {
            ""
        };
        let mut text = exact_text(exe, id.exe_b64.as_deref());
        text.push_text(deleted);
        text
    })
}

fn join(values: &[u64]) -> String {
    values
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}
