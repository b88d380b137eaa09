//! The JVM runtime against a real HotSpot JVM the test starts (`java Main.java`, the
//! single-file source launcher of JDK 11+, which Debian's default-jre-headless can run: its
//! module image has jdk.compiler). Skipped with a notice when `java` is missing, unless `CI`
//! (or PROCSCOPE_REQUIRE_JAVA) is set: CI installs it, so there it must run.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{Owned, json, run, spawn_ready, stdout};

/// A program that names one thread of its own, parks it, says `ready`, and exits when its
/// standard input closes.
const MAIN: &str = r#"
public class Main {
    public static void main(String[] args) throws Exception {
        Thread app = new Thread(() -> {
            while (true) {
                java.util.concurrent.locks.LockSupport.park();
            }
        }, "procscope-app");
        app.setDaemon(true);
        app.start();
        System.out.println("ready");
        System.out.flush();
        System.in.read();
    }
}
"#;

fn java_available() -> bool {
    let found = Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none()
                && std::env::var_os("PROCSCOPE_REQUIRE_JAVA").is_none(),
            "CI is set but java is missing (.ci/run installs default-jre-headless)"
        );
        crate::common::notice!("java is not installed; JVM tests skipped");
    }
    found
}

/// `17.0.15` from `openjdk version "17.0.15" 2025-04-15` (java -version writes to stderr).
fn java_version() -> String {
    let out = Command::new("java").arg("-version").output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.split('"').nth(1).expect("a quoted version").to_owned()
}

/// The JVM running [`MAIN`], and the directory holding its source.
struct Jvm {
    process: Owned,
    _dir: tempfile::TempDir,
}

fn start_jvm() -> Jvm {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("Main.java");
    std::fs::write(&source, MAIN).unwrap();
    let process = spawn_ready(
        Command::new("java")
            .arg("-Xmx64m")
            .arg(&source)
            .current_dir(dir.path()),
    )
    .expect("java starts");
    Jvm { process, _dir: dir }
}

/// `threads PID --json`, polled until the threads the assertions need exist (HotSpot
/// starts some of them lazily) and every name maps to a role.
fn threads_of(pid: u32) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let doc = json(&run(&["threads", &pid.to_string(), "--json"]));
        let names: Vec<&str> = doc["threads"]
            .as_array()
            .map(|threads| threads.iter().filter_map(|t| t["name"].as_str()).collect())
            .unwrap_or_default();
        let ready = [
            "VM Thread",
            "GC Thread#0",
            "C2 CompilerThre",
            "procscope-app",
        ]
        .iter()
        .all(|wanted| names.contains(wanted));
        if ready || Instant::now() > deadline {
            return doc;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn hotspot_threads_get_roles_from_their_names() {
    if !java_available() {
        return;
    }
    let jvm = start_jvm();
    let pid = jvm.process.pid();
    let doc = threads_of(pid);
    assert_eq!(doc["runtime"]["name"], "jvm", "{doc}");
    assert_eq!(doc["runtime"]["version"], java_version().as_str(), "{doc}");
    let mut role_by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for thread in doc["threads"].as_array().unwrap() {
        role_by_name
            .entry(thread["name"].as_str().unwrap_or("").to_owned())
            .or_default()
            .push(thread["role"].as_str().unwrap_or("none").to_owned());
    }
    let role = |name: &str| -> &str {
        let roles = role_by_name
            .get(name)
            .unwrap_or_else(|| panic!("no thread {name}: {doc}"));
        assert_eq!(roles.len(), 1, "{name}: {roles:?}");
        &roles[0]
    };
    assert_eq!(role("VM Thread"), "vm");
    assert_eq!(role("GC Thread#0"), "gc");
    assert_eq!(role("C2 CompilerThre"), "jit_compiler");
    assert_eq!(role("Signal Dispatch"), "signal_dispatcher");
    assert_eq!(role("Finalizer"), "finalizer");
    assert_eq!(role("Reference Handl"), "reference_handler");
    assert_eq!(role("procscope-app"), "app");
    for (name, roles) in role_by_name.iter().filter(|(n, _)| n.starts_with("G1 ")) {
        assert!(roles.iter().all(|r| r == "gc"), "{name}: {roles:?}");
    }
    let threads = doc["threads"].as_array().unwrap();
    let first = threads
        .iter()
        .find(|t| t["tid"] == pid)
        .expect("the thread with TID == PID");
    assert_eq!(first["role"], "launcher", "{first}");
    let app = threads
        .iter()
        .find(|t| t["name"] == "procscope-app")
        .unwrap();
    assert_eq!(app["role_name"], "procscope-app", "{app}");
    assert_eq!(
        threads.iter().filter(|t| t["role"] == "java_main").count(),
        1,
        "{doc}"
    );
    let summary = doc["runtime_summary"].as_str().unwrap();
    assert!(summary.starts_with("JVM "), "{summary}");
    assert!(summary.contains("1 application thread"), "{summary}");
}

#[test]
fn show_and_ps_report_the_jvm_and_its_version() {
    if !java_available() {
        return;
    }
    let jvm = start_jvm();
    let pid = jvm.process.pid().to_string();
    let version = java_version();
    let show = json(&run(&["show", &pid, "--json"]));
    assert_eq!(show["process"]["runtime"]["name"], "jvm", "{show}");
    assert_eq!(show["process"]["runtime"]["version"], version.as_str());
    let table = stdout(&run(&["show", &pid]));
    assert!(table.contains(&format!("JVM {version}")), "{table}");
    // The launcher names libjli, never libjvm, in DT_NEEDED: ps finds the JVM through the
    // mapped libjvm.so.
    let ps = json(&run(&["ps", "-o", "pid,runtime", "--pid", &pid, "--json"]));
    let row = crate::common::row_of(&ps, jvm.process.pid());
    assert_eq!(row["runtime"]["name"], "jvm", "{ps}");
    assert_eq!(row["runtime"]["version"], version.as_str(), "{ps}");
}
