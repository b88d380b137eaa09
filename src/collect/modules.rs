//! Opening the file behind a mapping as the target process sees it (through its `root`
//! link, so other mount namespaces work), read on demand rather than loaded whole.

use std::fs::File;

use crate::collect::procfs::ProcessDir;
use crate::parse::maps::Mapping;

/// The module file behind `mapping`, through `/proc/PID/root/PATH`, or through
/// `/proc/PID/map_files/START-END` when the file was deleted. `None` if neither opens.
pub fn open_module(process: &ProcessDir, mapping: &Mapping) -> Option<File> {
    if !mapping.is_file() {
        return None;
    }
    if !mapping.path.ends_with(b" (deleted)") {
        let mut path = b"root".to_vec();
        path.extend_from_slice(&mapping.path);
        if let Ok(file) = process.open(&path) {
            return Some(file);
        }
    }
    let range = format!("map_files/{:x}-{:x}", mapping.start, mapping.end);
    process.open(range.as_bytes()).ok()
}

/// A separate debug file (`usr/lib/debug/.build-id/…`) as the target process sees it, else
/// on our own root.
pub fn open_debug_file(process: &ProcessDir, relative: &str) -> Option<File> {
    let mut path = b"root/".to_vec();
    path.extend_from_slice(relative.as_bytes());
    process
        .open(&path)
        .ok()
        .or_else(|| File::open(std::path::Path::new("/").join(relative)).ok())
}
