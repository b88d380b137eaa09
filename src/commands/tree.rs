//! `procscope tree [PID]`: the process family tree, like `pstree -p`, reading one `stat`
//! file per process.

use std::collections::HashMap;

use crate::analyze::runtime::family::Family;
use crate::analyze::tree::Forest;
use crate::collect::tree::{ProcessNode, read_nodes};
use crate::collect::{ProcFs, UserNames};
use crate::exit;
use crate::model::report::TreeReport;
use crate::model::text::lossless;
use crate::model::tree::{AncestorRef, TreeNode, TreePayload};

/// Roles by PID, filled in by runtime analyzers (Node.js cluster primary and workers).
pub type Roles = HashMap<u32, String>;

/// Builds the whole tree, or the subtree under `pid`, labelling runtime roles.
pub fn run(
    pid: Option<u32>,
    ascii: bool,
    procfs: &ProcFs,
    users: &UserNames,
) -> anyhow::Result<TreeReport> {
    let nodes = read_nodes(procfs)?;
    let family = Family::of(&crate::collect::family::read_runtimes(procfs, &nodes));
    let roles: Roles = family
        .roles
        .keys()
        .filter_map(|&pid| Some((pid, family.label(pid)?)))
        .collect();
    let roles = &roles;
    let by_pid: HashMap<u32, &ProcessNode> = nodes.iter().map(|n| (n.pid, n)).collect();
    let forest = Forest::new(nodes.iter().map(|n| (n.pid, n.ppid)));
    let (roots, ancestors) = match pid {
        Some(pid) if forest.contains(pid) => (vec![pid], forest.ancestors(pid)),
        Some(pid) => {
            return Err(exit::target_pid(
                pid,
                crate::model::Unavailable::Gone,
                format!("no process with PID {pid}"),
            ));
        }
        None => (forest.roots().to_vec(), Vec::new()),
    };
    let build = Builder {
        forest: &forest,
        by_pid: &by_pid,
        users,
        roles,
    };
    let payload = TreePayload {
        ancestors: ancestors
            .iter()
            .filter_map(|p| by_pid.get(p))
            .map(|n| AncestorRef {
                pid: n.pid,
                name: lossless(&n.name).0,
                uid: n.uid,
            })
            .collect(),
        tree: roots
            .iter()
            .filter_map(|&root| build.node(root, &mut Vec::new()))
            .collect(),
    };
    Ok(TreeReport { payload, ascii })
}

struct Builder<'a> {
    forest: &'a Forest,
    by_pid: &'a HashMap<u32, &'a ProcessNode>,
    users: &'a UserNames,
    roles: &'a Roles,
}

impl Builder<'_> {
    fn node(&self, pid: u32, path: &mut Vec<u32>) -> Option<TreeNode> {
        if path.contains(&pid) {
            return None;
        }
        let process = self.by_pid.get(&pid)?;
        path.push(pid);
        let children = self
            .forest
            .children(pid)
            .iter()
            .filter_map(|&c| self.node(c, path))
            .collect();
        path.pop();
        let (name, name_b64) = lossless(&process.name);
        Some(TreeNode {
            pid,
            ppid: process.ppid,
            name,
            name_b64,
            threads: process.threads,
            uid: process.uid,
            user: process.uid.map(|uid| self.users.name(uid)),
            role: self.roles.get(&pid).cloned(),
            children,
        })
    }
}
