//! `procscope threads PID`: every thread, what it waits on, its program counter and its
//! stack, read from /proc without stopping, tracing or signalling the process.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use crate::analyze::stacks::stack_of;
use crate::analyze::symbols::Symbolizer;
use crate::analyze::waits;
use crate::collect::process::{Field, read_wchan};
use crate::collect::sampler::Sampler;
use crate::collect::scan::scan;
use crate::collect::target::open_process;
use crate::collect::thread_facts::{self, Observed};
use crate::collect::{Needs, ProcFs, ProcessDir, ProcessSample, SystemInfo};
use crate::columns::value::round2;
use crate::commands::not_a_process;
use crate::exit::Exit;
use crate::model::Unavailable;
use crate::model::text::lossless;
use crate::model::thread::{ThreadList, ThreadRow};
use crate::parse::codes::state_name;
use crate::parse::maps::{Mapping, parse_maps};
use crate::parse::syscall::SyscallState;
use crate::render::escape::Escaped;
use crate::render::json;
use crate::render::table::{self, Align, Column, Fit, Text, Tone};
use crate::render::{Report, Style, units};

/// The threads of one process, ready to render.
pub struct ThreadsReport {
    pub list: ThreadList,
    /// What to suggest for threads whose registers were denied.
    denied_hint: &'static str,
    /// Show each role's evidence in the table.
    explain: bool,
}

// moved (issue 14): re-export until merge
pub use crate::query::threads::ThreadsOptions;

/// The files each thread needs. `wchan` (an expensive read: the kernel unwinds the thread's
/// stack) is read only for threads whose `syscall` says little.
pub(crate) const THREAD_NEEDS: Needs = Needs::STAT.union(Needs::STATUS).union(Needs::SYSCALL);

/// Reads every thread of `pid`. Running threads are re-read up to `samples` times in all to
/// catch them blocked.
pub fn run(
    pid: u32,
    options: ThreadsOptions,
    procfs: &ProcFs,
    system: &SystemInfo,
) -> anyhow::Result<ThreadsReport> {
    crate::commands::ps::check_pid_max(pid, system)?;
    let needs = if options.roles {
        Needs::STAT | Needs::EXE | Needs::RUNTIME | Needs::CMDLINE
    } else {
        Needs::STAT
    };
    let (dir, process) =
        open_process(procfs, pid, needs).map_err(|why| not_a_process("threads", pid, why))?;
    let samples = options.samples;
    let maps: Field<Vec<Mapping>> = dir.read("maps").map(|raw| parse_maps(&raw));
    let tids = dir.numeric_entries("task").map_err(|why| {
        not_a_process(
            "threads",
            pid,
            crate::collect::target::NotAProcess::Unreadable(why),
        )
    })?;
    let mut threads = scan(&tids, |tid| {
        ProcessSample::read_thread(&dir, tid, THREAD_NEEDS).map(Some)
    })
    .rows;
    resample_running(&dir, &mut threads, samples);
    for thread in threads.iter_mut() {
        if !matches!(thread.syscall, Some(Ok(SyscallState::InSyscall { .. }))) {
            thread.wchan = Some(read_wchan(&dir.task(thread.tid)));
        }
    }
    let mut rows = describe_threads(&dir, &threads, maps.as_deref().map_err(|why| *why), system);
    let runtime = if options.roles {
        crate::analyze::runtime::detect(&process.runtime_facts()).map(|(analyzer, mut info)| {
            if info.cluster.is_none() {
                let children = crate::collect::family::read_children_runtimes(procfs, &[pid]);
                info.cluster = crate::analyze::runtime::family::Family::of(&children)
                    .primaries_among(&[pid])
                    .remove(&pid);
            }
            (analyzer, info)
        })
    } else {
        None
    };
    let mut runtime_summary = None;
    if let Some((analyzer, info)) = &runtime {
        let reads = thread_facts::read(
            &dir,
            &process,
            &Observed::of_samples(&threads),
            system,
            crate::analyze::runtime::facts::epoll_fd,
        );
        let (facts, context) =
            crate::analyze::runtime::facts::role_facts(&reads, maps.as_deref().unwrap_or(&[]));
        let roles = analyzer.thread_roles(info, &context, &facts);
        runtime_summary = Some(analyzer.summary(info, &roles));
        for (row, assignment) in rows.iter_mut().zip(roles) {
            row.role = Some(assignment.role);
            row.role_name = assignment.detail;
            row.role_evidence = Some(assignment.evidence);
        }
    }
    let mut by_state = BTreeMap::new();
    for row in &rows {
        if let Some(state) = &row.state {
            *by_state.entry(state.clone()).or_insert(0) += 1;
        }
    }
    let process_name = process.name().ok().map(|name| lossless(&name).0);
    Ok(ThreadsReport {
        explain: options.explain,
        denied_hint: crate::collect::system::denied_hint(),
        list: ThreadList {
            runtime: runtime.map(|(_, info)| info),
            runtime_summary,
            pid,
            process_name,
            threads: rows,
            by_state,
        },
    })
}

/// Re-reads threads that were running, through the profile sampler, until each is caught
/// blocked or `samples` reads were made in all.
fn resample_running(dir: &ProcessDir, threads: &mut [ProcessSample], samples: u32) {
    let running = |t: &ProcessSample| matches!(t.syscall, Some(Ok(SyscallState::Running)));
    if samples <= 1 || !threads.iter().any(running) {
        return;
    }
    let tids: Vec<u32> = threads
        .iter()
        .filter(|t| running(t))
        .map(|t| t.tid)
        .collect();
    let mut sampler = Sampler::of_threads(dir, &tids);
    for _ in 1..samples {
        let mut any_running = false;
        for thread in threads.iter_mut().filter(|t| running(t)) {
            match sampler
                .read_task(thread.tid, false)
                .map(|tick| tick.syscall)
            {
                Some(Ok(state)) => thread.syscall = Some(Ok(state)),
                Some(Err(why)) => thread.syscall = Some(Err(why)),
                None => {}
            }
            any_running |= running(thread);
        }
        if !any_running {
            break;
        }
        std::thread::yield_now();
    }
}

/// Builds the rows: wait, program counter (symbolized once per module) and stack.
fn describe_threads(
    dir: &ProcessDir,
    threads: &[ProcessSample],
    maps: Result<&[Mapping], Unavailable>,
    system: &SystemInfo,
) -> Vec<ThreadRow> {
    let load = |mapping: &Mapping| crate::collect::wait_targets::module_symbols(dir, mapping);
    let empty: &[Mapping] = &[];
    let mut symbolizer = Symbolizer::new(maps.unwrap_or(empty), &load);
    threads
        .iter()
        .map(|thread| describe(thread, maps, &mut symbolizer, system))
        .collect()
}

fn describe(
    thread: &ProcessSample,
    maps: Result<&[Mapping], Unavailable>,
    symbolizer: &mut Symbolizer,
    system: &SystemInfo,
) -> ThreadRow {
    let mut unavailable = BTreeMap::new();
    let mut missing = |keys: &[&str], why: Unavailable| {
        for key in keys {
            unavailable.insert((*key).to_owned(), why);
        }
    };
    let stat = thread.stat().ok();
    if let Err(why) = thread.stat() {
        missing(
            &[
                "name",
                "state",
                "cpu_percent",
                "user_seconds",
                "system_seconds",
                "last_cpu",
            ],
            why,
        );
    }
    let status = thread.status().ok();
    if let Err(why) = thread.status() {
        missing(
            &["voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"],
            why,
        );
    }
    let wchan = thread.wchan().ok().cloned().flatten();
    let (name, name_b64) = stat.map(|s| lossless(&s.comm)).unzip();
    let mut row = ThreadRow {
        tid: thread.tid,
        name,
        name_b64: name_b64.flatten(),
        role: None,
        role_name: None,
        role_evidence: None,
        state: stat.map(|s| char::from(s.state).to_string()),
        state_name: stat.map(|s| state_name(s.state).to_owned()),
        cpu_percent: stat
            .map(|s| round2(system.lifetime_cpu_percent(s.cpu_ticks(), s.starttime_ticks))),
        user_seconds: stat.map(|s| system.ticks_to_seconds(s.utime_ticks)),
        system_seconds: stat.map(|s| system.ticks_to_seconds(s.stime_ticks)),
        last_cpu: stat.and_then(|s| s.processor),
        voluntary_ctxt_switches: status.and_then(|s| s.number("voluntary_ctxt_switches")),
        nonvoluntary_ctxt_switches: status.and_then(|s| s.number("nonvoluntary_ctxt_switches")),
        wait: None,
        syscall: None,
        syscall_nr: None,
        syscall_args: None,
        wait_fd: None,
        wchan: wchan
            .as_deref()
            .map(|w| String::from_utf8_lossy(w).into_owned()),
        sp: None,
        pc: None,
        pc_location: None,
        pc_text: None,
        stack: None,
        unavailable: BTreeMap::new(),
    };
    // An exited, unreaped thread has no registers: its syscall file says "-1 0x0 0x0",
    // which is no wait in user space and no program counter.
    let syscall = match stat.map(|s| s.state) {
        Some(b'Z' | b'X') => Err(Unavailable::Zombie),
        _ => thread.syscall(),
    };
    match syscall {
        Err(why) => missing(
            &["wait", "syscall", "sp", "pc", "pc_location", "stack"],
            why,
        ),
        Ok(state) => {
            let wait = waits::describe(&state, wchan.as_deref());
            row.wait = Some(wait.text);
            if let (Some(call), SyscallState::InSyscall { nr, args, .. }) = (wait.syscall, state) {
                row.syscall = call.name.map(str::to_owned);
                row.syscall_nr = Some(nr);
                row.syscall_args = Some(args.to_vec());
                row.wait_fd = call.fd;
            }
            match (state.registers(), maps) {
                (None, _) => missing(&["sp", "pc", "pc_location", "stack"], Unavailable::Running),
                (Some((sp, pc)), maps) => {
                    row.sp = Some(sp);
                    row.pc = Some(pc);
                    match maps {
                        Ok(maps) => {
                            let location = symbolizer.locate(pc);
                            row.pc_text = Some(location.display(pc));
                            row.pc_location = Some(location);
                            row.stack = stack_of(maps, sp);
                        }
                        Err(why) => missing(&["pc_location", "stack"], why),
                    }
                }
            }
        }
    }
    row.unavailable = unavailable;
    row
}

impl Report for ThreadsReport {
    fn command(&self) -> &'static str {
        "threads"
    }

    fn json(&self) -> Map<String, Json> {
        json::members(&self.list)
    }

    fn ndjson(&self) -> Option<Vec<Json>> {
        Some(json::rows(&self.list.threads))
    }

    fn table(&self, style: &Style) -> String {
        let list = &self.list;
        let with_roles = list.threads.iter().any(|t| t.role.is_some());
        // On a narrow terminal the counters give way first, then names are cut, so WAIT and
        // PC (the answer to "what is it doing") stay readable at 80 columns.
        let mut columns = vec![
            Column::new("TID", Align::Right, Fit::Keep),
            Column::new("NAME", Align::Left, Fit::Narrow { order: 8, min: 8 }),
        ];
        if with_roles {
            columns.push(Column::new(
                "ROLE",
                Align::Left,
                Fit::Narrow { order: 7, min: 10 },
            ));
        }
        let explain = with_roles && self.explain;
        columns.extend([
            Column::new("S", Align::Left, Fit::Keep),
            Column::new("%CPU", Align::Right, Fit::Keep),
            Column::new("USER", Align::Right, Fit::Drop(3)),
            Column::new("SYS", Align::Right, Fit::Drop(2)),
            Column::new("CPU", Align::Right, Fit::Drop(4)),
            Column::new("CTXSW", Align::Right, Fit::Drop(1)),
            Column::new("STACK", Align::Right, Fit::Drop(5)),
            Column::new("WAIT", Align::Left, Fit::Keep),
        ]);
        let last = Fit::Cut { order: 6, min: 32 };
        columns.push(if explain {
            Column::new("EVIDENCE", Align::Left, last)
        } else {
            Column::new("PC", Align::Left, last)
        });
        let rows = list
            .threads
            .iter()
            .map(|t| table_row(t, with_roles, explain))
            .collect();
        let mut out = String::new();
        if style.header {
            let states: Vec<String> = list
                .by_state
                .iter()
                .map(|(state, n)| format!("{n} {}", state_name(state.as_bytes()[0])))
                .collect();
            let title = format!(
                "PID {}  {}  {}: {}",
                list.pid,
                list.process_name.as_deref().unwrap_or("-"),
                units::count(list.threads.len() as u64, "thread", "threads"),
                states.join(", ")
            );
            out.push_str(&table::title_line(&Escaped::text(&title), style));
            if let Some(summary) = &list.runtime_summary {
                out.push_str(&table::title_line(&Escaped::text(summary), style));
            }
        }
        out.push_str(&table::render_columns(&columns, rows, *style));
        out
    }

    fn notes(&self) -> Vec<String> {
        let mut reasons: BTreeMap<Unavailable, usize> = BTreeMap::new();
        for thread in &self.list.threads {
            if let Some(why) = thread.unavailable.get("pc") {
                *reasons.entry(*why).or_default() += 1;
            }
        }
        reasons
            .into_iter()
            .map(|(why, n)| match why {
                Unavailable::PermissionDenied => format!(
                    "- means unavailable: WAIT, PC and STACK of {} need ptrace access ({})",
                    units::count(n as u64, "thread", "threads"),
                    self.denied_hint
                ),
                Unavailable::Running => format!(
                    "- means unavailable: {} running when sampled; --samples N re-reads them",
                    units::count(n as u64, "thread was", "threads were")
                ),
                other => format!(
                    "- means unavailable: {other} ({})",
                    units::count(n as u64, "thread", "threads")
                ),
            })
            .collect()
    }

    fn exit(&self) -> Exit {
        Exit::Success
    }
}

fn table_row(t: &ThreadRow, with_roles: bool, explain: bool) -> Vec<Text> {
    let dash = || Text::toned("-", Tone::Dim);
    let text = |value: Option<String>| value.map_or_else(dash, Text::plain);
    let name = t
        .name
        .as_ref()
        .map(|name| crate::commands::show::exact_text(name, t.name_b64.as_deref()));
    let mut row = vec![
        Text::plain(t.tid.to_string()),
        name.map_or_else(dash, Text::plain),
    ];
    if with_roles {
        let role = t.role.as_ref().map(|role| match &t.role_name {
            Some(name) => format!("{role} ({name})"),
            None => role.to_string(),
        });
        row.push(text(role));
    }
    let state_tone = match t.state.as_deref() {
        Some("R") => Tone::Good,
        Some("D") => Tone::Warn,
        Some("Z" | "T" | "t") => Tone::Bad,
        _ => Tone::Plain,
    };
    row.push(
        t.state
            .clone()
            .map_or_else(dash, |s| Text::toned(s, state_tone)),
    );
    row.push(text(t.cpu_percent.map(units::percent)));
    row.push(text(t.user_seconds.map(units::cpu_time)));
    row.push(text(t.system_seconds.map(units::cpu_time)));
    row.push(text(t.last_cpu.map(|c| c.to_string())));
    row.push(text(
        t.voluntary_ctxt_switches
            .zip(t.nonvoluntary_ctxt_switches)
            .map(|(v, n)| format!("{v}/{n}")),
    ));
    row.push(text(t.stack.map(|s| {
        if s.main {
            format!("{} main", units::bytes(s.size_bytes))
        } else {
            units::bytes(s.size_bytes)
        }
    })));
    row.push(text(t.wait.clone()));
    if explain {
        row.push(text(t.role_evidence.as_ref().map(|e| e.rule.clone())));
    } else {
        row.push(text(t.pc_text.clone()));
    }
    row
}

/// The JSON Schema of `threads --json`.
pub fn schema() -> Json {
    crate::render::json::document_schema(
        "threads",
        "procscope threads --json",
        crate::render::json::schema_of::<ThreadList>(),
    )
}
