//! The detail pane's data for one process, as the TUI draws it: its threads with CPU% over
//! the interval, descriptors, memory by category with the sizes when the pane opened,
//! sockets, and the runtime tab's figures. A render-owned view type, filled by the live
//! view (`live::detail`), which reads only the open tab.

use std::collections::HashMap;

use crate::model::fd::FdList;
use crate::model::memory::{CategoryRow, MemoryReport};
use crate::model::socket::PortList;
use crate::model::thread::ThreadList;

use super::runtime_load::RuntimeLoad;

/// What the detail pane of one process shows.
#[derive(Debug, Default)]
pub struct DetailPane {
    pub pid: u32,
    /// The process exited, or its PID now names another process.
    pub gone: bool,
    pub error: Option<String>,
    pub threads: Option<ThreadList>,
    /// CPU% of each thread over the last interval, by TID.
    pub thread_cpu: HashMap<u32, f64>,
    pub fds: Option<FdList>,
    pub memory: Option<MemoryReport>,
    /// RSS of each memory category when the pane opened.
    pub memory_baseline: HashMap<String, u64>,
    pub ports: Option<PortList>,
    pub runtime: Option<RuntimeLoad>,
    /// The runtime tab samples the process's threads (its figures come at a refresh).
    pub sampling: bool,
}

impl DetailPane {
    pub fn new(pid: u32) -> Self {
        Self {
            pid,
            ..Self::default()
        }
    }
}

/// The key that identifies a memory category across refreshes.
pub fn category_key(row: &CategoryRow) -> String {
    format!(
        "{}/{}/{}",
        row.category,
        row.tid.map_or(String::new(), |t| t.to_string()),
        row.file.as_deref().unwrap_or("")
    )
}
