//! `ps --group-by`: the sums of the test's own sleeps (under a unique name) against a hand
//! sum over `ps --json` of the same processes.

use crate::common::{Owned, json_ok, run};

/// N sleeps whose name is unique to this test run (a symlink to sleep names the process).
fn named_sleeps(count: usize) -> (tempfile::TempDir, String, Vec<Owned>) {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("psg{}", std::process::id());
    let link = dir.path().join(&name);
    let sleep = crate::ps_live::which("sleep");
    std::os::unix::fs::symlink(sleep, &link).unwrap();
    let sleeps = (0..count)
        .map(|_| Owned::spawn(&link, &["300"]).sleeping())
        .collect();
    (dir, name, sleeps)
}

#[test]
fn group_by_name_sums_match_a_hand_sum() {
    let (_dir, name, sleeps) = named_sleeps(4);
    let pids: Vec<String> = sleeps.iter().map(|s| s.pid().to_string()).collect();
    let list = pids.join(",");
    let rows = json_ok(&run(&[
        "ps",
        "--json",
        "-o",
        "pid,name,rss,pss,threads,fds",
        "--pid",
        &list,
    ]))["processes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rows.len(), 4);
    let hand = |key: &str| rows.iter().map(|r| r[key].as_u64().unwrap()).sum::<u64>();
    let doc = json_ok(&run(&[
        "ps",
        "--json",
        "--group-by",
        "name",
        "--pss",
        "--exact",
        &name,
    ]));
    let groups = doc["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{doc}");
    let group = &groups[0];
    assert_eq!(group["key"], name.as_str());
    assert_eq!(group["processes"], 4);
    assert_eq!(group["threads"], hand("threads"));
    assert_eq!(group["fds"], hand("fds"));
    // A sleeping process's resident pages do not change between the two reads.
    assert_eq!(group["rss_bytes"], hand("rss_bytes"));
    // PSS moves when other processes map or unmap the same library pages; within 10%.
    let (pss, hand_pss) = (group["pss_bytes"].as_u64().unwrap(), hand("pss_bytes"));
    assert!(
        pss.abs_diff(hand_pss) * 10 <= hand_pss,
        "{pss} vs {hand_pss}"
    );
    assert!(
        pss < group["rss_bytes"].as_u64().unwrap(),
        "shared pages are divided"
    );
    let mut listed: Vec<u64> = group["pids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap())
        .collect();
    listed.sort_unstable();
    let mut expected: Vec<u64> = sleeps.iter().map(|s| u64::from(s.pid())).collect();
    expected.sort_unstable();
    assert_eq!(listed, expected);
    let table = crate::common::stdout(&run(&["ps", "--group-by", "name", "--exact", &name]));
    let line = table.lines().nth(1).unwrap();
    assert!(
        line.starts_with(&name) && line.split_whitespace().nth(1) == Some("4"),
        "{table}"
    );
}

#[test]
fn group_by_container_and_unit_on_a_fixture_tree() {
    let doc = json_ok(&crate::common::run_fixture_tree(
        "containers",
        &["ps", "--json", "--group-by", "container"],
    ));
    let groups = doc["groups"].as_array().unwrap();
    let docker = groups
        .iter()
        .find(|g| g["key"] == "3f4e5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081")
        .unwrap();
    assert_eq!(docker["pids"], serde_json::json!([77]));
    let by_unit = json_ok(&crate::common::run_fixture_tree(
        "containers",
        &["ps", "--json", "--group-by", "unit"],
    ));
    let nginx = by_unit["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "nginx.service")
        .unwrap()
        .clone();
    assert_eq!(nginx["processes"], 1);
    let top = json_ok(&crate::common::run_fixture_tree(
        "containers",
        &["ps", "--json", "--group-by", "unit", "-n", "1"],
    ));
    assert_eq!(top["groups"].as_array().unwrap().len(), 1);
    let conflict = run(&["ps", "--group-by", "name", "-o", "pid"]);
    assert_eq!(conflict.status.code(), Some(2));
}

#[test]
fn new_outputs_match_the_published_schemas() {
    use crate::schema::{assert_valid, validator};
    let (ps, show) = (validator("ps"), validator("show"));
    let me = std::process::id().to_string();
    let columns = "pid,stat,etime,lstart,minflt,majflt,gid,group,ruid,suid,pss,unit,container,cgroup,env:HOME,env:API_TOKEN";
    assert_valid(
        &ps,
        &json_ok(&run(&["ps", "--json", "-o", columns, "--pid", &me])),
    );
    let fixture = crate::common::run_fixture_tree(
        "containers",
        &["ps", "--json", "-o", "pid,unit,container,cgroup"],
    );
    assert_valid(&ps, &json_ok(&fixture));
    assert_valid(
        &ps,
        &json_ok(&run(&["ps", "--json", "--group-by", "user", "--pss"])),
    );
    let detail = json_ok(&run(&["show", &me, "--json", "--env", "--limits"]));
    assert_valid(&show, &detail);
    assert!(detail["process"]["security"]["namespaces"].is_array());
}
