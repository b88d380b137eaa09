//! Tests of the live table's sampler: PID reuse, bounded state, static cells, and the rows
//! of idle processes kept from the previous refresh.

use super::*;
use crate::collect::Needs;
use crate::columns::lookup::find;

fn own_process() -> (ProcFs, Sampler) {
    let procfs = ProcFs::open(std::path::Path::new("/proc")).unwrap();
    let system = SystemInfo::read(&procfs).unwrap();
    let spec = SampleSpec {
        columns: vec![crate::columns::lookup::find("cpu").unwrap()],
        filter: ProcessFilter {
            pids: vec![std::process::id()],
            ..ProcessFilter::default()
        },
        threads: false,
        rates: true,
    };
    (procfs, Sampler::new(spec, system))
}

#[test]
fn a_reused_pid_never_mixes_two_processes_counters() {
    let (procfs, mut sampler) = own_process();
    let users = UserNames::default();
    let first = sampler.refresh(&procfs, &users, Snapshot::default());
    assert_eq!(first.rows.len(), 1);
    let key = (std::process::id(), std::process::id());
    // The same PID, another start time: another process held it before.
    let prior = sampler.priors.get_mut(&key).unwrap();
    prior.start_ticks += 1;
    prior.cpu_ticks = 0;
    let second = sampler.refresh(&procfs, &users, Snapshot::default());
    let row = &second.rows[0];
    assert!(row.fresh, "a new process, not a continuation");
    assert_eq!(second.exited.len(), 1, "the old holder of the PID exited");
    // Its CPU% is over its own life, not counted from the other process's ticks.
    let lifetime = sampler.system.lifetime_cpu_percent(
        ProcessSample::read(&procfs, key.0, Needs::STAT)
            .unwrap()
            .stat()
            .unwrap()
            .cpu_ticks(),
        row.start_ticks,
    );
    assert!((row.rates.cpu_percent.unwrap() - lifetime).abs() < 5.0);
}

#[test]
fn state_is_only_the_last_refresh() {
    let (procfs, mut sampler) = own_process();
    let users = UserNames::default();
    sampler.priors.insert(
        (u32::MAX, u32::MAX),
        Prior {
            start_ticks: 0,
            cpu_ticks: 0,
            ctxt: None,
            io: None,
            name: b"gone".to_vec(),
            statics: Vec::new(),
            sched: None,
            threads: 1,
            row: 0,
            deferred: false,
        },
    );
    for _ in 0..5 {
        let snapshot = sampler.refresh(&procfs, &users, Snapshot::default());
        assert_eq!(sampler.kept(), snapshot.rows.len());
    }
    let snapshot = sampler.refresh(&procfs, &users, Snapshot::default());
    let rates = snapshot.rows[0].rates;
    assert!(rates.ctxt_switches_per_second.is_some());
    assert!(
        rates.read_bytes_per_second.is_some(),
        "our own io is readable"
    );
}

#[test]
fn static_cells_come_from_the_previous_refresh_of_the_same_process() {
    let procfs = ProcFs::open(std::path::Path::new("/proc")).unwrap();
    let system = SystemInfo::read(&procfs).unwrap();
    let me = std::process::id();
    let spec = SampleSpec {
        columns: vec![find("pid").unwrap(), find("cmd").unwrap()],
        filter: ProcessFilter {
            pids: vec![me],
            ..ProcessFilter::default()
        },
        threads: false,
        rates: false,
    };
    let mut sampler = Sampler::new(spec, system);
    let users = UserNames::default();
    let first = sampler.refresh(&procfs, &users, Snapshot::default());
    assert!(matches!(first.rows[0].cells[1], Ok(Value::Argv { .. })));
    // A marker in the kept cell shows whether the next refresh reused it.
    let marker = Ok(Value::Label("kept".into()));
    sampler.priors.get_mut(&(me, me)).unwrap().statics = vec![marker.clone()];
    let mut reused = 0;
    for _ in 0..reader::STATIC_REFRESH {
        let snapshot = sampler.refresh(&procfs, &users, Snapshot::default());
        if snapshot.rows[0].cells[1] == marker {
            reused += 1;
        } else {
            // Read again from /proc (once in STATIC_REFRESH refreshes).
            assert!(matches!(snapshot.rows[0].cells[1], Ok(Value::Argv { .. })));
            sampler.priors.get_mut(&(me, me)).unwrap().statics = vec![marker.clone()];
        }
    }
    assert_eq!(reused, reader::STATIC_REFRESH - 1);
    // Another process on the same PID (another start time) is read from scratch.
    let prior = sampler.priors.get_mut(&(me, me)).unwrap();
    prior.statics = vec![marker.clone()];
    prior.start_ticks += 1;
    let snapshot = sampler.refresh(&procfs, &users, Snapshot::default());
    assert!(matches!(snapshot.rows[0].cells[1], Ok(Value::Argv { .. })));
}

/// A sampler of the listed PIDs with columns pid, state, time.
fn sampler_of(pids: Vec<u32>) -> (ProcFs, Sampler) {
    sampler_with(pids, &["pid", "state", "time"], true)
}

/// A sampler of the listed PIDs with these columns, with rates or not.
fn sampler_with(pids: Vec<u32>, columns: &[&str], rates: bool) -> (ProcFs, Sampler) {
    let procfs = ProcFs::open(std::path::Path::new("/proc")).unwrap();
    let system = SystemInfo::read(&procfs).unwrap();
    let spec = SampleSpec {
        columns: columns.iter().map(|n| find(n).unwrap()).collect(),
        filter: ProcessFilter {
            pids,
            ..ProcessFilter::default()
        },
        threads: false,
        rates,
    };
    (procfs, Sampler::new(spec, system))
}

/// A child of this test, killed and reaped when dropped (also when an assertion fails), while
/// it is still our un-reaped child.
struct Reaped(std::process::Child);

impl Reaped {
    /// Starts `program` and waits until its command line reads back: `spawn` returns once
    /// the exec began, and the kernel sets the new argument area up a moment later (a read
    /// in between gives an empty command line, which a loaded test run once saw).
    fn spawn(program: &str, args: &[&str]) -> Self {
        let child = std::process::Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let cmdline = format!("/proc/{}/cmdline", child.id());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::read(&cmdline).is_ok_and(|raw| raw.is_empty())
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        Self(child)
    }

    fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn an_idle_process_keeps_its_row_until_its_full_read() {
    // Our own children: one sleeps (never runs), one spins.
    let sleeper = Reaped::spawn("sleep", &["1000"]);
    let busy = Reaped::spawn("sh", &["-c", "while :; do :; done"]);
    let stat = |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let ran_ns = |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/schedstat")).unwrap();
    // Poll until `sleep` runs its sleep (exec'd and waiting).
    while !stat(sleeper.id()).contains("(sleep) S") {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let (procfs, mut sampler) = sampler_of(vec![sleeper.id(), busy.id()]);
    let users = UserNames::default();
    let marker = Ok(Value::Label("kept".into()));
    let mut snapshot = sampler.refresh(&procfs, &users, Snapshot::default());
    let mut kept = 0;
    let mut reread = 0;
    for _ in 0..(2 * reader::STATIC_REFRESH) {
        // Mark both rows: a row that comes back marked was kept, not read again.
        for row in &mut snapshot.rows {
            row.cells[1] = marker.clone();
        }
        // Poll until the spinning one has run since the last refresh (a loaded machine may
        // not have given it a CPU yet).
        let before = ran_ns(busy.id());
        while ran_ns(busy.id()) == before {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        snapshot = sampler.refresh(&procfs, &users, snapshot);
        let row = |pid: u32| snapshot.rows.iter().find(|r| r.pid == pid).unwrap();
        let (idle, spinning) = (row(sleeper.id()), row(busy.id()));
        assert_ne!(
            spinning.cells[1], marker,
            "a process that ran is read again"
        );
        assert_eq!(idle.rates.cpu_percent, Some(0.0));
        assert_eq!(idle.rates.ctxt_switches_per_second, Some(0.0));
        if idle.cells[1] == marker {
            kept += 1;
        } else {
            assert_eq!(idle.cells[1], Ok(Value::Label("S".into())));
            reread += 1;
        }
    }
    // Kept while it did not run, read in full once in STATIC_REFRESH refreshes.
    assert_eq!((kept, reread), (2 * reader::STATIC_REFRESH - 2, 2));
    // A snapshot that is not this sampler's last one is never taken rows from.
    let fresh = sampler.refresh(&procfs, &users, Snapshot::default());
    assert!(fresh.rows.iter().all(|r| r.cells[1] != marker));
}

/// A sampler of `pids` with columns pid, cpu, rss, cmd, deferring what the view allows
/// when sorted by `cpu` (`defer`), and its first refresh.
fn deferring(pids: Vec<u32>, defer: bool) -> (ProcFs, Sampler, Snapshot) {
    let (procfs, mut sampler) = sampler_with(pids, &["pid", "cpu", "rss", "cmd"], false);
    let users = UserNames::default();
    let mut empty = Snapshot::default();
    sampler.set_deferral(&procfs, &users, &mut empty, (1, defer));
    let snapshot = sampler.refresh(&procfs, &users, empty);
    (procfs, sampler, snapshot)
}

/// The command line in a `cmd` cell.
fn argv_of(cell: &Field<Value>) -> Vec<Vec<u8>> {
    match cell {
        Ok(Value::Argv { argv, .. }) => argv.clone(),
        other => panic!("not a command line: {other:?}"),
    }
}

#[test]
fn deferred_columns_are_read_when_a_row_is_filled() {
    let sleeper = Reaped::spawn("sleep", &["1000", "0.25"]);
    let (procfs, mut sampler, mut snapshot) = deferring(vec![sleeper.id()], true);
    let users = UserNames::default();
    // rss and cmd need files beyond stat; pid and cpu (the sort column) do not.
    assert_eq!(sampler.deferred, [false, false, true, true]);
    let row = &snapshot.rows[0];
    assert!(row.deferred && row.cells[0].is_ok() && row.cells[1].is_ok());
    assert_eq!((&row.cells[2], &row.cells[3]), (&NOT_READ, &NOT_READ));
    // Drawn: read now, the child's own command line.
    sampler.fill(&procfs, &users, &mut snapshot, &[0]);
    let row = &snapshot.rows[0];
    assert!(!row.deferred);
    assert_eq!(argv_of(&row.cells[3]), [&b"sleep"[..], b"1000", b"0.25"]);
    assert!(matches!(row.cells[2], Ok(Value::Bytes(rss)) if rss > 0));
    // Filled once, the process is read in full from then on, its command line reused.
    for _ in 0..3 {
        snapshot = sampler.refresh(&procfs, &users, snapshot);
        let row = &snapshot.rows[0];
        assert!(!row.deferred);
        assert_eq!(argv_of(&row.cells[3]), [&b"sleep"[..], b"1000", b"0.25"]);
    }
}

#[test]
fn a_row_never_filled_stays_deferred_and_a_filter_reads_them_all() {
    let sleeper = Reaped::spawn("sleep", &["1000", "0.5"]);
    let (procfs, mut sampler, mut snapshot) = deferring(vec![sleeper.id()], true);
    let users = UserNames::default();
    for _ in 0..reader::STATIC_REFRESH {
        snapshot = sampler.refresh(&procfs, &users, snapshot);
        assert!(snapshot.rows[0].deferred);
        assert_eq!(snapshot.rows[0].cells[3], NOT_READ);
    }
    // A filter typed: every row is searched, so every deferred one is read first.
    sampler.set_deferral(&procfs, &users, &mut snapshot, (1, false));
    assert!(sampler.deferred.is_empty());
    assert_eq!(
        argv_of(&snapshot.rows[0].cells[3]),
        [&b"sleep"[..], b"1000", b"0.5"]
    );
    snapshot = sampler.refresh(&procfs, &users, snapshot);
    assert!(!snapshot.rows[0].deferred);
    // Sorted by the command line: it is never deferred, rss still is.
    sampler.set_deferral(&procfs, &users, &mut snapshot, (3, true));
    assert_eq!(sampler.deferred, [false, false, true, false]);
}

#[test]
fn sorting_by_a_deferred_column_reads_it_for_every_row_first() {
    let sleeper = Reaped::spawn("sleep", &["1000", "0.75"]);
    let (procfs, mut sampler, mut snapshot) = deferring(vec![sleeper.id()], true);
    let users = UserNames::default();
    sampler.set_deferral(&procfs, &users, &mut snapshot, (2, true));
    assert_eq!(sampler.deferred, [false, false, false, true]);
    let row = &snapshot.rows[0];
    assert!(!row.deferred, "read under the old choice");
    assert!(matches!(row.cells[2], Ok(Value::Bytes(rss)) if rss > 0));
    assert_eq!(argv_of(&row.cells[3]), [&b"sleep"[..], b"1000", b"0.75"]);
}

#[test]
fn a_deferred_row_of_a_process_gone_reads_as_gone() {
    let mut sleeper = Reaped::spawn("sleep", &["1000"]);
    let (procfs, mut sampler, mut snapshot) = deferring(vec![sleeper.id()], true);
    let users = UserNames::default();
    assert!(snapshot.rows[0].deferred);
    // Our own un-reaped child.
    sleeper.0.kill().unwrap();
    sleeper.0.wait().unwrap();
    sampler.fill(&procfs, &users, &mut snapshot, &[0]);
    let row = &snapshot.rows[0];
    assert!(!row.deferred);
    assert_eq!(
        (&row.cells[2], &row.cells[3]),
        (&Err(Unavailable::Gone), &Err(Unavailable::Gone))
    );
}

#[test]
fn threads_and_streams_defer_nothing() {
    let me = std::process::id();
    let (_, sampler, snapshot) = deferring(vec![me], false);
    assert!(sampler.deferred.is_empty());
    assert!(snapshot.rows.iter().all(|row| !row.deferred));
    let (procfs, mut sampler, _) = deferring(vec![me], true);
    sampler.set_threads(true);
    assert!(sampler.deferred.is_empty());
    let users = UserNames::default();
    let mut threads = sampler.refresh(&procfs, &users, Snapshot::default());
    sampler.set_deferral(&procfs, &users, &mut threads, (1, true));
    assert!(sampler.deferred.is_empty());
    assert!(threads.rows.iter().all(|row| !row.deferred));
    assert!(threads.rows.iter().all(|row| row.cells[3].is_ok()));
}
