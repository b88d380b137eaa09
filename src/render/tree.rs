//! The `tree` drawing: one line per process under its parent, like `pstree -p`.

use crate::model::report::TreeReport;
use crate::model::tree::TreeNode;
use crate::render::table;
use crate::render::{Sheet, Style};
use crate::text::escape::{Escaped, exact_text};

impl Sheet for TreeReport {
    fn table(&self, style: &Style) -> String {
        let mut out = String::new();
        if !self.payload.ancestors.is_empty() {
            let chain = self
                .payload
                .ancestors
                .iter()
                .map(|a| format!("{} {}", a.pid, a.name));
            let chain = format!("{} >", chain.collect::<Vec<_>>().join(" > "));
            out.push_str(&table::title_line(&Escaped::text(&chain), style));
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
                .map(|line| table::cut(line, width) + "\n")
                .collect(),
            None => out,
        }
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
        out.push_str(&prefix(lasts, last, self.ascii));
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
    text.push(&exact_text(&node.name, node.name_b64.as_deref()));
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

/// The line-drawing prefix of a process whose ancestors (root first) were last children
/// or not (`lasts`): `│  ├─ ` (Unicode) or `|  |- ` (ASCII); nothing for a root.
fn prefix(lasts: &[bool], last: bool, ascii: bool) -> String {
    let (pipe, tee, corner, blank) = if ascii {
        ("|  ", "|- ", "`- ", "   ")
    } else {
        ("│  ", "├─ ", "└─ ", "   ")
    };
    if lasts.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    // The root level draws nothing; levels below draw a pipe while their ancestor has
    // later siblings.
    for &ancestor_last in &lasts[1..] {
        out.push_str(if ancestor_last { blank } else { pipe });
    }
    out.push_str(if last { corner } else { tee });
    out
}

#[cfg(test)]
mod tests {
    use super::prefix;

    #[test]
    fn drawing() {
        // 1 ─┬─ 10 ─┬─ 11
        //    │      └─ 12 ── 13
        //    └─ 20
        let steps: [(&[bool], bool, u32); 6] = [
            (&[], true, 1),
            (&[true], false, 10),
            (&[true, false], false, 11),
            (&[true, false], true, 12),
            (&[true, false, true], true, 13),
            (&[true], true, 20),
        ];
        let lines: Vec<String> = steps
            .iter()
            .map(|(lasts, last, pid)| format!("{}{pid}", prefix(lasts, *last, false)))
            .collect();
        assert_eq!(
            lines,
            vec!["1", "├─ 10", "│  ├─ 11", "│  └─ 12", "│     └─ 13", "└─ 20"]
        );
        // The subtree under 10, drawn from 10 as the root.
        let ascii: Vec<String> = steps[1..5]
            .iter()
            .map(|(lasts, last, pid)| format!("{}{pid}", prefix(&lasts[1..], *last, true)))
            .collect();
        assert_eq!(ascii, vec!["10", "|- 11", "`- 12", "   `- 13"]);
    }
}
