//! `show`'s security section and the placement columns against the peers, for every
//! process of the suite (root masters, `nobody` workers, the PostgreSQL user, clients in
//! their own PID namespaces): capabilities against `getpcaps`, `capsh --decode` and the
//! Cap* lines of /proc/PID/status; namespaces against `readlink /proc/PID/ns/*`; cgroup
//! lines, the CGROUP summary and UNIT against /proc/PID/cgroup.

use std::collections::{BTreeMap, BTreeSet};

use crate::peers::{assert_agree, peer, procscope, settle, setup, suite_pids};

/// Capability names of a mask, by `capsh --decode=MASK` (`0x…=cap_a,cap_b`).
fn capsh_names(
    mask: &str,
    cache: &mut BTreeMap<String, BTreeSet<String>>,
) -> Option<BTreeSet<String>> {
    if let Some(names) = cache.get(mask) {
        return Some(names.clone());
    }
    let text = peer("capsh", &[&format!("--decode={mask}")])?;
    let (_, list) = text.trim().split_once('=')?;
    let names: BTreeSet<String> = list
        .split(',')
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    cache.insert(mask.to_owned(), names.clone());
    Some(names)
}

/// The e, p and i sets of a capability text (cap_from_text(3)): clauses `[caps](op flags)+`
/// where `=` first clears the named capabilities (all when none is named) from every set,
/// `+` raises and `-` lowers them in the flagged sets.
fn parse_cap_text(text: &str, all: &BTreeSet<String>) -> BTreeMap<char, BTreeSet<String>> {
    let mut sets: BTreeMap<char, BTreeSet<String>> =
        "eip".chars().map(|c| (c, BTreeSet::new())).collect();
    for clause in text.split_whitespace() {
        let ops_at = clause.find(['=', '+', '-']).unwrap_or(clause.len());
        let (list, mut ops) = clause.split_at(ops_at);
        let caps: BTreeSet<String> = if list.is_empty() {
            all.clone()
        } else {
            list.split(',').map(str::to_owned).collect()
        };
        while let Some(op) = ops.chars().next() {
            let rest = &ops[1..];
            let end = rest.find(['=', '+', '-']).unwrap_or(rest.len());
            let flags = &rest[..end];
            if op == '=' {
                sets.values_mut()
                    .for_each(|set| caps.iter().for_each(|c| _ = set.remove(c)));
            }
            for flag in flags.chars() {
                let set = sets.entry(flag).or_default();
                if op == '-' {
                    caps.iter().for_each(|c| _ = set.remove(c));
                } else {
                    set.extend(caps.iter().cloned());
                }
            }
            ops = &rest[end..];
        }
    }
    sets
}

/// `getpcaps PID…`: PID → its capability text.
fn getpcaps(pids: &BTreeSet<u64>) -> Option<BTreeMap<u64, String>> {
    let args: Vec<String> = pids.iter().map(u64::to_string).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let text = peer("getpcaps", &args)?;
    Some(
        text.lines()
            .filter_map(|line| {
                let (pid, caps) = line.split_once(':')?;
                Some((pid.trim().parse().ok()?, caps.trim().to_owned()))
            })
            .collect(),
    )
}

/// Every capability this kernel knows, by name (`capsh --decode` of the full mask).
fn all_capabilities(cache: &mut BTreeMap<String, BTreeSet<String>>) -> Option<BTreeSet<String>> {
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    capsh_names(&format!("{:016x}", (1u64 << (last + 1)) - 1), cache)
}

fn status_line(pid: u64, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(&format!("{key}:")))?;
    Some(line[key.len() + 1..].trim().to_owned())
}

#[test]
fn capabilities_match_getpcaps_and_capsh() {
    let Some(servers) = setup() else { return };
    let found = settle("show capabilities vs getpcaps, capsh --decode", |diffs| {
        let pids = suite_pids(servers);
        let mut cache = BTreeMap::new();
        let (Some(texts), Some(all)) = (getpcaps(&pids), all_capabilities(&mut cache)) else {
            return;
        };
        let mut kinds = BTreeSet::new();
        for &pid in &pids {
            let doc = procscope(&["show", &pid.to_string(), "--json"]);
            let caps = &doc["process"]["security"]["capabilities"];
            let what = format!("PID {pid}");
            let names = |set: &str| -> BTreeSet<String> {
                caps[set]["names"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            };
            for (set, key) in [
                ("effective", "CapEff"),
                ("permitted", "CapPrm"),
                ("inheritable", "CapInh"),
                ("bounding", "CapBnd"),
                ("ambient", "CapAmb"),
            ] {
                // Masks: exact against status; names: exact against capsh's decoding.
                let mask = status_line(pid, key);
                let ours = caps[set]["mask"].as_str().map(str::to_owned);
                diffs.eq(&format!("{set} mask vs {key}"), &what, &ours, &mask);
                if let Some(decoded) = mask.and_then(|m| capsh_names(&m, &mut cache)) {
                    diffs.eq(
                        &format!("{set} names vs capsh"),
                        &what,
                        &names(set),
                        &decoded,
                    );
                }
            }
            // e, p and i sets: exact against getpcaps.
            if let Some(text) = texts.get(&pid) {
                let sets = parse_cap_text(text, &all);
                for (flag, set) in [('e', "effective"), ('p', "permitted"), ('i', "inheritable")] {
                    diffs.eq(
                        &format!("{set} vs getpcaps"),
                        &what,
                        &names(set),
                        &sets[&flag],
                    );
                }
                kinds.insert(names("effective").len());
            }
        }
        // The suite has processes with no capability (nginx workers, PostgreSQL) and
        // processes with many (root masters).
        let all_started = servers.missing.is_empty();
        diffs.eq(
            "processes without and with capabilities",
            "suite",
            kinds.contains(&0) && kinds.len() > 1,
            all_started,
        );
    });
    assert_agree("capabilities_match_getpcaps_and_capsh", &found);
}

/// `readlink /proc/PID/ns/KIND` as the inode in `KIND:[INODE]`.
fn ns_inode(pid: &str, kind: &str) -> Option<u64> {
    let link = std::fs::read_link(format!("/proc/{pid}/ns/{kind}")).ok()?;
    let link = link.to_string_lossy();
    link.strip_prefix(&format!("{kind}:["))?
        .strip_suffix(']')?
        .parse()
        .ok()
}

#[test]
fn namespaces_match_proc_ns_links() {
    let Some(servers) = setup() else { return };
    let found = settle("show namespaces vs readlink /proc/PID/ns", |diffs| {
        let mut own_pid_namespace = 0;
        for pid in suite_pids(servers) {
            let doc = procscope(&["show", &pid.to_string(), "--json"]);
            let what = format!("PID {pid}");
            let namespaces = doc["process"]["security"]["namespaces"].as_array().cloned();
            let mut kinds = BTreeSet::new();
            for ns in namespaces.into_iter().flatten() {
                let kind = ns["kind"].as_str().unwrap_or("").to_owned();
                let theirs = ns_inode(&pid.to_string(), &kind);
                // Inodes: exact. "Same as init": against PID 1's link, or (where PID 1's
                // cannot be read, as documented) the link of the test process, whose
                // namespaces procscope shares.
                diffs.eq(
                    &format!("{kind} inode"),
                    &what,
                    ns["inode"].as_u64(),
                    theirs,
                );
                let reference = ns_inode("1", &kind).or_else(|| ns_inode("self", &kind));
                let same = theirs.zip(reference).map(|(a, b)| a == b);
                diffs.eq(
                    &format!("{kind} same_as_init"),
                    &what,
                    ns["same_as_init"].as_bool(),
                    same,
                );
                if kind == "pid" && same == Some(false) {
                    own_pid_namespace += 1;
                }
                kinds.insert(kind);
            }
            let listed: BTreeSet<String> =
                ["pid", "net", "mnt", "user", "uts", "ipc", "cgroup", "time"]
                    .into_iter()
                    .filter(|k| ns_inode(&pid.to_string(), k).is_some())
                    .map(str::to_owned)
                    .collect();
            diffs.eq("namespace kinds", &what, &kinds, &listed);
        }
        // Each server runs in a PID namespace of its own (when this machine allows them).
        if crate::servers::namespaces_work() {
            diffs.eq(
                "processes in their own PID namespace",
                "suite",
                own_pid_namespace > 0,
                true,
            );
        }
    });
    assert_agree("namespaces_match_proc_ns_links", &found);
}

/// The CGROUP summary by its documented rule: the v2 path when it says more than `/`, else
/// the v1 lines that do, joined with `; `, else `/`.
fn cgroup_summary(lines: &[(String, String, String)]) -> String {
    if let Some((_, _, path)) = lines.iter().find(|(id, _, path)| id == "0" && path != "/") {
        return path.clone();
    }
    let legacy: Vec<String> = lines
        .iter()
        .filter(|(id, _, path)| id != "0" && path != "/")
        .map(|(id, controllers, path)| format!("{id}:{controllers}:{path}"))
        .collect();
    if legacy.is_empty() {
        "/".to_owned()
    } else {
        legacy.join("; ")
    }
}

/// UNIT by its documented rule: the innermost `.service` or `.scope` component of the path
/// systemd manages (the v2 path, else the v1 `name=systemd` one).
fn unit_of(lines: &[(String, String, String)]) -> Option<String> {
    let unified = lines
        .iter()
        .filter(|(id, _, path)| id == "0" && path != "/");
    let named = lines
        .iter()
        .filter(|(_, controllers, _)| controllers.split(',').any(|c| c == "name=systemd"));
    unified.chain(named).find_map(|(_, _, path)| {
        path.split('/')
            .rev()
            .find(|p| p.ends_with(".service") || p.ends_with(".scope"))
            .map(str::to_owned)
    })
}

#[test]
fn cgroups_match_proc_cgroup() {
    let Some(servers) = setup() else { return };
    let found = settle(
        "show cgroups, ps -o cgroup,unit vs /proc/PID/cgroup",
        |diffs| {
            let pids = suite_pids(servers);
            let list: Vec<String> = pids.iter().map(u64::to_string).collect();
            let rows = procscope(&[
                "ps",
                "-o",
                "pid,cgroup,unit",
                "--pid",
                &list.join(","),
                "--json",
            ]);
            let rows: BTreeMap<u64, &serde_json::Value> = rows["processes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| (r["pid"].as_u64().unwrap(), r))
                .collect();
            for pid in pids {
                let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/cgroup")) else {
                    continue;
                };
                let lines: Vec<(String, String, String)> = text
                    .lines()
                    .filter_map(|l| {
                        let mut parts = l.splitn(3, ':');
                        Some((
                            parts.next()?.to_owned(),
                            parts.next()?.to_owned(),
                            parts.next()?.to_owned(),
                        ))
                    })
                    .collect();
                let what = format!("PID {pid}");
                let doc = procscope(&["show", &pid.to_string(), "--json"]);
                let ours: Vec<(String, String, String)> = doc["process"]["cgroups"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| {
                        let controllers: Vec<&str> = c["controllers"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|v| v.as_str())
                            .collect();
                        (
                            c["hierarchy"].to_string(),
                            controllers.join(","),
                            c["path"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect();
                // Lines, summary and unit: exact.
                diffs.eq("cgroup lines", &what, &ours, &lines);
                let row = rows.get(&pid);
                let summary = row.and_then(|r| r["cgroup"].as_str());
                diffs.eq(
                    "CGROUP",
                    &what,
                    summary,
                    Some(cgroup_summary(&lines).as_str()),
                );
                let unit = row.and_then(|r| r["unit"].as_str()).map(str::to_owned);
                diffs.eq("UNIT", &what, unit, unit_of(&lines));
            }
        },
    );
    assert_agree("cgroups_match_proc_cgroup", &found);
}
