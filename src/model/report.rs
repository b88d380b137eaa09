//! The results commands return: each a JSON document (the payload) plus what only its
//! table needs (hints, display flags), with the [`Payload`] facts every format reads.
//! Plain data: no reading, no formatting.

use crate::model::fd::{FdList, FdRow};
use crate::model::kill::{KillOutcome, KillPayload, KillResult};
use schemars::JsonSchema;
use serde::Serialize;

use crate::model::detail::ProcessDetail;
use crate::model::memory::MemoryReport;
use crate::model::payload::{NotAList, Payload};
use crate::model::socket::{PortList, PortRow};
use crate::model::thread::{ThreadList, ThreadRow};
use crate::model::tree::TreePayload;
use crate::model::who::{HeldFile, WhoList};

/// `fds`: the descriptors of one process.
pub struct FdsReport {
    pub list: FdList,
    /// What to suggest for targets that were denied.
    pub denied_hint: &'static str,
}

impl Payload for FdsReport {
    const COMMAND: &'static str = "fds";
    type Document = FdList;
    type Row = FdRow;

    fn document(&self) -> &FdList {
        &self.list
    }

    fn rows(&self) -> Option<&[FdRow]> {
        Some(&self.list.fds)
    }
}

/// `threads`: the threads of one process.
pub struct ThreadsReport {
    pub list: ThreadList,
    /// What to suggest for threads whose registers were denied.
    pub denied_hint: &'static str,
    /// Show each role's evidence in the table.
    pub explain: bool,
}

impl Payload for ThreadsReport {
    const COMMAND: &'static str = "threads";
    type Document = ThreadList;
    type Row = ThreadRow;

    fn document(&self) -> &ThreadList {
        &self.list
    }

    fn rows(&self) -> Option<&[ThreadRow]> {
        Some(&self.list.threads)
    }
}

/// `who`: the held files and their holders.
pub struct WhoReport {
    pub list: WhoList,
}

impl Payload for WhoReport {
    const COMMAND: &'static str = "who";
    type Document = WhoList;
    type Row = HeldFile;

    fn document(&self) -> &WhoList {
        &self.list
    }

    fn rows(&self) -> Option<&[HeldFile]> {
        Some(&self.list.files)
    }

    /// No held file: the path is held by nobody (exit 1).
    fn partial(&self) -> bool {
        self.list.files.is_empty()
    }
}

/// `tree`: the process tree, or the subtree under one process.
pub struct TreeReport {
    pub payload: TreePayload,
    /// Draw with ASCII instead of Unicode lines.
    pub ascii: bool,
}

impl Payload for TreeReport {
    const COMMAND: &'static str = "tree";
    type Document = TreePayload;
    type Row = NotAList;

    fn document(&self) -> &TreePayload {
        &self.payload
    }
}

/// `mem`: where the memory of one process goes.
#[derive(Serialize, JsonSchema)]
pub struct MemReport {
    #[serde(rename = "memory")]
    pub report: MemoryReport,
    /// Show every mapping (`--maps`) instead of the summary.
    #[serde(skip)]
    pub maps: bool,
}

impl Payload for MemReport {
    const COMMAND: &'static str = "mem";
    type Document = Self;
    type Row = NotAList;

    fn document(&self) -> &Self {
        self
    }
}

/// `ports`: the sockets that match, with their holders.
pub struct PortsReport {
    pub list: PortList,
    /// What the request asked to see.
    pub view: PortsView,
    /// The hint for sockets whose holders were denied.
    pub denied_hint: &'static str,
}

/// The parts of a `ports` request the output depends on.
#[derive(Debug, Clone, Copy, Default)]
pub struct PortsView {
    /// The port asked for (named in the "nothing listens" note).
    pub port: Option<u16>,
    /// A port or PID was named: listing nothing is then a partial answer (exit 1).
    pub named_target: bool,
    /// Every state, not only listening TCP and bound UDP.
    pub all: bool,
    /// The queue columns (every state, or chosen states).
    pub queues: bool,
    /// Timers, retransmits and round-trip times (`--info`).
    pub info: bool,
    /// Throughput columns (`--interval`).
    pub rates: bool,
}

impl Payload for PortsReport {
    const COMMAND: &'static str = "ports";
    type Document = PortList;
    type Row = PortRow;

    fn document(&self) -> &PortList {
        &self.list
    }

    fn rows(&self) -> Option<&[PortRow]> {
        Some(&self.list.sockets)
    }

    fn partial(&self) -> bool {
        self.list.sockets.is_empty() && self.view.named_target
    }
}

/// `show`: everything about one process.
#[derive(Serialize, JsonSchema)]
pub struct ShowReport {
    #[serde(rename = "process")]
    pub detail: ProcessDetail,
}

impl Payload for ShowReport {
    const COMMAND: &'static str = "show";
    type Document = Self;
    type Row = NotAList;

    fn document(&self) -> &Self {
        self
    }
}

/// `kill`: the outcome of every target.
pub struct KillReport {
    pub payload: KillPayload,
    /// Whether the run waited (a zombie is then done, not a failure).
    pub waited: bool,
}

impl Payload for KillReport {
    const COMMAND: &'static str = "kill";
    type Document = KillPayload;
    type Row = KillResult;

    fn document(&self) -> &KillPayload {
        &self.payload
    }

    fn rows(&self) -> Option<&[KillResult]> {
        Some(&self.payload.results)
    }

    /// Some target did not get what was asked.
    fn partial(&self) -> bool {
        !self
            .payload
            .results
            .iter()
            .all(|r| kill_succeeded(r.result, self.waited))
    }
}

/// True when a target got what was asked (a zombie only when the run waited for exits).
pub fn kill_succeeded(outcome: KillOutcome, waited: bool) -> bool {
    match outcome {
        KillOutcome::Signalled
        | KillOutcome::Exited
        | KillOutcome::Escalated
        | KillOutcome::WouldSignal => true,
        KillOutcome::Zombie => waited,
        _ => false,
    }
}
