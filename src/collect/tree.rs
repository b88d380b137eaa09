//! The process table for `tree` and `kill --tree`: each process's parent, name, thread count
//! and owner, from one `stat` file per process (the open file's owner is the process's
//! euid, as `pstree` takes it), read in parallel.

use crate::collect::ProcFs;
use crate::collect::scan::scan;
use crate::parse::stat::parse_stat;

/// One process as the tree needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessNode {
    pub pid: u32,
    pub ppid: u32,
    pub name: Vec<u8>,
    pub threads: u64,
    /// The owner of `/proc/PID`: the effective uid (root for non-dumpable processes).
    pub uid: Option<u32>,
    pub starttime_ticks: u64,
    pub kernel_thread: bool,
}

/// Every readable process. One file per process, so no handle is needed to keep the
/// fields of one process together.
pub fn read_nodes(procfs: &ProcFs) -> anyhow::Result<Vec<ProcessNode>> {
    let pids = procfs
        .pids()
        .map_err(|err| anyhow::anyhow!("cannot list {}: {err}", procfs.root().display()))?;
    Ok(scan(&pids, |pid| {
        let (raw, uid) = procfs.read_with_owner(&format!("{pid}/stat"))?;
        Ok(parse_stat(&raw).ok().map(|stat| ProcessNode {
            pid,
            ppid: stat.ppid,
            threads: stat.num_threads,
            uid,
            starttime_ticks: stat.starttime_ticks,
            kernel_thread: stat.is_kernel_thread(),
            name: stat.comm,
        }))
    })
    .rows)
}
