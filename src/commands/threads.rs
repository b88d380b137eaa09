//! `procscope threads PID`: every thread, what it waits on, its program counter and its
//! stack, read from /proc without stopping, tracing or signalling the process.

use std::collections::{BTreeMap, HashMap};

use crate::analyze::runtime::facts;
use crate::analyze::runtime::family::Family;
use crate::analyze::stacks::stack_of;
use crate::analyze::symbols::Symbolizer;
use crate::analyze::waits;
use crate::collect::family::read_children_runtimes;
use crate::collect::process::{Field, read_wchan};
use crate::collect::procfs::PidView;
use crate::collect::scan::scan;
use crate::collect::target::open_process;
use crate::collect::thread_facts::{self, Observed};
use crate::collect::threads::{Switches, read_threads_alongside};
use crate::collect::{Needs, ProcFs, ProcessDir, ProcessSample, SystemInfo, read_leader_stat};
use crate::columns::value::round2;
use crate::commands::not_a_process;
use crate::model::Unavailable;
use crate::model::code::CodeLocation;
use crate::model::fields::ThreadField;
use crate::model::report::ThreadsReport;
use crate::model::text::lossless;
use crate::model::thread::{ThreadList, ThreadRow};
use crate::parse::codes::state_name;
use crate::parse::maps::{Mapping, parse_maps};
use crate::parse::syscall::SyscallState;
use crate::query::threads::ThreadsOptions;

/// Reads every thread of `pid`. Running threads are re-read up to `samples` times in all to
/// catch them blocked.
pub fn run(
    pid: u32,
    options: ThreadsOptions,
    procfs: &ProcFs,
    system: &SystemInfo,
) -> anyhow::Result<ThreadsReport> {
    crate::query::pid::check_pid_max(pid, system.pid_max).map_err(crate::exit::usage)?;
    let (dir, mut process) =
        open_process(procfs, pid, Needs::NONE).map_err(|why| not_a_process("threads", pid, why))?;
    // The leader thread's stat (its name, parent and start): the process's own would have
    // the kernel sum every thread's times first, which no part of this report shows.
    process.stat = Some(read_leader_stat(&dir));
    // taskstats looks thread IDs up in procscope's own PID namespace.
    let switches = match procfs.pid_view() {
        PidView::Live => Switches::Taskstats,
        PidView::Elsewhere(_) | PidView::Foreign(_) => Switches::Status,
    };
    let (threads, side) = read_threads_alongside(&dir, options.samples, switches, || {
        SideReads::read(procfs, &dir, &process, options.roles)
    });
    let process = side.process.unwrap_or(process);
    let maps = side.maps;
    let mut threads = threads.map_err(|why| {
        not_a_process(
            "threads",
            pid,
            crate::collect::target::NotAProcess::Unreadable(why),
        )
    })?;
    for thread in threads.iter_mut() {
        if !matches!(thread.syscall, Some(Ok(SyscallState::InSyscall { .. }))) {
            thread.wchan = Some(read_wchan(&dir.task(thread.tid)));
        }
    }
    let mut rows = describe_threads(&dir, &threads, maps.as_deref().map_err(|why| *why), system);
    let runtime = options
        .roles
        .then(|| crate::analyze::runtime::detect(&process.runtime_facts()))
        .flatten()
        .map(|(analyzer, mut info)| {
            let children = side.children.unwrap_or_default();
            if let Some(primary) = Family::of(&children).primaries_among(&[pid]).remove(&pid) {
                info.cluster = Some(primary);
            }
            (analyzer, info)
        });
    let mut runtime_summary = None;
    if let Some((analyzer, info)) = &runtime {
        let observed = Observed::of_samples(&threads);
        let reads = thread_facts::read(&dir, &process, &observed, system, facts::epoll_fd);
        let (facts, context) = facts::role_facts(&reads, maps.as_deref().unwrap_or(&[]));
        let roles = analyzer.thread_roles(info, &context, &facts);
        runtime_summary = Some(analyzer.summary(info, &roles));
        for (row, assignment) in rows.iter_mut().zip(roles) {
            row.role = Some(assignment.role);
            row.role_name = assignment.detail;
            row.role_evidence = Some(assignment.evidence);
        }
    }
    let by_state = count_states(&rows);
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

/// What is read of the process itself while its threads are: the maps and, for roles, the
/// executable's runtime facts and the children a cluster primary would have.
struct SideReads {
    maps: Field<Vec<Mapping>>,
    /// The process with its executable, command line and runtime facts (for roles).
    process: Option<ProcessSample>,
    /// The children's runtime facts, read when the process has a runtime whose cluster
    /// its own facts do not tell.
    children: Option<Vec<ProcessSample>>,
}

impl SideReads {
    /// `known` is the process as opened, with its leader thread's `stat` (not read again).
    fn read(procfs: &ProcFs, dir: &ProcessDir, known: &ProcessSample, roles: bool) -> Self {
        let maps = dir.read("maps").map(|raw| parse_maps(&raw));
        let needs = Needs::EXE | Needs::RUNTIME | Needs::CMDLINE;
        let process = roles
            .then(|| ProcessSample::read_dir(dir, needs).ok())
            .flatten()
            .map(|mut process| {
                process.stat.clone_from(&known.stat);
                process
            });
        let children = process
            .as_ref()
            .and_then(|p| crate::analyze::runtime::detect(&p.runtime_facts()))
            .filter(|(_, info)| info.may_lead_workers())
            .map(|_| read_children_runtimes(procfs, &[dir.pid()]));
        Self {
            maps,
            process,
            children,
        }
    }
}

/// How many threads are in each state.
fn count_states(rows: &[ThreadRow]) -> BTreeMap<String, u64> {
    let mut by_state: BTreeMap<String, u64> = BTreeMap::new();
    for state in rows.iter().filter_map(|row| row.state.as_deref()) {
        match by_state.get_mut(state) {
            Some(count) => *count += 1,
            None => {
                by_state.insert(state.to_owned(), 1);
            }
        }
    }
    by_state
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
    // Each program counter is symbolized once, first (thousands of threads parked in the
    // same call share one); then the rows are built by the scan's threads.
    let mut located: Located = HashMap::new();
    if maps.is_ok() {
        for (_, pc) in threads.iter().filter_map(registers) {
            located.entry(pc).or_insert_with(|| {
                let location = symbolizer.locate(pc);
                let text = location.display(pc);
                (location, text)
            });
        }
    }
    let indices: Vec<usize> = (0..threads.len()).collect();
    scan(&indices, |index| {
        Ok(Some(describe(&threads[index], maps, &located, system)))
    })
    .rows
}

/// Each program counter's location, with its text.
type Located = HashMap<u64, (CodeLocation, String)>;

/// What `syscall` says of a thread that can have registers: an exited, unreaped thread has
/// none (its syscall file says "-1 0x0 0x0", which is no wait in user space and no program
/// counter).
fn syscall_of(thread: &ProcessSample) -> Field<SyscallState> {
    match thread.stat().map(|s| s.state) {
        Ok(b'Z' | b'X') => Err(Unavailable::Zombie),
        _ => thread.syscall(),
    }
}

/// The stack pointer and program counter of a thread blocked in a system call.
fn registers(thread: &ProcessSample) -> Option<(u64, u64)> {
    syscall_of(thread).ok()?.registers()
}

fn describe(
    thread: &ProcessSample,
    maps: Result<&[Mapping], Unavailable>,
    located: &Located,
    system: &SystemInfo,
) -> ThreadRow {
    let mut unavailable = BTreeMap::new();
    let stat = thread.stat().ok();
    if let Err(why) = thread.stat() {
        use ThreadField::*;
        let fields = [Name, State, CpuPercent, UserSeconds, SystemSeconds, LastCpu];
        missing(&mut unavailable, &fields, why);
    }
    let status = thread.status().ok();
    if let Err(why) = thread.status() {
        let fields = [
            ThreadField::VoluntaryCtxtSwitches,
            ThreadField::NonvoluntaryCtxtSwitches,
        ];
        missing(&mut unavailable, &fields, why);
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
    match syscall_of(thread) {
        Err(why) => {
            use ThreadField::*;
            missing(
                &mut unavailable,
                &[Wait, Syscall, Sp, Pc, PcLocation, Stack],
                why,
            );
        }
        Ok(state) => {
            describe_wait(&mut row, state, wchan.as_deref());
            locate_pc(&mut row, &mut unavailable, state, maps, located);
        }
    }
    row.unavailable = unavailable;
    row
}

/// Records `why` for each of `fields`.
fn missing(
    unavailable: &mut BTreeMap<ThreadField, Unavailable>,
    fields: &[ThreadField],
    why: Unavailable,
) {
    for field in fields {
        unavailable.insert(*field, why);
    }
}

/// What the thread waits on, from its system call (and `wchan`).
fn describe_wait(row: &mut ThreadRow, state: SyscallState, wchan: Option<&[u8]>) {
    let wait = waits::describe(&state, wchan);
    row.wait = Some(wait.text);
    if let (Some(call), SyscallState::InSyscall { nr, args, .. }) = (wait.syscall, state) {
        row.syscall = call.name.map(str::to_owned);
        row.syscall_nr = Some(nr);
        row.syscall_args = Some(args.to_vec());
        row.wait_fd = call.fd;
    }
}

/// The stack and program counter, located in the memory map (symbolized once per module).
fn locate_pc(
    row: &mut ThreadRow,
    unavailable: &mut BTreeMap<ThreadField, Unavailable>,
    state: SyscallState,
    maps: Result<&[Mapping], Unavailable>,
    located: &Located,
) {
    use ThreadField::*;
    let Some((sp, pc)) = state.registers() else {
        missing(
            unavailable,
            &[Sp, Pc, PcLocation, Stack],
            Unavailable::Running,
        );
        return;
    };
    row.sp = Some(sp);
    row.pc = Some(pc);
    match maps {
        Ok(maps) => {
            // Every program counter was located before the rows were built.
            if let Some((location, text)) = located.get(&pc) {
                row.pc_text = Some(text.clone());
                row.pc_location = Some(location.clone());
            }
            row.stack = stack_of(maps, sp);
        }
        Err(why) => missing(unavailable, &[PcLocation, Stack], why),
    }
}
