//! The reads behind process families: the runtime facts of the processes that can have a
//! family role (children of a runtime process), cheaply: an executable the runtime cache
//! already knows no runtime claims costs one `stat`, and a few processes' children come
//! from their threads' `task/TID/children` files rather than every process's parent link.
//! Deriving the family is `analyze::runtime::family`'s.

use std::collections::HashSet;

use crate::collect::runtime::known_without_runtime;
use crate::collect::scan::scan;
use crate::collect::tree::{ProcessNode, read_nodes};
use crate::collect::{Needs, ProcFs, ProcessDir, ProcessSample};
use crate::model::Unavailable;
use crate::model::runtime::RuntimeProbe;

/// The runtime facts (executable facts, and the environment of processes a runtime probe
/// claims) of the processes of `nodes` that can have a role in a runtime's process family:
/// the children (kernel threads aside) of a parent a runtime probe claims (a cluster
/// worker's primary, a forked child's parent). Parents are probed once each, children
/// whatever their thread count (an interpreter may not have started a thread yet); an
/// executable the cache knows no runtime claims costs one `stat`.
pub fn read_runtimes(procfs: &ProcFs, nodes: &[ProcessNode]) -> Vec<ProcessSample> {
    let probes = procfs.runtimes();
    let mut parents: Vec<u32> = nodes
        .iter()
        .filter(|n| !n.kernel_thread)
        .map(|n| n.ppid)
        .collect();
    parents.sort_unstable();
    parents.dedup();
    let runtime_parents: HashSet<u32> = scan(&parents, |pid| {
        Ok(read_claimed(procfs, pid, probes)?.map(|_| pid))
    })
    .rows
    .into_iter()
    .collect();
    let children: Vec<u32> = nodes
        .iter()
        .filter(|n| !n.kernel_thread && runtime_parents.contains(&n.ppid))
        .map(|n| n.pid)
        .collect();
    scan(&children, |pid| read_claimed(procfs, pid, probes)).rows
}

/// The runtime facts of those of `pids` whose executable a runtime probe claims.
pub fn runtimes_of(procfs: &ProcFs, pids: &[u32]) -> Vec<ProcessSample> {
    let probes = procfs.runtimes();
    scan(pids, |pid| read_claimed(procfs, pid, probes)).rows
}

/// The runtime facts of `pid` when a runtime probe claims its executable.
fn read_claimed(
    procfs: &ProcFs,
    pid: u32,
    probes: &[RuntimeProbe],
) -> Result<Option<ProcessSample>, Unavailable> {
    if !could_run_a_runtime(procfs, pid, probes) {
        return Ok(None);
    }
    let sample = ProcessSample::read(procfs, pid, Needs::STAT | Needs::RUNTIME)?;
    let claimed = sample
        .binary
        .as_ref()
        .is_some_and(|b| b.as_ref().is_some_and(|b| !b.runtimes.is_empty()));
    Ok(claimed.then_some(sample))
}

/// False when the executable of `pid` is one the cache already knows no runtime claims:
/// one `stat` of `PID/exe` (the executable's device and inode) instead of opening the
/// process. The PID may have been reused since it was listed; that only decides whether the
/// process is read, and what is read then goes through its directory handle.
fn could_run_a_runtime(procfs: &ProcFs, pid: u32, probes: &[RuntimeProbe]) -> bool {
    let Ok(stat) = rustix::fs::statat(
        procfs.handle(),
        format!("{pid}/exe"),
        rustix::fs::AtFlags::empty(),
    ) else {
        return false;
    };
    !known_without_runtime(stat.st_dev, stat.st_ino, probes)
}

/// The runtime facts of the children of `parents` (see [`read_runtimes`]): where the
/// workers of a cluster primary are found. The children come from the parents' threads'
/// `children` files when that is cheap, else from the parent links of every process.
pub fn read_children_runtimes(procfs: &ProcFs, parents: &[u32]) -> Vec<ProcessSample> {
    if let Some(children) = children_from_files(procfs, parents) {
        return runtimes_of(procfs, &children);
    }
    let Ok(nodes) = read_nodes(procfs) else {
        return Vec::new();
    };
    let children: Vec<ProcessNode> = nodes
        .into_iter()
        .filter(|n| parents.contains(&n.ppid))
        .collect();
    read_runtimes(procfs, &children)
}

/// At most this many `task/TID/children` files are read to find the children of a few
/// processes; beyond, the parent links of every process are read instead.
const MAX_CHILDREN_FILES: u64 = 256;

/// The children of `parents`, from each of their threads' `children` file (a process can
/// fork from any of its threads): a few small reads where the parent links of every
/// process are a listing of `/proc` and a `stat` each. `None` when the parents have too
/// many threads, or a file cannot be read (a kernel without CONFIG_PROC_CHILDREN, a
/// fixture tree, a thread that just exited): the caller reads the parent links then. A
/// parent that is gone has no children.
fn children_from_files(procfs: &ProcFs, parents: &[u32]) -> Option<Vec<u32>> {
    let dirs: Vec<ProcessDir> = parents
        .iter()
        .filter_map(|&pid| procfs.process(pid).ok())
        .collect();
    let mut files = 0;
    for dir in &dirs {
        files += dir.thread_count().ok()?;
    }
    if files > MAX_CHILDREN_FILES {
        return None;
    }
    let mut children = Vec::new();
    for dir in &dirs {
        for tid in dir.numeric_entries("task").ok()? {
            let listed = dir.read(&format!("task/{tid}/children")).ok()?;
            let ids = listed.split(u8::is_ascii_whitespace);
            children.extend(ids.filter_map(crate::parse::stat::parse_num::<u32>));
        }
    }
    children.sort_unstable();
    children.dedup();
    Some(children)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::process::{Child, Command, Stdio};

    /// Forks a `cat` from its main thread and one from a second thread (which stays), prints
    /// their PIDs and waits for its stdin to close. Its children exit when it does: their
    /// stdin is a pipe only it holds.
    const FORKS_FROM_TWO_THREADS: &str = "import subprocess, sys, threading
first = subprocess.Popen(['cat'], stdin=subprocess.PIPE)
forked, ready = [], threading.Event()
def fork_and_stay():
    forked.append(subprocess.Popen(['cat'], stdin=subprocess.PIPE))
    ready.set()
    threading.Event().wait()
threading.Thread(target=fork_and_stay, daemon=True).start()
ready.wait()
print(first.pid, forked[0].pid, flush=True)
sys.stdin.read()
";

    /// Our child, killed and reaped however the test ends.
    struct Reaped(Child);

    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn children_forked_from_any_thread_are_found_through_the_children_files() {
        let me = std::process::id();
        if !std::path::Path::new(&format!("/proc/{me}/task/{me}/children")).exists() {
            eprintln!("skipped: this kernel has no task/TID/children files");
            return;
        }
        let procfs = ProcFs::open(std::path::Path::new("/proc")).unwrap();
        let mut parent = Reaped(
            Command::new("python3")
                .args(["-c", FORKS_FROM_TWO_THREADS])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut line = String::new();
        let stdout = parent.0.stdout.take().unwrap();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        let mut forked: Vec<u32> = line
            .split_whitespace()
            .map(|pid| pid.parse().unwrap())
            .collect();
        forked.sort_unstable();
        assert_eq!(forked.len(), 2, "{line:?}");
        let pid = parent.0.id();
        assert_eq!(procfs.process(pid).unwrap().thread_count(), Ok(2));
        assert_eq!(children_from_files(&procfs, &[pid]), Some(forked.clone()));
        // A child that forked nothing has no children.
        assert_eq!(children_from_files(&procfs, &[forked[0]]), Some(Vec::new()));
    }
}
