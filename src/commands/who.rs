//! `procscope who PATH…` / `--deleted`: every process holding a file, a directory's files
//! (`--recursive`), a mount (`--mount`), or the deleted-but-open files of the system, like
//! `lsof FILE`, `lsof +D`, `fuser -m` and `lsof +L1`. Files are matched by device and inode.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::FileType;

use crate::collect::holder_names::HolderNames;
use crate::collect::who::{Access, FileId, Hold, Wanted, identify, scan_holds, walk};
use crate::collect::{ProcFs, UserNames};
use crate::exit;
use crate::model::fields::HolderField;
use crate::model::report::WhoReport;
use crate::model::text::lossless;
use crate::model::who::{FileHolder, HeldFile, WhoList};
use crate::parse::fdinfo::describe_flags;
use crate::query::who::WhoQuery;

/// Finds every holder of the files asked for.
pub fn run(query: &WhoQuery, procfs: &ProcFs, users: &UserNames) -> anyhow::Result<WhoReport> {
    let (mode, wanted, names) = targets(query)?;
    let scan = scan_holds(procfs, &wanted);
    let mut by_file: HashMap<FileId, Vec<Hold>> = HashMap::new();
    for hold in scan.holds {
        by_file.entry(hold.file).or_default().push(hold);
    }
    let mut holder_names = HolderNames::new(procfs, users);
    let mut files: Vec<HeldFile> = by_file
        .into_iter()
        .map(|(id, holds)| held_file(id, &holds, names.get(&id), &mut holder_names))
        .collect();
    match mode {
        "deleted" => files.sort_by(|a, b| {
            b.size_bytes
                .cmp(&a.size_bytes)
                .then_with(|| a.path.cmp(&b.path))
        }),
        "paths" => {
            let order: HashMap<FileId, usize> =
                names.keys().enumerate().map(|(i, id)| (*id, i)).collect();
            let position = |f: &HeldFile| order.get(&(f.device, f.inode)).copied();
            files.sort_by_key(|f| (position(f), f.path.clone()));
        }
        _ => files.sort_by(|a, b| a.path.cmp(&b.path)),
    }
    Ok(WhoReport {
        list: WhoList {
            mode: mode.into(),
            files,
            denied_processes: scan.denied,
        },
    })
}

/// The targets of a query: its mode, what to match, and the name of each known file.
fn targets(query: &WhoQuery) -> anyhow::Result<(&'static str, Wanted, TargetNames)> {
    let mut names = TargetNames::default();
    if query.deleted {
        if !query.paths.is_empty() || query.recursive || query.mount {
            return Err(exit::usage(
                "--deleted lists deleted files system-wide: give it no PATH, --recursive or --mount",
            ));
        }
        return Ok(("deleted", Wanted::Deleted, names));
    }
    if query.paths.is_empty() {
        return Err(exit::usage("who needs a PATH (or --deleted)"));
    }
    if query.recursive && query.mount {
        return Err(exit::usage("--recursive and --mount exclude each other"));
    }
    let mut files = HashSet::new();
    let mut devices = HashSet::new();
    for path in &query.paths {
        let (id, kind, rdev) = identify(path).map_err(|err| {
            exit::target(format!(
                "cannot stat {}: {err}",
                String::from_utf8_lossy(path.as_os_str().as_bytes())
            ))
        })?;
        if query.mount {
            devices.insert(if kind == FileType::BlockDevice {
                rdev
            } else {
                id.0
            });
        } else if query.recursive {
            for (id, found) in walk(path).0 {
                files.insert(id);
                names.insert(id, found);
            }
        } else {
            files.insert(id);
            names.insert(id, path.as_os_str().as_bytes().to_vec());
        }
    }
    Ok(match (query.mount, query.recursive) {
        (true, _) => ("mount", Wanted::Devices(devices), names),
        (_, true) => ("recursive", Wanted::Files(files), names),
        _ => ("paths", Wanted::Files(files), names),
    })
}

/// The names of the files asked for, in the order they were first given.
#[derive(Default)]
struct TargetNames {
    order: Vec<FileId>,
    names: HashMap<FileId, Vec<u8>>,
}

impl TargetNames {
    fn insert(&mut self, id: FileId, name: Vec<u8>) {
        if !self.names.contains_key(&id) {
            self.order.push(id);
            self.names.insert(id, name);
        }
    }

    fn get(&self, id: &FileId) -> Option<&Vec<u8>> {
        self.names.get(id)
    }

    fn keys(&self) -> impl Iterator<Item = &FileId> {
        self.order.iter()
    }
}

/// The path without the kernel's ` (deleted)` suffix of an unlinked file.
fn without_deleted(path: &[u8], deleted: bool) -> &[u8] {
    if deleted {
        path.strip_suffix(b" (deleted)").unwrap_or(path)
    } else {
        path
    }
}

fn held_file(
    id: FileId,
    holds: &[Hold],
    name: Option<&Vec<u8>>,
    holder_names: &mut HolderNames,
) -> HeldFile {
    let deleted = holds.iter().any(|h| h.nlink == Some(0));
    let seen = holds
        .iter()
        .find(|h| h.access != Access::Mapped)
        .unwrap_or(&holds[0]);
    let path = name
        .map(Vec::as_slice)
        .unwrap_or_else(|| without_deleted(&seen.path, deleted));
    let (path, path_b64) = lossless(path);
    let mut holders: Vec<FileHolder> = holds
        .iter()
        .map(|hold| file_holder(hold, deleted, holder_names))
        .collect();
    holders.sort_by_key(|h| (h.pid, h.fd));
    HeldFile {
        path,
        path_b64,
        device: id.0,
        inode: id.1,
        size_bytes: holds.iter().find_map(|h| h.size),
        deleted,
        holders,
    }
}

fn file_holder(hold: &Hold, deleted: bool, names: &mut HolderNames) -> FileHolder {
    let (name, user) = names.of(hold.pid);
    let (path, path_b64) = lossless(without_deleted(&hold.path, deleted));
    let mut unavailable = BTreeMap::new();
    let info = match &hold.info {
        Some(Ok(info)) => Some(info),
        Some(Err(why)) => {
            unavailable.insert(HolderField::Offset, *why);
            unavailable.insert(HolderField::Mode, *why);
            None
        }
        None => None,
    };
    let described = info.and_then(|i| i.flags).map(describe_flags);
    FileHolder {
        pid: hold.pid,
        name,
        user,
        access: match hold.access {
            Access::Cwd => "cwd",
            Access::Root => "root",
            Access::Exe => "exe",
            Access::Fd(_) => "fd",
            Access::Mapped => "mapped",
        }
        .into(),
        fd: match hold.access {
            Access::Fd(fd) => Some(fd),
            _ => None,
        },
        mode: described.as_ref().map(|(mode, _)| (*mode).to_owned()),
        flags: described.map(|(_, flags)| flags.iter().map(|f| (*f).to_owned()).collect()),
        offset: info.and_then(|i| i.pos),
        path,
        path_b64,
        unavailable,
    }
}
