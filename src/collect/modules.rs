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

/// A module file up to this size is read whole (one read) before its symbol tables are
/// parsed; reading a symbol table on demand costs an lseek and a read per symbol name (18800
/// system calls for libc). Larger files (a 90 MB `node`) are still read on demand.
pub const READ_WHOLE_MODULE: u64 = 16 << 20;

/// The bytes of a module file no larger than [`READ_WHOLE_MODULE`], or the file back when it
/// is larger (or its size is unknown), to be read on demand.
pub fn read_small_module(mut file: File) -> Result<Vec<u8>, File> {
    use std::io::Read;
    let Some(size) = file.metadata().ok().map(|meta| meta.len()) else {
        return Err(file);
    };
    if size > READ_WHOLE_MODULE {
        return Err(file);
    }
    let mut bytes = Vec::with_capacity(size as usize);
    match (&mut file).take(READ_WHOLE_MODULE).read_to_end(&mut bytes) {
        Ok(_) => Ok(bytes),
        Err(_) => Err(file),
    }
}
