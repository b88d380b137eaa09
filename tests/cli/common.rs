//! Helpers shared by the integration tests: running the binary, owning child processes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// Prints `notice: ...` straight to standard error, which libtest does not capture, so a
/// skipped check shows in the output of a passing run too (`eprintln!` would be captured).
macro_rules! notice {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "notice: {}", format_args!($($arg)*));
    }};
}
pub(crate) use notice;

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_procscope"))
}

/// The fixture tree `tests/fixtures/proc/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/proc")
        .join(name)
}

/// Runs procscope with `args` in UTC, without colour, and returns what it printed.
pub fn run(args: &[&str]) -> Output {
    command(args).output().expect("procscope runs")
}

/// The command for `args`, ready to adjust.
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(bin());
    command.args(args).env("TZ", "UTC").env_remove("NO_COLOR");
    command
}

/// Runs against the basic fixture tree.
pub fn run_fixture(args: &[&str]) -> Output {
    run_fixture_tree("basic", args)
}

/// Runs against the fixture tree `tests/fixtures/proc/<tree>`.
pub fn run_fixture_tree(tree: &str, args: &[&str]) -> Output {
    let root = fixture(tree);
    let mut all = vec!["--proc-root", root.to_str().unwrap()];
    all.extend_from_slice(args);
    run(&all)
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Parses stdout as one JSON document.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "stdout is JSON ({err}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Asserts that the command succeeded (showing its stderr if not) and parses its stdout.
pub fn json_ok(output: &Output) -> serde_json::Value {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    json(output)
}

/// How long polling waits for a child to reach a state before the test goes on (and its
/// assertions then say what was wrong): generous, for a loaded machine.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// A child process the test started; killed and reaped when dropped.
pub struct Owned(pub Child);

impl Owned {
    /// Starts `program args` with no output.
    pub fn spawn(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Self {
        Self::start(Command::new(program).args(args))
    }

    /// Starts `command` with no input or output, waiting until it has exec'd.
    fn start(command: &mut Command) -> Self {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("child starts");
        let owned = Self(child);
        owned.wait_exec();
        owned
    }

    /// Waits until the child sleeps (state S), so tests can assert its state.
    pub fn sleeping(self) -> Self {
        self.wait_exec();
        let deadline = std::time::Instant::now() + PATIENCE;
        while std::time::Instant::now() < deadline {
            let stat =
                std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
            if stat
                .rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('S'))
            {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        self
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Waits until the child has exec'd (its comm is no longer the test binary's).
    fn wait_exec(&self) {
        let me = std::fs::read(format!("/proc/{}/comm", std::process::id())).unwrap_or_default();
        let deadline = std::time::Instant::now() + PATIENCE;
        while std::time::Instant::now() < deadline {
            let comm = std::fs::read(format!("/proc/{}/comm", self.pid())).unwrap_or_default();
            if !comm.is_empty() && comm != me {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // Only ever our own child, by its handle.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A child started as the leader of its own process group. When dropped, the whole group
/// (the child and everything it started) is killed through the group ID while the leader is
/// still our un-reaped child, so the ID cannot name anyone else; no descendant is ever
/// signalled by a remembered PID.
pub struct Group(pub Owned);

impl Group {
    pub fn spawn(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Self {
        use std::os::unix::process::CommandExt;
        Self(Owned::start(
            Command::new(program).args(args).process_group(0),
        ))
    }

    pub fn pid(&self) -> u32 {
        self.0.pid()
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // SAFETY: killpg on the group this test created; its leader is not reaped yet (the
        // `Owned` inside is dropped, killed and reaped after this).
        unsafe { libc::killpg(self.0.pid() as i32, libc::SIGKILL) };
    }
}

/// The one row of a `ps --json` document with this PID.
pub fn row_of(document: &serde_json::Value, pid: u32) -> serde_json::Value {
    document["processes"]
        .as_array()
        .expect("processes array")
        .iter()
        .find(|row| row["pid"] == pid)
        .cloned()
        .unwrap_or_else(|| panic!("pid {pid} listed in {document}"))
}

/// `sleep 300` that also holds `fd` (inherited across exec), waiting until it sleeps.
pub fn sleep_holding(fd: i32) -> Owned {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new("sleep");
    command
        .arg("300")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: fcntl is async-signal-safe; it only clears close-on-exec in the child.
    unsafe {
        command.pre_exec(move || {
            if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Owned(command.spawn().unwrap()).sleeping()
}

/// The `pid` of every row in a JSON list (`doc["processes"]`, `doc["results"]`), in order.
pub fn pids(rows: &serde_json::Value) -> Vec<u64> {
    rows.as_array()
        .expect("a JSON list")
        .iter()
        .map(|row| row["pid"].as_u64().expect("a numeric pid"))
        .collect()
}

/// Threads of the test process parked (blocked in a futex wait) until the gate opens; a
/// dropped gate opens and joins them.
#[derive(Default)]
pub struct Gate {
    open: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    handles: Vec<std::thread::JoinHandle<()>>,
}

impl Gate {
    /// Spawns a thread from `builder` that parks at the gate; returns its TID.
    pub fn park(&mut self, builder: std::thread::Builder) -> u32 {
        let open = self.open.clone();
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let handle = builder
            .spawn(move || {
                tx.send(gettid()).unwrap();
                let (lock, cvar) = &*open;
                let mut is_open = lock.lock().unwrap();
                while !*is_open {
                    is_open = cvar.wait(is_open).unwrap();
                }
            })
            .unwrap();
        self.handles.push(handle);
        rx.recv().unwrap()
    }

    /// Parks `count` threads with small (64 KiB) stacks; returns their TIDs.
    pub fn park_many(&mut self, count: usize) -> Vec<u32> {
        (0..count)
            .map(|_| self.park(std::thread::Builder::new().stack_size(64 << 10)))
            .collect()
    }

    /// The pthread handle of the `index`th parked thread (for `pthread_getattr_np`).
    pub fn pthread(&self, index: usize) -> libc::pthread_t {
        std::os::unix::thread::JoinHandleExt::as_pthread_t(&self.handles[index])
    }

    /// Releases every parked thread and waits for it to end.
    pub fn open(&mut self) {
        let (lock, cvar) = &*self.open;
        *lock.lock().unwrap() = true;
        cvar.notify_all();
        for handle in self.handles.drain(..) {
            let _ = handle.join();
        }
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.open();
    }
}

/// The calling thread's ID.
pub fn gettid() -> u32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() as u32 }
}

/// The first line a child printed on its piped standard output.
pub fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout is piped");
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
        .expect("the child prints a line");
    line
}

/// Starts `command` with stdin and stdout piped and waits for it to print `ready`; `None`
/// when the program cannot start (not installed). Stdin stays open until the child is dropped.
pub fn spawn_ready(command: &mut Command) -> Option<Owned> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    assert_eq!(first_line(&mut child).trim(), "ready");
    Some(Owned(child))
}

/// The row of descriptor `fd` in an `fds --json` document.
pub fn fd_row<T>(doc: &serde_json::Value, fd: T) -> serde_json::Value
where
    T: std::fmt::Display + Copy,
    serde_json::Value: PartialEq<T>,
{
    doc["fds"]
        .as_array()
        .expect("fds array")
        .iter()
        .find(|row| row["fd"] == fd)
        .cloned()
        .unwrap_or_else(|| panic!("fd {fd} listed"))
}

/// The stack size glibc gave `thread` (its guard page not included).
pub fn stack_size_of(thread: libc::pthread_t) -> u64 {
    // SAFETY: the thread is alive (parked at the gate); the attribute object is initialised
    // by pthread_getattr_np and destroyed after use.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        assert_eq!(libc::pthread_getattr_np(thread, &mut attr), 0);
        let mut size: libc::size_t = 0;
        libc::pthread_attr_getstacksize(&attr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        size as u64
    }
}

/// True when `tool` runs here (`tool -V`/`-v` answered or not). CI (`CI` set) installs
/// lsof, psmisc and iproute2, so a missing tool fails there instead of skipping.
pub fn have_tool(tool: &str) -> bool {
    // `lsof -V` would list every file; its version flag is `-v`.
    let version = if tool == "lsof" { "-v" } else { "-V" };
    let found = Command::new(tool)
        .arg(version)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is installed by .ci/run"
        );
        eprintln!("skipped: {tool} is not installed");
    }
    found
}

/// The inode of one of the test's own socket descriptors (`socket:[N]`).
pub fn own_socket_inode(fd: i32) -> u64 {
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap();
    let text = link.to_string_lossy().into_owned();
    text.trim_start_matches("socket:[")
        .trim_end_matches(']')
        .parse()
        .unwrap()
}

/// Sends `signal` to a child of this test, but only while it is un-reaped: `try_wait` finds it
/// still running (or a zombie no one has collected), so its PID cannot belong to anyone else.
/// A child that has already exited is reaped here and not signalled. `Child::kill` sends only
/// SIGKILL; this is for the other signals a test needs (TERM, STOP, INT).
pub fn signal_own_child(child: &mut Child, signal: i32) {
    if child.try_wait().expect("waitpid on our child").is_some() {
        return;
    }
    // SAFETY: kill(2) on the PID of our own child, which was not reaped (checked above, and
    // only this thread waits for it), so the PID cannot have been reused.
    unsafe { libc::kill(child.id() as i32, signal) };
}

/// `python3 -c script ARGS…`, kept alive by its piped stdin, after it printed its first
/// line (returned). Killed and reaped by `Owned` when dropped.
pub fn python(script: &str, args: &[&str]) -> (Owned, String) {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 starts");
    let line = first_line(&mut child);
    (Owned(child), line.trim().to_owned())
}

/// The number on the `key:` line of the `status` file at `path` (`/proc/PID/status`).
pub fn status_number(path: &str, key: &str) -> u64 {
    let status = std::fs::read_to_string(path).unwrap();
    let line = status
        .lines()
        .find(|line| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.starts_with(':'))
        })
        .unwrap_or_else(|| panic!("no {key} in {path}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}
