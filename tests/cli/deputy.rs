//! The confused deputy: an unprivileged user mounts a symlink over the path of a library
//! its process mapped; root's procscope must not read the link's target in its place.

use std::process::{Command, Stdio};

use crate::common::{first_line, stderr};

/// Mounts the symlink `link` over the file `target` (open_tree + move_mount: mount(2) would
/// follow the link), in the caller's mount namespace.
const MOUNT_SYMLINK_OVER: &str = r#"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
link, target = sys.argv[1].encode(), sys.argv[2].encode()
OPEN_TREE_CLONE, AT_SYMLINK_NOFOLLOW, AT_FDCWD, MOVE_MOUNT_F_EMPTY_PATH = 1, 0x100, -100, 4
fd = libc.syscall(428, AT_FDCWD, link, OPEN_TREE_CLONE | AT_SYMLINK_NOFOLLOW)
if fd < 0:
    sys.exit('open_tree: %s' % os.strerror(ctypes.get_errno()))
if libc.syscall(429, fd, b'', AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0:
    sys.exit('move_mount: %s' % os.strerror(ctypes.get_errno()))
"#;

/// The path of the C library this test process maps.
fn our_libc() -> String {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .find(|path| path.ends_with("/libc.so.6"))
        .expect("a libc.so.6 mapping")
        .to_owned()
}

/// The program-counter location of the main thread of `pid`, once it is in `libc.so.6`,
/// from `procscope threads` run through `prefix` (e.g. `setpriv` dropping a capability).
fn pc_in_libc(prefix: &[&str], pid: u32) -> serde_json::Value {
    let pid = pid.to_string();
    let mut last = serde_json::Value::Null;
    for _ in 0..200 {
        let mut command = Command::new(prefix[0]);
        command.args(&prefix[1..]).arg(crate::common::bin());
        let output = command.args(["threads", &pid, "--json"]).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        last = doc["threads"][0]["pc_location"].clone();
        if last["module"] == "libc.so.6" {
            return last;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the main thread never blocked in libc.so.6: {last}");
}

/// `setpriv … unshare -Urm`: what follows runs as nobody in its own user and mount
/// namespace.
fn as_nobody_in_namespaces() -> Command {
    let mut command = Command::new("setpriv");
    command.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "unshare",
        "-Urm",
    ]);
    command
}

#[test]
fn a_symlink_mounted_over_a_library_cannot_make_root_read_its_target() {
    use std::os::unix::fs::PermissionsExt;
    let userns = (as_nobody_in_namespaces())
        .args(["sh", "-c", "mount -t tmpfs t /mnt"])
        .status();
    if !userns.is_ok_and(|s| s.success()) || !nix_is_root() {
        eprintln!(
            "skipped: needs root, setpriv, and unprivileged user namespaces that may mount tmpfs"
        );
        return;
    }
    let libc = our_libc();
    // Root's secret: an ELF file with symbols that the unprivileged user may not read.
    let secret_dir = tempfile::tempdir().unwrap();
    let secret = secret_dir.path().join("secret.so");
    std::fs::copy(&libc, &secret).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    // The unprivileged user's tmpfs mount point.
    let place = tempfile::tempdir().unwrap();
    std::fs::set_permissions(place.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mnt = place.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    std::fs::set_permissions(&mnt, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mnt = mnt.to_str().unwrap();
    // As nobody, in its own user and mount namespace: a copy of libc on a tmpfs, loaded by
    // `cat` (blocked reading our pipe, so it ends when the test does), then a symlink to
    // root's secret mounted over the copy's path.
    let script = format!(
        "set -e\nmount -t tmpfs t {mnt}\ncp {libc} {mnt}/libc.so.6\nln -s {secret} {mnt}/link\n\
         exec 3<&0\nLD_LIBRARY_PATH={mnt} cat <&3 >/dev/null &\ncat_pid=$!\n\
         python3 -c \"$MOUNT\" {mnt}/link {mnt}/libc.so.6 || {{ echo no-mount; exit 0; }}\n\
         echo $cat_pid\nwait\n",
        secret = secret.display()
    );
    let mut child = as_nobody_in_namespaces()
        .args(["sh", "-c", &script])
        .env("MOUNT", MOUNT_SYMLINK_OVER)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let line = first_line(&mut child);
    let _owned = crate::common::Owned(child);
    if line.trim() == "no-mount" {
        eprintln!("skipped: open_tree/move_mount are not allowed here");
        return;
    }
    let cat: u32 = line.trim().parse().expect("the namespace is set up");

    // Without CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE (no map_files), the path is all
    // there is: it must be refused.
    let location = pc_in_libc(
        &[
            "setpriv",
            "--inh-caps=-sys_admin,-checkpoint_restore",
            "--bounding-set=-sys_admin,-checkpoint_restore",
        ],
        cat,
    );
    assert_eq!(location["unverified"], true, "{location}");
    assert_eq!(location["symbol"], serde_json::Value::Null, "{location}");
    // With it, the mapped file itself is read (through map_files), never the secret.
    let location = pc_in_libc(&["env"], cat);
    assert!(location.get("unverified").is_none(), "{location}");
}

fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}
