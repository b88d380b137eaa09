//! The `tree` payload: processes nested under their parents.

use schemars::JsonSchema;
use serde::Serialize;

/// One process and its children.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TreeNode {
    pub pid: u32,
    pub ppid: u32,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_b64: Option<String>,
    pub threads: u64,
    /// The owner of `/proc/PID` (the effective uid; root for non-dumpable processes).
    pub uid: Option<u32>,
    pub user: Option<String>,
    /// Its role in its runtime (Node.js cluster primary or worker), when known.
    pub role: Option<String>,
    pub children: Vec<TreeNode>,
}

/// The tree, or the subtree under one process with its ancestors.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TreePayload {
    /// The outermost ancestors down to the subtree root's parent (empty for the whole tree).
    pub ancestors: Vec<AncestorRef>,
    pub tree: Vec<TreeNode>,
}

/// An ancestor of the subtree shown.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AncestorRef {
    pub pid: u32,
    pub name: String,
    /// The owner's uid, so the subtree root's user shows where it differs (like `pstree -u`).
    pub uid: Option<u32>,
}
