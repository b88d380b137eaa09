//! `show` on processes the test controls: the test process itself and its own children.

use crate::common::{Owned, json, run, stderr};

#[test]
fn show_on_the_test_process_itself() {
    let me = std::process::id();
    // Three parked threads the test owns, so the count has a floor the test caused.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let parked: Vec<_> = (0..3)
        .map(|_| {
            let rx = rx.clone();
            std::thread::spawn(move || {
                let _ = rx.lock().map(|r| r.recv());
            })
        })
        .collect();
    let doc = json(&run(&["show", &me.to_string(), "--json"]));
    drop(tx);
    for thread in parked {
        let _ = thread.join();
    }
    let process = &doc["process"];
    assert_eq!(process["pid"], me);
    assert_eq!(
        process["identity"]["ppid"],
        std::os::unix::process::parent_id()
    );
    let argv: Vec<String> = std::env::args().collect();
    assert_eq!(process["identity"]["argv"], serde_json::json!(argv));
    let exe = std::env::current_exe().unwrap();
    assert_eq!(process["identity"]["exe"], exe.to_str().unwrap());
    let threads = process["counts"]["threads"].as_u64().unwrap();
    assert!(threads >= 4, "main + 3 parked threads, saw {threads}");
    assert_eq!(process["identity"]["kind"], "process");
    assert!(process["memory"]["pss_bytes"].as_u64().unwrap() > 0);
    assert!(process["counts"]["fds"].as_u64().unwrap() >= 3);
}

#[test]
fn show_of_a_thread_id_names_its_process() {
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        tid_tx.send(crate::common::gettid()).unwrap();
        let _ = stop_rx.recv();
    });
    let tid = tid_rx.recv().unwrap();
    let output = run(&["show", &tid.to_string()]);
    drop(stop_tx);
    thread.join().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let me = std::process::id();
    assert_eq!(
        stderr(&output),
        format!(
            "procscope: PID {tid} is a thread of process {me}, not a process: try `procscope show {me}`\n"
        )
    );
}

#[test]
fn show_of_own_child_sleep() {
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    let doc = json(&run(&["show", &sleeper.pid().to_string(), "--json"]));
    let identity = &doc["process"]["identity"];
    assert_eq!(identity["argv"], serde_json::json!(["sleep", "300"]));
    assert_eq!(identity["name"], "sleep");
    assert_eq!(identity["ppid"], std::process::id());
    assert_eq!(identity["state"], "S");
    assert_eq!(doc["process"]["counts"]["threads"], 1);
    assert!(identity["exe"].as_str().unwrap().ends_with("sleep"));
}

#[test]
fn show_counts_fd_types_and_lists_listeners() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let doc = json(&run(&["show", &std::process::id().to_string(), "--json"]));
    let process = &doc["process"];
    assert!(process["counts"]["fds_by_type"]["tcp"].as_u64().unwrap() >= 1);
    let listening = process["listening"].as_array().unwrap();
    assert!(
        listening
            .iter()
            .any(|s| s["local_port"] == port && s["state"] == "LISTEN" && s["proto"] == "tcp"),
        "{listening:?}"
    );
    let text = crate::common::stdout(&run(&["show", &std::process::id().to_string(), "--wide"]));
    assert!(
        text.contains(&format!("tcp 127.0.0.1:{port} LISTEN")),
        "{text}"
    );
}
