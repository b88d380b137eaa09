//! Running as an unprivileged user against a root-owned process: rows listed, denied fields
//! marked, exit 0. Needs root to create the user; skipped with a notice otherwise.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::common::{Owned, bin, row_of};

const TEST_USER: &str = "procscope-test";

/// A copy of the binary that the test user can execute, and the user's uid.
pub struct Unprivileged {
    _dir: tempfile::TempDir,
    binary: std::path::PathBuf,
    pub uid: u32,
}

pub fn unprivileged() -> Option<Unprivileged> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        crate::common::notice!("not root, so no test user can be made; permission tests skipped");
        return None;
    }
    if let Err(why) = crate::system_user::ensure_system_user(TEST_USER) {
        crate::common::notice!("{why}; permission tests skipped");
        return None;
    }
    let uid_out = Command::new("id").arg("-u").arg(TEST_USER).output().ok()?;
    let uid: u32 = String::from_utf8(uid_out.stdout)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let dir = tempfile::tempdir().ok()?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).ok()?;
    let binary = dir.path().join("procscope");
    std::fs::copy(bin(), &binary).ok()?;
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).ok()?;
    Some(Unprivileged {
        _dir: dir,
        binary,
        uid,
    })
}

impl Unprivileged {
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("setpriv")
            .args([
                &format!("--reuid={}", self.uid),
                &format!("--regid={}", self.uid),
                "--clear-groups",
                "--",
            ])
            .arg(&self.binary)
            .args(args)
            .env("TZ", "UTC")
            .current_dir("/")
            .output()
            .expect("setpriv runs")
    }
}

#[test]
fn unprivileged_ps_marks_denied_fields_of_a_root_process() {
    let Some(user) = unprivileged() else { return };
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    let pid = sleeper.pid().to_string();
    let output = user.run(&[
        "ps",
        "--json",
        "--pid",
        &pid,
        "-o",
        "pid,user,state,cmd,exe,fds",
    ]);
    let doc = crate::common::json_ok(&output);
    let row = row_of(&doc, sleeper.pid());
    assert_eq!(row["user"], "root");
    assert_eq!(row["argv"], serde_json::json!(["sleep", "300"]));
    assert_eq!(row["exe"], serde_json::Value::Null);
    assert_eq!(row["unavailable"]["exe"], "permission_denied");
    assert_eq!(row["unavailable"]["fds"], "permission_denied");

    let table = user.run(&["ps", "--pid", &pid, "-o", "pid,exe", "--no-header"]);
    assert_eq!(table.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&table.stdout), format!("{pid} -\n"));
    let note = String::from_utf8_lossy(&table.stderr);
    assert!(
        note.contains("permission denied (1 process: EXE); run as root"),
        "{note}"
    );
}

#[test]
fn unprivileged_show_says_why_sections_are_missing() {
    let Some(user) = unprivileged() else { return };
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    let pid = sleeper.pid().to_string();
    let output = user.run(&["show", &pid, "--json"]);
    let doc = crate::common::json_ok(&output);
    let process = &doc["process"];
    assert_eq!(
        process["identity"]["argv"],
        serde_json::json!(["sleep", "300"])
    );
    assert_eq!(process["identity"]["user"], "root");
    for key in [
        "identity.exe",
        "identity.cwd",
        "memory.pss_bytes",
        "counts.fds",
    ] {
        assert_eq!(process["unavailable"][key], "permission_denied", "{key}");
    }
    let text = user.run(&["show", &pid]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("  exe        - (permission denied)\n"),
        "{text}"
    );
    assert!(text.contains("  command    sleep 300\n"), "{text}");
}

#[test]
fn unprivileged_threads_of_a_root_process() {
    let Some(user) = unprivileged() else { return };
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    let pid = sleeper.pid().to_string();
    let output = user.run(&["threads", &pid, "--json"]);
    let doc = crate::common::json_ok(&output);
    let rows = doc["threads"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["name"], "sleep");
    assert_eq!(rows[0]["state"], "S");
    for key in ["wait", "pc", "stack"] {
        assert_eq!(rows[0]["unavailable"][key], "permission_denied", "{key}");
        assert_eq!(rows[0][key], serde_json::Value::Null);
    }
    // Without CAP_NET_ADMIN taskstats refuses; the context switches come from `status`,
    // which anyone may read: the same kernel counters (the sleep is parked, so they hold).
    let status = format!("/proc/{pid}/status");
    for key in ["voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"] {
        let counted = crate::common::status_number(&status, key);
        assert_eq!(rows[0][key], counted, "{key}");
    }
    let table = user.run(&["threads", &pid]);
    assert_eq!(table.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&table.stderr).contains("need ptrace access"));
}
