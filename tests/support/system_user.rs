//! A system user for tests that need a second, unprivileged identity (shared by the `cli`
//! and `conformance` test binaries): created once with `useradd --system`, never removed.

use std::process::Command;

/// Makes sure the system user `name` exists (no home, no login shell).
pub fn ensure_system_user(name: &str) -> Result<(), String> {
    let exists = Command::new("id").arg("-u").arg(name).output();
    if exists.is_ok_and(|o| o.status.success()) {
        return Ok(());
    }
    let made = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            name,
        ])
        .status()
        .map_err(|e| e.to_string())?;
    made.success()
        .then_some(())
        .ok_or_else(|| format!("useradd {name} failed"))
}
