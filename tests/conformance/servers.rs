//! The real servers the conformance suite compares on: PostgreSQL (postmaster, auxiliaries
//! and a backend in `pg_sleep`), nginx (master + 2 workers on 127.0.0.1 and [::1]), redis,
//! a Node.js cluster (2 workers, one with a worker thread), Python `http.server` and a UDP
//! server on 127.0.0.1 and ::1. Started once per test binary, all on loopback with free
//! ports and temporary directories.
//!
//! Each server runs as PID 1 of its own PID and IPC namespace (`unshare --pid --ipc --fork
//! --kill-child`),
//! started from a keeper thread that lives as long as the test process. Stopping goes only
//! through our own children: at exit the unshare processes we spawned are killed and reaped,
//! which kills each namespace's init and so, by the kernel, everything inside; if the test
//! process dies abnormally, the parent-death signal of each unshare does the same. No
//! worker or grandchild is ever signalled by a remembered PID.

use std::net::{TcpListener, TcpStream};

use crate::recipes;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// One started server: its name, the unshare child we own, and the namespace init (the
/// server's own top process, e.g. the postmaster) as a host PID.
pub struct Server {
    pub name: &'static str,
    /// The top process of the server (postmaster, nginx master, cluster primary...).
    pub root: u32,
    /// TCP ports it listens on (UDP for the UDP server).
    pub ports: Vec<u16>,
    /// Its temporary directory (data, configuration, logs).
    pub dir: PathBuf,
    /// The top processes of the clients started with it (each in its own PID namespace):
    /// psql over TCP and over the unix socket, the redis client that leaves replies unread.
    pub clients: Vec<u32>,
}

pub struct Servers {
    pub list: Vec<Server>,
    /// Servers whose program is not installed (a failure in CI, a notice elsewhere).
    pub missing: Vec<String>,
}

impl Servers {
    pub fn get(&self, name: &str) -> Option<&Server> {
        self.list.iter().find(|s| s.name == name)
    }
}

/// Children we own (the unshare wrappers and psql), killed and reaped at exit.
static OWNED: Mutex<Vec<Child>> = Mutex::new(Vec::new());
/// Temporary directories to remove at exit.
static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// True when a missing server or tool must fail the suite.
pub fn required() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
        || std::env::var("PROCSCOPE_REQUIRE_SERVERS").as_deref() == Ok("1")
}

/// The shared servers, started on first use; `None` (with a notice) when this machine
/// cannot run them and they are not required.
pub fn servers() -> Option<&'static Servers> {
    static SERVERS: OnceLock<Option<Servers>> = OnceLock::new();
    SERVERS
        .get_or_init(|| {
            // SAFETY: geteuid has no preconditions.
            if unsafe { libc::geteuid() } != 0 {
                assert!(!required(), "the conformance suite must run as root here");
                crate::notice!("not root (servers need own users and PID namespaces); conformance suite skipped");
                return None;
            }
            // Orphans of our servers (a namespace init whose unshare ended) come to us, to be
            // reaped at exit, not to the host's init.
            // SAFETY: prctl with these arguments only marks this process as a subreaper.
            unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
            // The keeper thread spawns every server and never ends, so the parent-death
            // signal of each server fires only when the whole test process ends.
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::Builder::new()
                .name("server-keeper".into())
                .spawn(move || {
                    tx.send(start_all()).unwrap();
                    loop {
                        std::thread::park();
                    }
                })
                .unwrap();
            let servers = rx.recv().expect("servers started");
            // SAFETY: registering a plain extern "C" function.
            unsafe { libc::atexit(stop_all) };
            if !servers.missing.is_empty() {
                assert!(!required(), "servers missing: {:?}", servers.missing);
                crate::notice!("not installed, so not compared: {:?}", servers.missing);
            }
            Some(servers)
        })
        .as_ref()
}

extern "C" fn stop_all() {
    let mut owned = OWNED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for child in owned.iter_mut() {
        if !namespaces_work() {
            // SAFETY: the group our own un-reaped child leads (it was started as a leader).
            unsafe { libc::killpg(child.id() as i32, libc::SIGKILL) };
        }
        // Our own un-reaped children; killing an unshare kills its namespace.
        let _ = child.kill();
        let _ = child.wait();
    }
    // Each killed unshare's namespace init (killed by its parent-death signal) was
    // reparented to us: reap until no child is left.
    // SAFETY: waitpid with a null status pointer; every test has ended by now.
    while unsafe { libc::waitpid(-1, std::ptr::null_mut(), 0) } > 0 {}
    for dir in DIRS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
    {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn start_all() -> Servers {
    let mut servers = Servers {
        list: Vec::new(),
        missing: Vec::new(),
    };
    type Start = fn() -> Result<Server, String>;
    let starts: [(&str, &str, Start); 6] = [
        ("postgres", "psql", recipes::postgres),
        ("nginx", "nginx", recipes::nginx),
        ("redis", "redis-server", recipes::redis),
        ("node", "node", recipes::node_cluster),
        ("python-http", "python3", recipes::python_http),
        ("python-udp", "python3", recipes::python_udp),
    ];
    for (name, program, start) in starts {
        if !installed(program) || (name == "postgres" && recipes::postgres_bin().is_none()) {
            servers.missing.push(name.to_owned());
            continue;
        }
        match start() {
            Ok(server) => servers.list.push(server),
            Err(why) => panic!("{name} did not start: {why}"),
        }
    }
    servers
}

pub(crate) fn installed(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A port free on both 127.0.0.1 and ::1 a moment ago (bound, then released).
pub fn free_port() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if TcpListener::bind(("::1", port)).is_ok() {
            return port;
        }
    }
}

pub(crate) fn temp_dir() -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix("procscope-conformance-")
        .tempdir()
        .unwrap()
        .keep();
    DIRS.lock().unwrap().push(dir.clone());
    dir
}

/// Whether this machine lets us make PID and IPC namespaces (a container without
/// CAP_SYS_ADMIN may not); asked once.
pub(crate) fn namespaces_work() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    *WORKS.get_or_init(|| {
        let works = Command::new("unshare")
            .args(["--pid", "--ipc", "--fork", "--kill-child", "true"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !works {
            crate::notice!("no PID namespaces here; servers run in their own process groups");
        }
        works
    })
}

/// Spawns `argv` as PID 1 of a new PID namespace, killed with its namespace when the
/// unshare wrapper (our child) dies; without namespaces, as the leader of its own process
/// group, killed as a group at exit. The namespace has its own IPC namespace too: the SysV
/// shared memory a killed postmaster leaves behind goes with it. Returns our child's PID
/// and, when `piped`, its standard output (else it goes to a log file in `dir`).
/// [`top_of`] then gives the server's top process.
pub(crate) fn spawn_in_namespace(
    argv: &[&str],
    dir: &Path,
    piped: bool,
) -> (u32, Option<std::process::ChildStdout>) {
    let log = |name: &str| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(name))
            .unwrap()
    };
    let mut command = if namespaces_work() {
        let mut command = Command::new("unshare");
        command
            .args(["--pid", "--ipc", "--fork", "--kill-child", "--"])
            .args(argv);
        command
    } else {
        let mut command = Command::new(argv[0]);
        std::os::unix::process::CommandExt::process_group(command.args(&argv[1..]), 0);
        command
    };
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(if piped {
            Stdio::piped()
        } else {
            Stdio::from(log("stdout.log"))
        })
        .stderr(Stdio::from(log("stderr.log")));
    adopt(command)
}

/// The server's top process for our child `spawned`: the namespace init under the unshare
/// wrapper, or the child itself without namespaces.
pub(crate) fn top_of(spawned: u32, what: &str) -> Result<u32, String> {
    if namespaces_work() {
        only_child(spawned, what)
    } else {
        Ok(spawned)
    }
}

/// Spawns `command` with a parent-death signal and keeps the child for the exit hook.
pub(crate) fn adopt(mut command: Command) -> (u32, Option<std::process::ChildStdout>) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe; it only sets the child's parent-death signal.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = command.spawn().expect("unshare runs");
    let stdout = child.stdout.take();
    let pid = child.id();
    OWNED.lock().unwrap().push(child);
    (pid, stdout)
}

/// Polls `ready` every 50 ms for up to 60 s.
pub(crate) fn wait_for(what: &str, mut ready: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        if Instant::now() > deadline {
            return Err(format!("{what}: not ready after 60 s"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// The children of `pid`, from /proc (the test's own reading, not a tool's).
pub fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

pub(crate) fn cmdline(pid: u32) -> String {
    String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default())
        .replace('\0', " ")
}

/// The one child of `parent`, once it has one.
pub(crate) fn only_child(parent: u32, what: &str) -> Result<u32, String> {
    wait_for(what, || children(parent).len() == 1)?;
    Ok(children(parent)[0])
}

pub(crate) fn connects(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// Waits for the first line `stdout` prints.
pub(crate) fn ready_line(stdout: Option<std::process::ChildStdout>) -> Result<String, String> {
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(stdout.ok_or("no stdout")?),
        &mut line,
    )
    .map_err(|e| e.to_string())?;
    if line.is_empty() {
        return Err("ended before it was ready".into());
    }
    Ok(line)
}
