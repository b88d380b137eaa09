//! `procscope tree [PID]`: the process family tree, like `pstree -p`, reading one `stat`
//! file per process.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use crate::analyze::runtime::family::Family;
use crate::analyze::tree::{Forest, prefix};
use crate::collect::tree::{ProcessNode, read_nodes};
use crate::collect::{ProcFs, UserNames};
use crate::exit::{self, Exit};
use crate::model::text::lossless;
use crate::model::tree::{AncestorRef, TreeNode, TreePayload};
use crate::render::escape::Escaped;
use crate::render::json;
use crate::render::{Report, Style};

/// The tree, ready to render.
pub struct TreeReport {
    pub payload: TreePayload,
    /// Draw with ASCII instead of Unicode lines.
    pub ascii: bool,
}

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

impl TreeReport {
    fn draw(
        &self,
        node: &TreeNode,
        parent_uid: Option<u32>,
        lasts: &mut Vec<bool>,
        last: bool,
        out: &mut String,
    ) {
        let step = crate::analyze::tree::WalkStep {
            pid: node.pid,
            depth: lasts.len(),
            lasts: lasts.clone(),
            last,
        };
        out.push_str(&prefix(&step, self.ascii));
        out.push_str(label(node, parent_uid).as_str());
        out.push('\n');
        lasts.push(last);
        for (i, child) in node.children.iter().enumerate() {
            self.draw(child, node.uid, lasts, i + 1 == node.children.len(), out);
        }
        lasts.pop();
    }
}

/// `1234 node {11} (alice) [cluster primary]`: threads when more than one, the user where it
/// changes from the parent's, the runtime role when known.
fn label(node: &TreeNode, parent_uid: Option<u32>) -> Escaped {
    let mut text = Escaped::text(&format!("{} ", node.pid));
    text.push(&crate::commands::show::exact_text(
        &node.name,
        node.name_b64.as_deref(),
    ));
    if node.threads > 1 {
        text.push_text(&format!(" {{{}}}", node.threads));
    }
    if parent_uid.is_some()
        && node.uid != parent_uid
        && let Some(user) = &node.user
    {
        text.push_text(&format!(" ({user})"));
    }
    if let Some(role) = &node.role {
        text.push_text(&format!(" [{role}]"));
    }
    text
}

impl Report for TreeReport {
    fn command(&self) -> &'static str {
        "tree"
    }

    fn json(&self) -> Map<String, Json> {
        json::members(&self.payload)
    }

    fn table(&self, style: &Style) -> String {
        let mut out = String::new();
        if !self.payload.ancestors.is_empty() {
            let chain = self
                .payload
                .ancestors
                .iter()
                .map(|a| format!("{} {}", a.pid, a.name));
            let chain = format!("{} >", chain.collect::<Vec<_>>().join(" > "));
            out.push_str(&crate::render::table::title_line(
                &Escaped::text(&chain),
                style,
            ));
        }
        // A subtree root is compared with its real parent, as `pstree -u PID` does.
        let parent_uid = self.payload.ancestors.last().and_then(|a| a.uid);
        for (i, root) in self.payload.tree.iter().enumerate() {
            self.draw(
                root,
                parent_uid,
                &mut Vec::new(),
                i + 1 == self.payload.tree.len(),
                &mut out,
            );
        }
        match style.width {
            Some(width) => out
                .lines()
                .map(|line| crate::render::table::cut(line, width) + "\n")
                .collect(),
            None => out,
        }
    }

    fn exit(&self) -> Exit {
        Exit::Success
    }
}

/// The JSON Schema of `tree --json`.
pub fn schema() -> Json {
    crate::render::json::document_schema(
        "tree",
        "procscope tree --json",
        crate::render::json::schema_of::<TreePayload>(),
    )
}
