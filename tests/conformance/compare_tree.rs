//! The process tree against `pstree -p -u`.

use std::collections::{BTreeMap, BTreeSet};

use crate::peers::{Diffs, assert_agree, peer, procscope, settle, setup};

/// `pstree -p -u -T -A ROOT`: every node as PID → (name, user shown where the uid changes).
fn pstree_nodes(root: u32) -> Option<BTreeMap<u64, (String, Option<String>)>> {
    let text = peer("pstree", &["-p", "-u", "-T", "-A", &root.to_string()])?;
    let node = regex::Regex::new(r"([^\s|`+()]+?)\((\d+)(?:,([^)]+))?\)").unwrap();
    Some(
        node.captures_iter(&text)
            .map(|c| {
                let name = c[1].trim_start_matches('-').to_owned();
                (
                    c[2].parse().unwrap(),
                    (name, c.get(3).map(|u| u.as_str().to_owned())),
                )
            })
            .collect(),
    )
}

/// procscope's tree: PID → (name, user, parent's user).
fn procscope_nodes(root: u32) -> BTreeMap<u64, (String, String, Option<String>)> {
    let doc = procscope(&["tree", &root.to_string(), "--json"]);
    let mut found = BTreeMap::new();
    let mut stack: Vec<(&serde_json::Value, Option<String>)> = doc["tree"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| (n, None))
        .collect();
    while let Some((node, parent_user)) = stack.pop() {
        let user = node["user"].as_str().unwrap_or("").to_owned();
        for child in node["children"].as_array().into_iter().flatten() {
            stack.push((child, Some(user.clone())));
        }
        found.insert(
            node["pid"].as_u64().unwrap(),
            (
                node["name"].as_str().unwrap_or("").to_owned(),
                user,
                parent_user,
            ),
        );
    }
    found
}

/// The user of `pid` as `ps` names it.
fn ps_user(pid: u64) -> Option<String> {
    let text = peer("ps", &["-o", "user:64=", "-p", &pid.to_string()])?;
    Some(text.trim().to_owned()).filter(|u| !u.is_empty())
}

#[test]
fn tree_matches_pstree() {
    let Some(servers) = setup() else { return };
    let mut found = Vec::new();
    for server in &servers.list {
        found.extend(settle(
            &format!("tree vs pstree -p -u ({})", server.name),
            |diffs: &mut Diffs| {
                let Some(theirs) = pstree_nodes(server.root) else {
                    return;
                };
                let ours = procscope_nodes(server.root);
                let what = server.name;
                // Node set and names: exact (names are comm, as pstree prints them).
                let our_set: BTreeSet<u64> = ours.keys().copied().collect();
                let their_set: BTreeSet<u64> = theirs.keys().copied().collect();
                diffs.sets("tree nodes", what, &our_set, &their_set);
                for pid in our_set.intersection(&their_set) {
                    let node = format!("PID {pid}");
                    diffs.eq("tree name", &node, &ours[pid].0, &theirs[pid].0);
                    // pstree -u shows a user where the uid differs from the parent's: there
                    // procscope's user must be that user. The root's parent is outside the tree:
                    // compare its user with ps.
                    let (_, user, parent_user) = &ours[pid];
                    if let Some(shown) = &theirs[pid].1 {
                        diffs.eq("tree user (uid change)", &node, Some(user), Some(shown));
                    } else if let Some(parent_user) = parent_user {
                        diffs.eq("tree user (same as parent)", &node, user, parent_user);
                    }
                    if u64::from(server.root) == *pid {
                        diffs.eq(
                            "tree user of the root",
                            &node,
                            Some(user.clone()),
                            ps_user(*pid),
                        );
                    }
                }
            },
        ));
    }
    assert_agree("tree_matches_pstree", &found);
}
