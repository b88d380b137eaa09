//! Parent/child structure of the process table: children, ancestors, descendants (children
//! before parents, the order in which to signal a tree), and a printable pre-order walk.

use std::collections::{HashMap, HashSet};

/// Parent links of a set of processes, with children sorted by PID.
#[derive(Debug, Default)]
pub struct Forest {
    parent: HashMap<u32, u32>,
    children: HashMap<u32, Vec<u32>>,
    roots: Vec<u32>,
}

impl Forest {
    /// Builds the forest from (pid, ppid) pairs. A process whose parent is not in the set is
    /// a root.
    pub fn new(links: impl IntoIterator<Item = (u32, u32)>) -> Self {
        let parent: HashMap<u32, u32> = links.into_iter().collect();
        let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut roots = Vec::new();
        for (&pid, &ppid) in &parent {
            if ppid != pid && parent.contains_key(&ppid) {
                children.entry(ppid).or_default().push(pid);
            } else {
                roots.push(pid);
            }
        }
        for list in children.values_mut() {
            list.sort_unstable();
        }
        roots.sort_unstable();
        Self {
            parent,
            children,
            roots,
        }
    }

    pub fn contains(&self, pid: u32) -> bool {
        self.parent.contains_key(&pid)
    }

    pub fn roots(&self) -> &[u32] {
        &self.roots
    }

    pub fn children(&self, pid: u32) -> &[u32] {
        self.children.get(&pid).map_or(&[], Vec::as_slice)
    }

    /// The chain from the outermost ancestor down to the parent of `pid`.
    pub fn ancestors(&self, pid: u32) -> Vec<u32> {
        let mut chain = Vec::new();
        let mut seen = HashSet::from([pid]);
        let mut current = pid;
        while let Some(&ppid) = self.parent.get(&current) {
            if !self.parent.contains_key(&ppid) || !seen.insert(ppid) {
                break;
            }
            chain.push(ppid);
            current = ppid;
        }
        chain.reverse();
        chain
    }

    /// `pid` and everything below it, deepest first, so that children come before parents.
    pub fn descendants_children_first(&self, pid: u32) -> Vec<u32> {
        let mut order = Vec::new();
        let mut seen = HashSet::new();
        self.post_order(pid, &mut order, &mut seen);
        order
    }

    fn post_order(&self, pid: u32, order: &mut Vec<u32>, seen: &mut HashSet<u32>) {
        if !seen.insert(pid) {
            return;
        }
        for &child in self.children(pid) {
            self.post_order(child, order, seen);
        }
        order.push(pid);
    }

    /// A pre-order walk from `roots`: each process with its depth and, for drawing, whether
    /// it and each of its ancestors (below the root) is the last of its siblings.
    pub fn walk(&self, roots: &[u32]) -> Vec<WalkStep> {
        let mut steps = Vec::new();
        let mut seen = HashSet::new();
        for (i, &root) in roots.iter().enumerate() {
            self.walk_from(
                root,
                &mut Vec::new(),
                i + 1 == roots.len(),
                &mut steps,
                &mut seen,
            );
        }
        steps
    }

    fn walk_from(
        &self,
        pid: u32,
        lasts: &mut Vec<bool>,
        last: bool,
        steps: &mut Vec<WalkStep>,
        seen: &mut HashSet<u32>,
    ) {
        if !seen.insert(pid) {
            return;
        }
        steps.push(WalkStep {
            pid,
            depth: lasts.len(),
            lasts: lasts.clone(),
            last,
        });
        let children = self.children(pid);
        lasts.push(last);
        for (i, &child) in children.iter().enumerate() {
            self.walk_from(child, lasts, i + 1 == children.len(), steps, seen);
        }
        lasts.pop();
    }
}

/// One process in a pre-order walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkStep {
    pub pid: u32,
    pub depth: usize,
    /// For each ancestor level (root first), whether that ancestor was a last child.
    pub lasts: Vec<bool>,
    /// Whether this process is the last of its siblings.
    pub last: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Forest {
        // 1 ─┬─ 10 ─┬─ 11
        //    │      └─ 12 ── 13
        //    └─ 20
        // 2 (another root)
        Forest::new([
            (1, 0),
            (10, 1),
            (11, 10),
            (12, 10),
            (13, 12),
            (20, 1),
            (2, 0),
        ])
    }

    #[test]
    fn relations() {
        let forest = sample();
        assert_eq!(forest.roots(), &[1, 2]);
        assert_eq!(forest.children(10), &[11, 12]);
        assert_eq!(forest.ancestors(13), vec![1, 10, 12]);
        assert_eq!(forest.ancestors(1), Vec::<u32>::new());
        assert_eq!(forest.descendants_children_first(10), vec![11, 13, 12, 10]);
    }

    #[test]
    fn cycles_do_not_loop() {
        let forest = Forest::new([(5, 6), (6, 5)]);
        assert!(forest.walk(forest.roots()).len() <= 2);
        assert!(forest.ancestors(5).len() <= 1);
    }
}
