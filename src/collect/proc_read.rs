//! Reading a proc file whole: the read loop shared by every handle in `procfs` (no size
//! asked, a short read is the end of a file generated in one piece), the size limit, and the
//! watchdog's interrupted opens and reads reported as `TimedOut`.

use std::os::fd::OwnedFd;

use rustix::fs::Mode;

use crate::collect::procfs::{FILE_FLAGS, errno_reason};
use crate::collect::watchdog;
use crate::model::Unavailable;

/// No proc file read in whole is larger than this (the smaps of a process at the default
/// `vm.max_map_count` is about 40 MiB); a larger one is not a proc file (a fixture's
/// `/dev/zero`) and is refused as [`Unavailable::TooLarge`] instead of filling memory.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

pub(super) fn read_at(dir: &OwnedFd, name: &str) -> Result<Vec<u8>, Unavailable> {
    watchdog::guarded(|| {
        let bytes = read_fd(&open_file(dir, name)?, MAX_FILE_BYTES + 1, false)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(Unavailable::TooLarge);
        }
        Ok(bytes)
    })
}

/// Opens a file for reading below `dir`; an open the watchdog interrupted is `TimedOut`.
pub(super) fn open_file<P: rustix::path::Arg>(
    dir: &OwnedFd,
    name: P,
) -> Result<OwnedFd, Unavailable> {
    rustix::fs::openat(dir, name, FILE_FLAGS, Mode::empty()).map_err(|errno| match errno {
        rustix::io::Errno::INTR if watchdog::timed_out() => Unavailable::TimedOut,
        other => errno_reason(other),
    })
}

/// Reads until end of file (or the first short read when `short_is_end`) or `limit` bytes.
/// Unlike `read_to_end` it asks for no file size (proc files report 0), saving two system
/// calls per file.
pub(super) fn read_fd(
    fd: &OwnedFd,
    limit: u64,
    short_is_end: bool,
) -> Result<Vec<u8>, Unavailable> {
    let mut buf = Vec::new();
    fill(fd, limit, short_is_end, false, &mut buf).map(|()| buf)
}

/// Reads a file kept open from its start (`pread` at offset 0 onwards): to `limit` bytes, or
/// the first short read (proc files are generated in one piece).
pub(crate) fn pread_whole(fd: &OwnedFd, limit: u64) -> Result<Vec<u8>, Unavailable> {
    let mut buf = Vec::new();
    fill(fd, limit, true, true, &mut buf).map(|()| buf)
}

/// The read loop of [`read_fd`], [`pread_whole`] and `ProcessDir::read_whole_into`,
/// appending to `buf` (empty at first): from the file position, or with `positioned` from the
/// start of the file whatever its position.
pub(super) fn fill(
    fd: &OwnedFd,
    limit: u64,
    short_is_end: bool,
    positioned: bool,
    buf: &mut Vec<u8>,
) -> Result<(), Unavailable> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    while buf.len() < limit {
        if buf.capacity() == buf.len() {
            buf.reserve(buf.len().max(READ_CHUNK).min(limit - buf.len()));
        }
        // Read straight into the spare capacity (no zero-filling), never past `limit`.
        let room = (buf.capacity() - buf.len()).min(limit - buf.len());
        let before = buf.len();
        let spare = &mut buf.spare_capacity_mut()[..room];
        let result = if positioned {
            rustix::io::pread(fd, spare, before as u64)
        } else {
            rustix::io::read(fd, spare)
        };
        let result = result.map(|(init, _)| init.len());
        match result {
            Ok(n) => {
                // SAFETY: `read`/`pread` initialized the first `n` bytes of the spare capacity.
                unsafe { buf.set_len(before + n) };
                if n == 0 || (short_is_end && n < room) {
                    break;
                }
            }
            Err(rustix::io::Errno::INTR) if watchdog::timed_out() => {
                return Err(Unavailable::TimedOut);
            }
            Err(rustix::io::Errno::INTR) => {}
            Err(errno) => return Err(errno_reason(errno)),
        }
    }
    Ok(())
}

/// The first read asks for this much; most proc files fit.
const READ_CHUNK: usize = 2048;
