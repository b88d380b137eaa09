//! The security reads of `show`: namespace links (and PID 1's, or our own, to compare),
//! OOM score files, the LSM label, the I/O priority (`ioprio_get`) and the environment.

use crate::collect::process::{Environ, Field};
use crate::collect::procfs::Files;
use crate::collect::{ProcFs, ProcessDir};
use crate::model::Unavailable;

/// The namespace kinds `show` lists, as named under /proc/PID/ns.
pub const NAMESPACES: &[&str] = &["pid", "net", "mnt", "user", "uts", "ipc", "cgroup", "time"];

/// What `show` reads for its security section.
#[derive(Debug)]
pub struct SecurityFiles {
    /// (kind, inode) of each namespace the kernel lists.
    pub namespaces: Field<Vec<(&'static str, u64)>>,
    /// The same for PID 1, else for procscope itself; `None` when neither could be read.
    pub reference: Option<Vec<(&'static str, u64)>>,
    pub oom_score: Field<i64>,
    pub oom_score_adj: Field<i64>,
    pub lsm_label: Field<Vec<u8>>,
    /// The raw `ioprio_get` value (class << 13 | level).
    pub io_priority: Field<i32>,
    /// The starting environment, when asked for.
    pub environ: Option<Field<Environ>>,
}

/// Reads the security files of an opened process.
pub fn read_security(procfs: &ProcFs, dir: &ProcessDir, environ: bool) -> SecurityFiles {
    let reference = ["1", "self"].iter().find_map(|who| {
        let links = namespaces(|kind| procfs.readlink(&format!("{who}/ns/{kind}"))).ok()?;
        (!links.is_empty()).then_some(links)
    });
    SecurityFiles {
        namespaces: read_namespaces(dir),
        reference,
        oom_score: read_number(dir, "oom_score"),
        oom_score_adj: read_number(dir, "oom_score_adj"),
        lsm_label: read_label(dir),
        // A syscall names a PID of procscope's own namespace: only for the live /proc.
        io_priority: match procfs.pid_view() {
            crate::collect::procfs::PidView::Live => io_priority(dir.pid()),
            _ => Err(Unavailable::Unsupported),
        },
        environ: environ.then(|| crate::collect::runtime::read_environ(dir)),
    }
}

/// The namespace links of a process or thread directory, as (kind, inode).
pub fn read_namespaces(dir: &impl Files) -> Field<Vec<(&'static str, u64)>> {
    namespaces(|kind| dir.readlink(&format!("ns/{kind}")))
}

/// A number file (`oom_score`).
pub fn read_number(dir: &impl Files, name: &str) -> Field<i64> {
    let raw = dir.read_whole(name, 64)?;
    std::str::from_utf8(raw.trim_ascii())
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or(Unavailable::ReadError)
}

/// The LSM label (`attr/current`) without its trailing newline and NULs.
pub fn read_label(dir: &impl Files) -> Field<Vec<u8>> {
    dir.read_whole("attr/current", 4096)
        .map(|raw| trim_label(&raw))
}

/// Each namespace link, by kind; a kind the kernel lacks is left out; the first other
/// failure (denied, gone) is the answer.
fn namespaces(
    readlink: impl Fn(&str) -> Result<Vec<u8>, Unavailable>,
) -> Field<Vec<(&'static str, u64)>> {
    let mut found = Vec::new();
    for kind in NAMESPACES {
        match readlink(kind) {
            Ok(link) => {
                if let Some(inode) = link_inode(&link) {
                    found.push((*kind, inode));
                }
            }
            Err(Unavailable::Gone) if !found.is_empty() || *kind == "time" => {}
            Err(why) => return Err(why),
        }
    }
    Ok(found)
}

/// The inode of a namespace link (`net:[4026531840]`).
fn link_inode(link: &[u8]) -> Option<u64> {
    let open = link.iter().position(|&b| b == b'[')?;
    let inner = link.get(open + 1..link.len().checked_sub(1)?)?;
    std::str::from_utf8(inner).ok()?.parse().ok()
}

/// `ioprio_get(IOPRIO_WHO_PROCESS, pid)`.
fn io_priority(pid: u32) -> Field<i32> {
    const IOPRIO_WHO_PROCESS: libc::c_long = 1;
    // SAFETY: ioprio_get takes two integers and touches no memory of ours.
    let value = unsafe {
        libc::syscall(
            libc::SYS_ioprio_get,
            IOPRIO_WHO_PROCESS,
            libc::c_long::from(pid as i32),
        )
    };
    if value < 0 {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        return Err(Unavailable::from_errno(errno));
    }
    Ok(value as i32)
}

/// The label without its trailing newline and NULs.
fn trim_label(raw: &[u8]) -> Vec<u8> {
    let end = raw
        .iter()
        .rposition(|&b| b != 0 && !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    raw[..end].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_links() {
        assert_eq!(link_inode(b"net:[4026531840]"), Some(4_026_531_840));
        assert_eq!(link_inode(b"net:[x]"), None);
        assert_eq!(link_inode(b"net"), None);
        assert_eq!(trim_label(b"unconfined\n\0"), b"unconfined");
    }
}
