//! The numeric entry names of a directory (PIDs, TIDs, descriptors), read with `getdents`
//! directly: whole, or in batches that start small so that a caller can read the first
//! processes while the kernel lists the rest.

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd};

/// The largest fill. A fill that left room for the largest entry was the last one: the
/// kernel stops a fill only when the next entry does not fit, or at the end.
const LISTING_BUFFER: usize = 32 * 1024;
/// The first fill of a listing read in batches: the 60 or so fixed names of `/proc` and
/// the first processes. Each later fill doubles, up to [`LISTING_BUFFER`].
pub const FIRST_BATCH: usize = 2048;
/// The largest `linux_dirent64` record (a 255-byte name).
const MAX_RECORD: usize = 280;

/// The numeric names in a directory stream, in the kernel's order.
pub fn numeric_names(dir: &mut rustix::fs::Dir) -> std::io::Result<Vec<u32>> {
    let mut ids = Vec::new();
    numeric_batches(dir.fd()?, LISTING_BUFFER, |batch, _| {
        ids.extend_from_slice(batch)
    })?;
    Ok(ids)
}

/// Calls `each` with the numeric names of each fill of the directory (and whether it was
/// the last), the first fill `first` bytes, each next one twice the last, up to
/// [`LISTING_BUFFER`]. Unlike a plain directory stream it does not ask the kernel once more
/// after a fill that ended short of the buffer: one system call fewer per directory.
///
/// For `/proc` this matters because the kernel, to find each next process, steps over the
/// IDs of every thread before it: 1.3 ms for a 10000-thread process. A fill returns only
/// when full, so small first fills hand the first processes over before the kernel walks
/// the threads of the ones after them.
pub fn numeric_batches(
    dir: impl AsFd,
    first: usize,
    mut each: impl FnMut(&[u32], bool),
) -> std::io::Result<()> {
    let dir: BorrowedFd<'_> = dir.as_fd();
    let mut buffer = vec![MaybeUninit::<u8>::uninit(); LISTING_BUFFER];
    let mut size = first.clamp(2 * MAX_RECORD, LISTING_BUFFER);
    let mut ids = Vec::new();
    loop {
        ids.clear();
        let filled = fill_once(dir, &mut buffer[..size], &mut ids)?;
        let last = filled + MAX_RECORD <= size;
        if !ids.is_empty() || last {
            each(&ids, last);
        }
        if last {
            return Ok(());
        }
        size = (size * 2).min(LISTING_BUFFER);
    }
}

/// One `getdents` fill into `buffer`: pushes the numeric names, returns the bytes filled
/// (0 at the end of the directory).
fn fill_once(
    dir: BorrowedFd<'_>,
    buffer: &mut [MaybeUninit<u8>],
    ids: &mut Vec<u32>,
) -> std::io::Result<usize> {
    let mut raw = rustix::fs::RawDir::new(dir, buffer);
    let mut filled = 0usize;
    while let Some(entry) = raw.next() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        // The kernel's record length: the 19-byte header, the name and its NUL, 8-aligned.
        filled += (19 + name.len() + 1 + 7) & !7;
        if let Some(id) = crate::parse::stat::parse_num::<u32>(name) {
            ids.push(id);
        }
        if raw.is_buffer_empty() {
            break;
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of `count` numeric names (and a few others), for listing.
    fn numbered_dir(count: u32) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for id in 0..count {
            std::fs::write(dir.path().join(id.to_string()), "").unwrap();
        }
        for name in ["self", "meminfo", "12a"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        dir
    }

    #[test]
    fn batches_grow_and_together_hold_every_numeric_name_once() {
        let dir = numbered_dir(3000);
        let handle = std::fs::File::open(dir.path()).unwrap();
        let mut batches = Vec::new();
        numeric_batches(&handle, FIRST_BATCH, |batch, last| {
            batches.push((batch.to_vec(), last))
        })
        .unwrap();
        assert!(batches.len() > 2, "{} batches", batches.len());
        assert!(batches[0].0.len() < batches[1].0.len());
        assert_eq!(batches.iter().filter(|(_, last)| *last).count(), 1);
        assert!(batches.last().unwrap().1);
        let mut ids: Vec<u32> = batches.into_iter().flat_map(|(ids, _)| ids).collect();
        ids.sort_unstable();
        assert_eq!(ids, (0..3000).collect::<Vec<_>>());
    }

    #[test]
    fn proc_batches_hold_this_process_in_ascending_order() {
        let proc = std::fs::File::open("/proc").unwrap();
        let me = std::process::id();
        let mut seen = Vec::new();
        numeric_batches(&proc, FIRST_BATCH, |batch, _| seen.extend_from_slice(batch)).unwrap();
        assert!(seen.contains(&me));
        assert!(seen.windows(2).all(|pair| pair[0] < pair[1]), "ascending");
    }
}
