//! `procscope kill TARGET...`: select processes by PID, port, name, pattern or tree, refuse
//! the dangerous ones, confirm, and signal each through a pidfd after re-checking that it is
//! still the process that was selected; optionally wait and escalate to SIGKILL.

use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, Instant};

use regex::bytes::Regex;
use serde_json::{Map, Value as Json};

use crate::analyze::tree::Forest;
use crate::collect::tree::read_nodes;
use crate::collect::{Needs, ProcFs, ProcessSample, SystemInfo, TaskKind, UserNames};
use crate::commands::ports::{PortsQuery, run as ports};
use crate::exit::{self, Exit};
use crate::model::kill::{KillPayload, KillResult};
use crate::model::text::lossless;
use crate::render::escape::Escaped;
use crate::render::json;
use crate::render::table::{self, Align, Column, Fit, Text, Tone};
use crate::render::{Report, Style};
use crate::signal::{Identity, SendError, SignalChoice, Target, open_target, wait_all};

/// How long to wait for a process to die after SIGKILL.
const AFTER_KILL: Duration = Duration::from_secs(5);

/// The validated request.
#[derive(Debug, Clone)]
pub struct KillQuery {
    pub pids: Vec<u32>,
    pub port: Option<u16>,
    pub name: Option<String>,
    pub pattern: Option<Regex>,
    pub tree: bool,
    pub signal: SignalChoice,
    pub wait: bool,
    pub timeout: Option<Duration>,
    pub escalate: bool,
    pub force: bool,
    pub dry_run: bool,
    pub yes: bool,
}

impl KillQuery {
    /// Selection by something other than explicit PIDs asks for confirmation.
    fn needs_confirmation(&self) -> bool {
        self.port.is_some() || self.name.is_some() || self.pattern.is_some() || self.tree
    }
}

/// The outcome of every target.
pub struct KillReport {
    pub payload: KillPayload,
}

/// One selected process.
struct Selected {
    identity: Option<Identity>,
    pid: u32,
    refused: Option<String>,
    /// Set when the PID named nothing at selection time.
    missing: bool,
}

/// Selects, refuses, confirms, signals and waits.
pub fn run(
    query: &KillQuery,
    procfs: &ProcFs,
    system: &SystemInfo,
    users: &UserNames,
) -> anyhow::Result<KillReport> {
    for &pid in &query.pids {
        crate::commands::ps::check_pid_max(pid, system)?;
    }
    let selected = select(query, procfs, users)?;
    if selected.is_empty() {
        return Err(exit::target("nothing to signal: no process matched"));
    }
    if query.needs_confirmation() && !query.yes && !query.dry_run {
        confirm(&selected, query)?;
    }
    if let Some(pause) = test_pause() {
        std::thread::sleep(pause);
    }
    let signal_name = query.signal.full_name();
    let mut results = Vec::new();
    let mut opened: Vec<(usize, Target, Instant)> = Vec::new();
    for target in &selected {
        let name = target.identity.as_ref().map(|i| lossless(&i.name).0);
        let mut result = KillResult {
            pid: target.pid,
            name,
            signal: signal_name.clone(),
            result: String::new(),
            reason: None,
            exit_seconds: None,
        };
        match (&target.identity, &target.refused) {
            (_, Some(reason)) => {
                result.result = "refused".into();
                result.reason = Some(reason.clone());
            }
            (None, _) => result.result = "already-gone".into(),
            (Some(_), None) if query.dry_run => result.result = "would-signal".into(),
            (Some(identity), None) => {
                match open_target(identity, || current_identity(procfs, identity.pid))
                    .and_then(|t| t.send(query.signal).map(|()| t))
                {
                    Ok(opened_target) => {
                        result.result = "signalled".into();
                        opened.push((results.len(), opened_target, Instant::now()));
                    }
                    Err(SendError::Gone) => {
                        result.result = if target.missing {
                            "already-gone"
                        } else {
                            "gone"
                        }
                        .into();
                        result.reason = Some(
                            "exited, or its PID now names another process (not signalled)".into(),
                        );
                    }
                    Err(SendError::PermissionDenied) => result.result = "permission-denied".into(),
                    Err(SendError::Failed(errno)) => {
                        result.result = "failed".into();
                        result.reason = Some(std::io::Error::from_raw_os_error(errno).to_string());
                    }
                }
            }
        }
        results.push(result);
    }
    if (query.wait || query.timeout.is_some()) && !opened.is_empty() {
        wait_and_escalate(query, &opened, &mut results);
    }
    Ok(KillReport {
        payload: KillPayload { results },
    })
}

/// Waits for the signalled targets; with `--escalate`, sends SIGKILL to those still running
/// at the timeout.
fn wait_and_escalate(
    query: &KillQuery,
    opened: &[(usize, Target, Instant)],
    results: &mut [KillResult],
) {
    let deadline = query.timeout.map(|t| Instant::now() + t);
    let targets: Vec<&Target> = opened.iter().map(|(_, t, _)| t).collect();
    let waited = wait_all(&targets, deadline);
    let mut survivors = Vec::new();
    for ((slot, target, sent), exit) in opened.iter().zip(waited) {
        let result = &mut results[*slot];
        match exit {
            Some(_) => {
                result.result = "exited".into();
                result.exit_seconds = Some(round3(sent.elapsed().as_secs_f64()));
            }
            None if query.escalate => {
                if target.send(SignalChoice::KILL).is_ok() {
                    survivors.push((*slot, target, *sent));
                } else {
                    result.result = "exited".into();
                }
            }
            None => {
                result.result = "still-running".into();
                result.reason = Some(format!(
                    "did not exit within {:?}",
                    query.timeout.unwrap_or_default()
                ));
            }
        }
    }
    if survivors.is_empty() {
        return;
    }
    let targets: Vec<&Target> = survivors.iter().map(|(_, t, _)| *t).collect();
    let waited = wait_all(&targets, Some(Instant::now() + AFTER_KILL));
    for ((slot, _, sent), exit) in survivors.iter().zip(waited) {
        let result = &mut results[*slot];
        result.signal = format!("{} then SIGKILL", result.signal);
        match exit {
            Some(_) => {
                result.result = "escalated".into();
                result.exit_seconds = Some(round3(sent.elapsed().as_secs_f64()));
            }
            None => {
                result.result = "still-running".into();
                result.reason = Some("survived SIGKILL (uninterruptible sleep?)".into());
            }
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A test hook: `PROCSCOPE_TEST_PAUSE_MS` pauses between selecting and signalling, so a test
/// can force the reuse of a selected PID in that window.
fn test_pause() -> Option<Duration> {
    let ms: u64 = std::env::var("PROCSCOPE_TEST_PAUSE_MS")
        .ok()?
        .parse()
        .ok()?;
    Some(Duration::from_millis(ms.min(60_000)))
}

/// The start time and name of `pid` now.
fn current_identity(procfs: &ProcFs, pid: u32) -> Option<(u64, Vec<u8>)> {
    let sample = ProcessSample::read(procfs, pid, Needs::STAT).ok()?;
    let stat = sample.stat().ok()?;
    Some((stat.starttime_ticks, stat.comm.clone()))
}

/// Every target in signalling order, each with its identity as selected and any refusal.
fn select(query: &KillQuery, procfs: &ProcFs, users: &UserNames) -> anyhow::Result<Vec<Selected>> {
    let me = std::process::id();
    let mut pids: Vec<u32> = Vec::new();
    let mut refusals: Vec<(u32, String)> = Vec::new();
    for &pid in &query.pids {
        match thread_group(procfs, pid) {
            Some(tgid) if tgid != pid && query.force => pids.push(tgid),
            Some(tgid) if tgid != pid => refusals.push((
                pid,
                format!("PID {pid} is a thread of process {tgid}, not a process"),
            )),
            _ => pids.push(pid),
        }
    }
    if let Some(port) = query.port {
        let listing = ports(
            PortsQuery {
                port: Some(port),
                ..PortsQuery::default()
            },
            procfs,
            users,
        )?;
        let holders: Vec<u32> = listing
            .list
            .sockets
            .iter()
            .flat_map(|s| s.holders.iter().map(|h| h.pid))
            .collect();
        if holders.is_empty() {
            return Err(exit::target(format!(
                "nothing listens on port {port} (or its holder cannot be read)"
            )));
        }
        pids.extend(holders);
    }
    if query.name.is_some() || query.pattern.is_some() {
        let needs = if query.pattern.is_some() {
            Needs::STAT | Needs::CMDLINE
        } else {
            Needs::STAT
        };
        for pid in procfs.pids().unwrap_or_default() {
            if pid == me {
                continue;
            }
            let Ok(sample) = ProcessSample::read(procfs, pid, needs) else {
                continue;
            };
            let name_ok = query
                .name
                .as_ref()
                .is_none_or(|name| sample.name().is_ok_and(|n| n == name.as_bytes()));
            let pattern_ok = query.pattern.as_ref().is_none_or(|re| {
                sample
                    .cmdline()
                    .is_ok_and(|argv| re.is_match(&argv.join(&b' ')))
            });
            if name_ok && pattern_ok {
                pids.push(pid);
            }
        }
    }
    if query.tree {
        let nodes = read_nodes(procfs)?;
        let forest = Forest::new(nodes.iter().map(|n| (n.pid, n.ppid)));
        let roots = std::mem::take(&mut pids);
        for root in roots {
            if forest.contains(root) {
                pids.extend(forest.descendants_children_first(root));
            } else {
                pids.push(root);
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    pids.retain(|pid| seen.insert(*pid));
    let parent = std::os::unix::process::parent_id();
    let mut selected: Vec<Selected> = refusals
        .into_iter()
        .map(|(pid, reason)| Selected {
            identity: None,
            pid,
            refused: Some(reason),
            missing: false,
        })
        .collect();
    for pid in pids {
        let sample = ProcessSample::read(procfs, pid, Needs::STAT).ok();
        let stat = sample.as_ref().and_then(|s| s.stat().ok());
        let identity = stat.map(|stat| Identity {
            pid,
            starttime_ticks: stat.starttime_ticks,
            name: stat.comm.clone(),
        });
        let kernel_thread = sample
            .as_ref()
            .is_some_and(|s| s.kind() == TaskKind::KernelThread);
        let refused = if query.force {
            None
        } else if pid == 1 {
            Some("PID 1 (init) is never signalled without --force".to_owned())
        } else if kernel_thread {
            Some("a kernel thread; signals do not stop it (use --force to try anyway)".to_owned())
        } else if pid == me {
            Some("procscope itself".to_owned())
        } else if pid == parent {
            Some("the shell procscope runs from (its parent)".to_owned())
        } else {
            None
        };
        selected.push(Selected {
            missing: identity.is_none(),
            identity,
            pid,
            refused,
        });
    }
    Ok(selected)
}

/// The thread group of `pid` (itself for a process), if it exists.
fn thread_group(procfs: &ProcFs, pid: u32) -> Option<u32> {
    let sample = ProcessSample::read(procfs, pid, Needs::STATUS).ok()?;
    let tgid = sample.status().ok()?.number("Tgid")?;
    u32::try_from(tgid).ok()
}

/// Lists the targets and asks on the terminal; without one, refuses (use `--yes`).
fn confirm(selected: &[Selected], query: &KillQuery) -> anyhow::Result<()> {
    let willing: Vec<&Selected> = selected
        .iter()
        .filter(|s| s.refused.is_none() && s.identity.is_some())
        .collect();
    if willing.is_empty() {
        return Ok(());
    }
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !interactive {
        return Err(exit::usage(format!(
            "{} process(es) selected by {}; confirm with --yes (no terminal to ask on), or see them with --dry-run",
            willing.len(),
            if query.tree {
                "tree"
            } else {
                "name, pattern or port"
            }
        )));
    }
    let mut stderr = std::io::stderr().lock();
    for target in &willing {
        let name = target
            .identity
            .as_ref()
            .map(|i| Escaped::bytes(&i.name).into_string())
            .unwrap_or_default();
        writeln!(stderr, "  {} {name}", target.pid)?;
    }
    write!(
        stderr,
        "Send {} to these {} process(es)? [y/N] ",
        query.signal.full_name(),
        willing.len()
    )?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(exit::target("nothing signalled"))
    }
}

impl Report for KillReport {
    fn command(&self) -> &'static str {
        "kill"
    }

    fn json(&self) -> Map<String, Json> {
        json::members(&self.payload)
    }

    fn ndjson(&self) -> Option<Vec<Json>> {
        Some(json::rows(&self.payload.results))
    }

    fn table(&self, style: &Style) -> String {
        // On a narrow terminal TIME, SIGNAL and NAME give way so RESULT stays readable.
        let columns = [
            Column::new("PID", Align::Right, Fit::Keep),
            Column::new("NAME", Align::Left, Fit::Narrow { order: 3, min: 4 }),
            Column::new("SIGNAL", Align::Left, Fit::Drop(1)),
            Column::new("RESULT", Align::Left, Fit::Cut { order: 2, min: 16 }),
            Column::new("TIME", Align::Right, Fit::Drop(0)),
        ];
        let rows = self
            .payload
            .results
            .iter()
            .map(|r| {
                let result = match &r.reason {
                    Some(reason) if r.result == "refused" => format!("refused: {reason}"),
                    _ => r.result.clone(),
                };
                let tone = if succeeded(&r.result) {
                    Tone::Good
                } else {
                    Tone::Bad
                };
                vec![
                    Text::plain(r.pid.to_string()),
                    Text::plain(r.name.as_deref().unwrap_or("-")),
                    Text::plain(r.signal.clone()),
                    Text::toned(result, tone),
                    Text::plain(
                        r.exit_seconds
                            .map_or_else(|| "-".into(), |s| format!("{s:.3}s")),
                    ),
                ]
            })
            .collect();
        table::render_columns(&columns, rows, *style)
    }

    fn exit(&self) -> Exit {
        if self.payload.results.iter().all(|r| succeeded(&r.result)) {
            Exit::Success
        } else {
            Exit::Partial
        }
    }
}

/// True when a target got what was asked.
fn succeeded(result: &str) -> bool {
    matches!(
        result,
        "signalled" | "exited" | "escalated" | "would-signal"
    )
}

/// The `--list-signals` table.
pub fn signal_table() -> String {
    let rows = crate::signal::SIGNALS
        .iter()
        .map(|(number, name, about)| {
            vec![
                Text::plain(number.to_string()),
                Text::plain(format!("SIG{name}")),
                Text::plain(*about),
            ]
        })
        .collect();
    table::help(
        &[
            ("NUMBER", Align::Right),
            ("NAME", Align::Left),
            ("MEANING", Align::Left),
        ],
        rows,
    )
}

/// The JSON Schema of `kill --json`.
pub fn schema() -> Json {
    crate::render::json::document_schema(
        "kill",
        "procscope kill --json",
        crate::render::json::schema_of::<KillPayload>(),
    )
}
