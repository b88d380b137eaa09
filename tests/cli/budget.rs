//! System-call budgets: "read only what the columns need", pinned deterministically. Each
//! command runs under `strace -f -c` on proc trees the test builds (copies of one process,
//! thread or descriptor) at two sizes; the difference of the counts divided by the difference
//! of the sizes is the cost per unit, which must stay within its budget. Only file work is
//! counted (open, read, readlink, getdents, stat, close): memory and thread calls depend on
//! the allocator, and debug builds add an fcntl per close.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::bin;

/// The system calls counted: every call that opens, reads, lists, stats or closes a file.
const FILE_CALLS: &str = "/^(open|openat|openat2|read|pread64|readlink|readlinkat|getdents64|newfstatat|fstat|statx|close|lseek)$";

/// True when strace can trace here; a missing strace skips with a notice, except in CI,
/// which installs it (.ci/run).
pub fn strace_ready() -> bool {
    let works = Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "true"])
        .status()
        .is_ok_and(|status| status.success());
    if !works {
        // .ci/run installs strace and marks its runs with PROCSCOPE_REQUIRE_NODE.
        let in_ci = ["CI", "PROCSCOPE_REQUIRE_STRACE", "PROCSCOPE_REQUIRE_NODE"]
            .iter()
            .any(|name| std::env::var_os(name).is_some());
        assert!(
            !in_ci,
            "strace is installed by CI (.ci/run) and must work there"
        );
        eprintln!("skipping syscall budget: strace is not installed or cannot trace here");
    }
    works
}

/// The counted system calls of one run of `command` (the procscope binary with its
/// arguments), all threads included; the run must succeed.
fn count(command: &[&str]) -> (u64, String) {
    let log = tempfile::NamedTempFile::new().expect("temp file");
    let output = Command::new("strace")
        .args(["-f", "-qq", "-c", "-U", "calls,name", "-e"])
        .arg(format!("trace={FILE_CALLS}"))
        .arg("-o")
        .arg(log.path())
        .args(command)
        // A clean environment: cargo's library path would add loader look-ups.
        .env_clear()
        .env("TZ", "UTC")
        .output()
        .expect("strace runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = std::fs::read_to_string(log.path()).expect("strace summary");
    (total_of(&summary), summary)
}

/// The total number of calls in a `strace -c -U calls,name` summary.
fn total_of(summary: &str) -> u64 {
    summary
        .lines()
        .find(|line| line.trim_end().ends_with("total"))
        .and_then(|line| line.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no total in strace's summary:\n{summary}"))
}

/// Counts `args` against two trees built by `build(dir, n)` with `small` and `large` units,
/// and returns the calls per added unit and the larger run's summary.
fn per_unit(
    small: usize,
    large: usize,
    build: impl Fn(&Path, usize),
    args: impl Fn(&Path) -> Vec<String>,
) -> (f64, String) {
    let counts: Vec<(u64, String)> = [small, large]
        .into_iter()
        .map(|n| {
            let dir = tempfile::tempdir().expect("temp dir");
            build(dir.path(), n);
            let args = args(dir.path());
            let mut command = vec![bin().to_str().unwrap().to_owned()];
            command.extend(args);
            let command: Vec<&str> = command.iter().map(String::as_str).collect();
            count(&command)
        })
        .collect();
    let per = (counts[1].0 - counts[0].0) as f64 / (large - small) as f64;
    (per, counts[1].1.clone())
}

/// A proc tree with the system files of the basic fixture and `n` copies of one sleeping
/// process (PIDs 1000...), each with `stat`, `status`, `cmdline`.
fn process_tree(root: &Path, n: usize) {
    let basic = crate::common::fixture("basic");
    for name in ["stat", "uptime", "meminfo"] {
        std::fs::copy(basic.join(name), root.join(name)).unwrap();
    }
    std::fs::create_dir_all(root.join("sys/kernel")).unwrap();
    std::fs::write(root.join("sys/kernel/pid_max"), "32768\n").unwrap();
    for pid in 1000..1000 + n as u32 {
        write_process(&root.join(pid.to_string()), pid, 1);
    }
}

fn write_process(dir: &Path, pid: u32, threads: u32) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("stat"),
        format!(
            "{pid} (worker) S 1 {pid} {pid} 0 -1 4194560 10 0 1 0 12 3 0 0 20 0 {threads} 0 5000 \
             22020096 1024 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("status"),
        format!(
            "Name:\tworker\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t{pid}\nNgid:\t0\n\
             Pid:\t{pid}\nPPid:\t1\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n\
             FDSize:\t64\nGroups:\t\nNStgid:\t{pid}\nNSpid:\t{pid}\nKthread:\t0\n\
             VmRSS:\t    4096 kB\nThreads:\t{threads}\nvoluntary_ctxt_switches:\t150\n\
             nonvoluntary_ctxt_switches:\t7\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("cmdline"), b"/usr/bin/worker\0--serve\0").unwrap();
    std::fs::write(dir.join("comm"), b"worker\n").unwrap();
}

/// The process tree plus process 500 with `n` threads (`task/TID/{stat,status}`).
fn thread_tree(root: &Path, n: usize) {
    process_tree(root, 3);
    let dir = root.join("500");
    write_process(&dir, 500, n as u32);
    for tid in 500..500 + n as u32 {
        write_process(&dir.join(format!("task/{tid}")), tid, n as u32);
    }
}

/// The process tree plus process 500 with `n` descriptors: a tenth each pipes and sockets,
/// the rest distinct paths.
fn fd_tree(root: &Path, n: usize) {
    process_tree(root, 20);
    let dir = root.join("500");
    write_process(&dir, 500, 1);
    std::fs::create_dir_all(dir.join("fd")).unwrap();
    std::fs::create_dir_all(dir.join("fdinfo")).unwrap();
    for fd in 0..n {
        let (target, ino) = match fd % 10 {
            0 => (format!("pipe:[{}]", 7000 + fd), 7000 + fd),
            1 => (format!("socket:[{}]", 9000 + fd), 9000 + fd),
            // The fixture's own paths: a distinct existing file per descriptor.
            _ => (root.join(format!("file{fd}")).display().to_string(), fd),
        };
        if target.starts_with('/') {
            std::fs::write(&target, "").unwrap();
        }
        std::os::unix::fs::symlink(&target, dir.join(format!("fd/{fd}"))).unwrap();
        std::fs::write(
            dir.join(format!("fdinfo/{fd}")),
            format!("pos:\t0\nflags:\t0100002\nmnt_id:\t25\nino:\t{ino}\n"),
        )
        .unwrap();
    }
}

fn proc_root_args(root: &Path, rest: &[&str]) -> Vec<String> {
    let mut args = vec!["--proc-root".to_owned(), root.display().to_string()];
    args.extend(rest.iter().map(|arg| (*arg).to_owned()));
    args
}

fn assert_budget(what: &str, per: f64, budget: f64, summary: &str) {
    eprintln!("{what}: {per:.2} system calls per unit (budget {budget})");
    assert!(
        per <= budget,
        "{what}: {per:.2} system calls per unit, budget {budget}; counts of the larger run:\n{summary}"
    );
}

/// Runs `args` against trees of 10 and 60 units (built by `build`) and checks the calls per
/// unit against `budget`.
fn check_budget(what: &str, build: impl Fn(&Path, usize), args: &[&str], budget: f64) {
    if !strace_ready() {
        return;
    }
    let (per, summary) = per_unit(10, 60, build, |root| proc_root_args(root, args));
    assert_budget(what, per, budget, &summary);
}

#[test]
fn ps_pid_and_name_read_one_file_per_process() {
    // Open the comm file (stat would sum the times of every thread), read it once (a short
    // read is its end), close: no status, no cmdline, no directory handle.
    check_budget(
        "ps -o pid,name per process",
        process_tree,
        &["ps", "-o", "pid,name"],
        3.0,
    );
}

#[test]
fn default_ps_stays_within_its_columns() {
    // stat, status (user, RSS) and cmdline: a directory handle and three open/read/close.
    check_budget("ps per process", process_tree, &["ps"], 11.0);
}

#[test]
fn tree_reads_stat_once_per_process() {
    // Open PID/stat, fstat it (the owner), read once, close.
    check_budget("tree per process", process_tree, &["tree"], 4.0);
}

#[test]
fn threads_cost_per_thread() {
    // stat, status and syscall (open/read/close each); wchan only where the system call
    // says little.
    check_budget(
        "threads per thread",
        thread_tree,
        &["threads", "500", "--no-roles"],
        9.0,
    );
}

#[test]
fn fds_cost_per_descriptor() {
    // A readlink, the fdinfo (open, read, close), one stat per distinct file (eight in ten
    // here): 4.8. The search for the pipes' other ends (`--peers`) reads every other
    // process's table once, not the target's again and not once per pipe.
    check_budget("fds per descriptor", fd_tree, &["fds", "500"], 4.8);
    check_budget(
        "fds --peers per descriptor",
        fd_tree,
        &["fds", "500", "--peers"],
        5.0,
    );
}

/// The process tree with `n` processes holding one pipe end each (pipes of their own), and
/// process 500 holding ten pipe ends.
fn pipe_tree(root: &Path, n: usize) {
    process_tree(root, n);
    let dir = root.join("500");
    write_process(&dir, 500, 1);
    for pid in (1000..1000 + n as u32).chain([500]) {
        let dir = root.join(pid.to_string());
        std::fs::create_dir_all(dir.join("fd")).unwrap();
        std::fs::create_dir_all(dir.join("fdinfo")).unwrap();
        let fds = if pid == 500 { 10 } else { 1 };
        for fd in 0..fds {
            let ino = u64::from(pid) * 100 + fd;
            std::os::unix::fs::symlink(format!("pipe:[{ino}]"), dir.join(format!("fd/{fd}")))
                .unwrap();
            std::fs::write(
                dir.join(format!("fdinfo/{fd}")),
                format!("pos:\t0\nflags:\t00\nmnt_id:\t15\nino:\t{ino}\n"),
            )
            .unwrap();
        }
    }
}

#[test]
fn fds_reads_other_processes_only_with_peers() {
    // Without --peers nothing is read per other process: the cost of `fds` does not grow
    // with the system. With it each other table is read once: open `fd/`, list it, one
    // readlink per descriptor, close.
    check_budget("fds per other process", pipe_tree, &["fds", "500"], 0.0);
    check_budget(
        "fds --peers per other process",
        pipe_tree,
        &["fds", "500", "--peers"],
        4.0,
    );
}

/// The process tree (processes without an executable, as kernel threads are) plus process
/// 500, whose executable is `/bin/sh`.
fn kernel_thread_tree(root: &Path, n: usize) {
    process_tree(root, n);
    let dir = root.join("500");
    write_process(&dir, 500, 1);
    std::os::unix::fs::symlink("/bin/sh", dir.join("exe")).unwrap();
}

#[test]
fn who_skips_the_files_and_maps_of_kernel_threads() {
    // The process directory (open, close) and cwd, root, exe (a stat each): a process
    // without an executable (a kernel thread, a zombie) has no fd table or maps to read.
    check_budget(
        "who per kernel thread",
        kernel_thread_tree,
        &["who", "/bin/sh"],
        5.0,
    );
}

#[test]
fn start_up_reads_nothing_the_columns_do_not_need() {
    if !strace_ready() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    process_tree(dir.path(), 3);
    let root = dir.path().to_str().unwrap();
    let log = tempfile::NamedTempFile::new().expect("temp file");
    let output = Command::new("strace")
        .args(["-f", "-qq", "-e"])
        .arg(format!("trace={FILE_CALLS}"))
        .arg("-o")
        .arg(log.path())
        .arg(bin())
        .args(["--proc-root", root, "ps", "-o", "pid,name"])
        .env_clear()
        .output()
        .expect("strace runs");
    assert!(output.status.success(), "{output:?}");
    let trace = std::fs::read_to_string(log.path()).unwrap();
    let calls: Vec<&str> = trace
        .lines()
        .skip_while(|line| !line.contains(&format!("\"{root}\"")))
        .take_while(|line| !line.contains("\"1000/"))
        .collect();
    // From opening the proc root to the first process file: the four system files (open,
    // one read, close), the `self` link, the listing (open, one getdents, close). The loader
    // and std's own start-up come before and are not procscope's to cut.
    eprintln!("start-up: {} file system calls (budget 18)", calls.len());
    assert!(
        !calls.is_empty() && calls.len() <= 18,
        "{} file system calls before the first process file, budget 18:\n{}",
        calls.len(),
        calls.join("\n")
    );
}

/// The paths `ps -o COLUMNS` opened on the basic fixture, with `TZ` set to `tz` (or unset).
fn ps_opened(columns: &str, tz: Option<&str>) -> Vec<PathBuf> {
    let root = crate::common::fixture("basic");
    let args = ["--proc-root", root.to_str().unwrap(), "ps", "-o", columns];
    let log = tempfile::NamedTempFile::new().expect("temp file");
    let mut command = Command::new("strace");
    command
        .args(["-f", "-qq", "-e", "trace=open,openat,openat2", "-o"])
        .arg(log.path())
        .arg(bin())
        .args(args);
    match tz {
        Some(tz) => command.env("TZ", tz),
        None => command.env_remove("TZ"),
    };
    let output = command.output().expect("strace runs");
    assert!(output.status.success(), "{args:?}: {output:?}");
    std::fs::read_to_string(log.path())
        .unwrap()
        .lines()
        .filter_map(|line| Some(PathBuf::from(line.split('"').nth(1)?)))
        .collect()
}

#[test]
fn no_user_table_or_time_zone_without_their_columns() {
    if !strace_ready() {
        return;
    }
    let opened = ps_opened("pid,name", None);
    for unwanted in ["/etc/passwd", "/etc/localtime", "/usr/share/zoneinfo"] {
        assert!(
            !opened.iter().any(|path| path.starts_with(unwanted)),
            "ps -o pid,name opened {unwanted}: {opened:?}"
        );
    }
}

#[test]
fn a_time_column_reads_one_zone_file() {
    if !strace_ready() {
        return;
    }
    for tz in [None, Some("UTC"), Some("Europe/Paris")] {
        let opened = ps_opened("pid,start", tz);
        let zone_files = opened
            .iter()
            .filter(|path| {
                path.starts_with("/usr/share/zoneinfo") || path.starts_with("/etc/localtime")
            })
            .count();
        assert!(
            zone_files <= 1,
            "TZ={tz:?}: ps -o pid,start opened {zone_files} time zone paths (the zoneinfo \
             database walked?): {opened:?}"
        );
    }
}

/// The counted calls of `ps -o pid,name` in a new PID namespace holding `n` sleeping
/// children of its init (and nothing else but the tracer): the live /proc, and no process of
/// anyone else in the count. Everything in the namespace dies with its init.
fn live_ps_count(n: usize) -> (u64, String) {
    let log = tempfile::NamedTempFile::new().expect("temp file");
    let script = format!(
        "i=0; while [ $i -lt {n} ]; do sleep 600 & i=$((i+1)); done; \
         strace -f -qq -c -U calls,name -e 'trace={FILE_CALLS}' -o '{log}' '{bin}' ps -o pid,name",
        log = log.path().display(),
        bin = bin().display()
    );
    let output = Command::new("unshare")
        .args(["-Urpf", "--mount-proc", "sh", "-c", &script])
        .env_clear()
        .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
        .output()
        .expect("unshare runs");
    assert!(output.status.success(), "{output:?}");
    let summary = std::fs::read_to_string(log.path()).unwrap();
    (total_of(&summary), summary)
}

/// True when strace traces and a user and PID namespace can be made here (`what` names the
/// check skipped otherwise, with a notice).
pub(crate) fn traceable_namespaces(what: &str) -> bool {
    if !strace_ready() {
        return false;
    }
    let probe = Command::new("unshare")
        .args(["-Urpf", "--mount-proc", "true"])
        .output();
    let ready = probe.is_ok_and(|o| o.status.success());
    if !ready {
        eprintln!("notice: user namespaces are unavailable here; {what} skipped");
    }
    ready
}

#[test]
fn ps_pid_and_name_on_live_processes_the_test_started() {
    if !traceable_namespaces("live syscall budget") {
        return;
    }
    let (small, _) = live_ps_count(10);
    let (large, summary) = live_ps_count(60);
    let per = (large - small) as f64 / 50.0;
    assert_budget("live ps -o pid,name per process", per, 3.0, &summary);
}

#[test]
fn threads_symbolizes_a_live_process_in_a_few_reads() {
    if !strace_ready() {
        return;
    }
    let sleeper = crate::common::Owned::spawn("sleep", &["300"]).sleeping();
    let pid = sleeper.pid().to_string();
    let (total, summary) = count(&[bin().to_str().unwrap(), "threads", &pid]);
    // One sleeping thread: its files, the maps, and the symbol tables of the module its
    // program counter is in (libc), read whole: a few hundred calls at most. Reading the
    // symbol names on demand cost an lseek and a read each, 18800 calls for libc.
    eprintln!("threads of a live sleep: {total} file system calls (budget 500)");
    assert!(total <= 500, "{total} file system calls:\n{summary}");
}

/// Python parking `n` threads on an event (each blocked in futex, so no `wchan` is read).
const PARKED_THREADS: &str = r#"
import sys, threading
threading.stack_size(64 * 1024)
release = threading.Event()
for _ in range(int(sys.argv[1])):
    threading.Thread(target=release.wait, daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
"#;

/// True when the kernel's taskstats answers this test process, and so procscope, which it
/// starts with the same privileges (CAP_NET_ADMIN, a kernel with taskstats).
fn taskstats_answers() -> bool {
    let me = crate::common::gettid();
    procscope::collect::taskstats::threads_switches(std::process::id(), &[me])[0].is_some()
}

#[test]
fn threads_of_a_live_process_read_two_files_per_thread_with_taskstats() {
    if !strace_ready() {
        return;
    }
    let counts: Vec<(u64, String)> = [10usize, 110]
        .into_iter()
        .map(|n| {
            let (child, ready) = crate::common::python(PARKED_THREADS, &[&n.to_string()]);
            assert_eq!(ready, "ready");
            let pid = child.pid().to_string();
            let counted = count(&[bin().to_str().unwrap(), "threads", &pid, "--no-roles"]);
            drop(child);
            counted
        })
        .collect();
    let per = (counts[1].0 - counts[0].0) as f64 / 100.0;
    // stat and syscall (open, read, close each); the context switches from taskstats
    // instead of `status` where the kernel answers (CAP_NET_ADMIN), else from `status`.
    // The longer task list and maps (two mappings a thread) add a read now and then: 0.04.
    let budget = if taskstats_answers() { 6.1 } else { 9.1 };
    assert_budget("live threads per thread", per, budget, &counts[1].1);
}
