//! Real JSON output validated against the published schemas.

use crate::common::{Owned, json, run, run_fixture};

pub fn validator(command: &str) -> jsonschema::Validator {
    let schema = json(&run(&["schema", command]));
    jsonschema::validator_for(&schema)
        .unwrap_or_else(|err| panic!("schema of {command} compiles: {err}"))
}

pub fn assert_valid(validator: &jsonschema::Validator, document: &serde_json::Value) {
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{document}");
}

#[test]
fn ps_output_matches_its_schema() {
    let ps = validator("ps");
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    assert_valid(&ps, &json(&run(&["ps", "--json"])));
    let all_columns = "pid,tid,tgid,ppid,user,uid,state,cpu,mem,rss,vsz,threads,fds,core,wait,wchan,nice,priority,start,age,time,tty,pgid,sid,name,exe,cmd";
    assert_valid(
        &ps,
        &json(&run(&[
            "ps",
            "--json",
            "-o",
            all_columns,
            "--pid",
            &sleeper.pid().to_string(),
        ])),
    );
    assert_valid(
        &ps,
        &json(&run_fixture(&["ps", "--json", "-o", all_columns])),
    );
}

#[test]
fn ps_schema_rejects_a_wrong_document() {
    let ps = validator("ps");
    let wrong = serde_json::json!({"schema_version": 3, "command": "ps", "processes": [{"pid": "one"}], "vanished": 0, "errors": []});
    assert!(!ps.is_valid(&wrong));
    let unknown_key = serde_json::json!({"schema_version": 3, "command": "ps", "processes": [{"pid": 1, "bogus": 2}], "vanished": 0, "errors": []});
    assert!(!ps.is_valid(&unknown_key));
}

#[test]
fn show_output_matches_its_schema() {
    let show = validator("show");
    assert_valid(
        &show,
        &json(&run(&["show", &std::process::id().to_string(), "--json"])),
    );
    for pid in ["1", "2", "42", "77"] {
        assert_valid(&show, &json(&run_fixture(&["show", pid, "--json"])));
    }
    let wrong = serde_json::json!({"schema_version": 3, "command": "show", "process": {"pid": -3}, "errors": []});
    assert!(!show.is_valid(&wrong));
}

#[test]
fn threads_output_matches_its_schema() {
    let threads = validator("threads");
    assert_valid(
        &threads,
        &json(&run(&[
            "threads",
            &std::process::id().to_string(),
            "--json",
        ])),
    );
    assert_valid(
        &threads,
        &json(&crate::common::run_fixture_tree(
            "threads",
            &["threads", "300", "--json"],
        )),
    );
    let ps = validator("ps");
    assert_valid(
        &ps,
        &json(&run(&[
            "ps",
            "--threads",
            "--json",
            "--pid",
            &std::process::id().to_string(),
        ])),
    );
}

#[test]
fn fds_and_ports_output_match_their_schemas() {
    let fds = validator("fds");
    assert_valid(
        &fds,
        &json(&run(&["fds", &std::process::id().to_string(), "--json"])),
    );
    assert_valid(
        &fds,
        &json(&crate::common::run_fixture_tree(
            "net",
            &["fds", "500", "--json"],
        )),
    );
    let ports = validator("ports");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    assert_valid(&ports, &json(&run(&["ports", &port, "--json"])));
    assert_valid(&ports, &json(&run(&["ports", "--all", "--unix", "--json"])));
    assert_valid(
        &ports,
        &json(&crate::common::run_fixture_tree(
            "net",
            &["ports", "--all", "--json"],
        )),
    );
    let show = validator("show");
    assert_valid(
        &show,
        &json(&run(&["show", &std::process::id().to_string(), "--json"])),
    );
}

#[test]
fn mem_output_matches_its_schema() {
    let mem = validator("mem");
    assert_valid(
        &mem,
        &json(&run(&["mem", &std::process::id().to_string(), "--json"])),
    );
    assert_valid(
        &mem,
        &json(&run(&[
            "mem",
            &std::process::id().to_string(),
            "--maps",
            "--libs",
            "--json",
        ])),
    );
    assert_valid(
        &mem,
        &json(&crate::common::run_fixture_tree(
            "node",
            &["mem", "9012", "--json"],
        )),
    );
}

#[test]
fn tree_and_kill_output_match_their_schemas() {
    let tree = validator("tree");
    assert_valid(&tree, &json(&run(&["tree", "--json"])));
    assert_valid(
        &tree,
        &json(&run(&["tree", &std::process::id().to_string(), "--json"])),
    );
    let kill = validator("kill");
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    assert_valid(
        &kill,
        &json(&run(&[
            "kill",
            &sleeper.pid().to_string(),
            "--dry-run",
            "--json",
        ])),
    );
    assert_valid(&kill, &json(&run(&["kill", "1", "--json"])));
    assert_valid(
        &kill,
        &json(&run(&[
            "kill",
            &sleeper.pid().to_string(),
            "--wait",
            "--json",
        ])),
    );
}

/// Enum-typed values (schema_version 3): the schemas list each value set, so a value or an
/// `unavailable` key outside it is rejected.
#[test]
fn schemas_publish_the_typed_values() {
    let fds = validator("fds");
    let mut doc = json(&run(&["fds", &std::process::id().to_string(), "--json"]));
    assert_valid(&fds, &doc);
    doc["fds"][0]["type"] = "bogus".into();
    assert!(
        !fds.is_valid(&doc),
        "an fd type outside its enum is rejected"
    );

    let show = validator("show");
    let mut doc = json(&run_fixture(&["show", "2", "--json"]));
    assert_eq!(doc["process"]["identity"]["kind"], "kernel_thread");
    assert_valid(&show, &doc);
    let valid = doc.clone();
    doc["process"]["identity"]["kind"] = "kernel thread".into();
    assert!(
        !show.is_valid(&doc),
        "a process kind outside its enum is rejected"
    );
    let mut doc = valid;
    doc["process"]["unavailable"]["identity.bogus"] = "gone".into();
    assert!(
        !show.is_valid(&doc),
        "an unavailable key outside its enum is rejected"
    );

    let threads = validator("threads");
    let mut doc = json(&run(&[
        "threads",
        &std::process::id().to_string(),
        "--json",
    ]));
    assert_valid(&threads, &doc);
    doc["threads"][0]["unavailable"]["bogus"] = "gone".into();
    assert!(
        !threads.is_valid(&doc),
        "a thread's unavailable key is typed too"
    );
}
