//! The validated `who` request: which files to find the holders of.

use std::path::PathBuf;

/// What `who` looks for.
#[derive(Debug, Clone, Default)]
pub struct WhoQuery {
    pub paths: Vec<PathBuf>,
    /// Every file below each directory (`lsof +D`).
    pub recursive: bool,
    /// Every file on the file system each path is on (`fuser -m`).
    pub mount: bool,
    /// Deleted-but-open files system-wide (`lsof +L1`).
    pub deleted: bool,
}
