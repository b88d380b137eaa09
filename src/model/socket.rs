//! The `ports` payload: sockets with the processes that hold them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::Unavailable;
use super::fd::SocketInfo;

/// A process holding a socket, with the descriptors it holds it by.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SocketHolder {
    pub pid: u32,
    pub name: Option<String>,
    pub user: Option<String>,
    pub fds: Vec<u32>,
    /// The holder's role in its runtime (a Node.js cluster primary or worker), when known.
    pub role: Option<String>,
}

/// One socket and everyone who holds it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PortRow {
    #[serde(flatten)]
    pub socket: SocketInfo,
    /// The uid that created the socket (from the socket table).
    pub uid: Option<u32>,
    pub user: Option<String>,
    /// The network namespace inode (`net:[N]`) the socket lives in.
    pub netns: Option<u64>,
    /// Every process holding the socket; empty when none could be found.
    pub holders: Vec<SocketHolder>,
    /// Why a null field (or an empty holder list) has no value: `holders` is
    /// `permission_denied` when some fd tables could not be read.
    pub unavailable: BTreeMap<String, Unavailable>,
}

/// The `ports` payload.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PortList {
    pub sockets: Vec<PortRow>,
    /// Our own network namespace inode.
    pub netns: Option<u64>,
    /// How many network namespaces were read.
    pub namespaces: usize,
    /// Processes whose fd tables could not be read (their sockets have no known holder).
    pub denied_processes: usize,
}
