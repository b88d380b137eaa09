//! The `who` payload: files (by device and inode) and every process that holds each.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::Unavailable;

/// One process's hold on a file.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FileHolder {
    pub pid: u32,
    pub name: Option<String>,
    pub user: Option<String>,
    /// How the file is held: `fd`, `cwd`, `root`, `exe` or `mapped`.
    pub access: String,
    /// The descriptor number when `access` is `fd`.
    pub fd: Option<u32>,
    /// `r`, `w` or `rw` (descriptors only).
    pub mode: Option<String>,
    /// Open flags by name (descriptors only): append, nonblock, sync, direct, cloexec...
    pub flags: Option<Vec<String>>,
    /// The descriptor's file offset (fdinfo `pos`).
    pub offset: Option<u64>,
    /// The path as this process sees it (its link target or maps path, without
    /// ` (deleted)`).
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_b64: Option<String>,
    /// Why a null field has no value.
    pub unavailable: BTreeMap<super::fields::HolderField, Unavailable>,
}

/// One file and everyone holding it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HeldFile {
    /// The path asked for, or (for `--mount`, `--recursive` and `--deleted`) the path a
    /// holder sees.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_b64: Option<String>,
    /// The device number (`st_dev`) and inode the file was matched by.
    pub device: u64,
    pub inode: u64,
    /// The size in bytes (`st_size`), when a holder's descriptor could be stat'ed.
    pub size_bytes: Option<u64>,
    /// The link count is 0: unlinked, but kept alive by its holders.
    pub deleted: bool,
    pub holders: Vec<FileHolder>,
}

/// The `who` payload.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WhoList {
    /// What was asked: `paths`, `recursive`, `mount` or `deleted`.
    pub mode: String,
    /// Each held file, in the order asked (largest first for `deleted`).
    pub files: Vec<HeldFile>,
    /// Processes some of whose descriptors, links or maps could not be read: their holds
    /// are not listed. Run as root to see every holder.
    pub denied_processes: usize,
}
