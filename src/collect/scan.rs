//! Reading many processes or threads: the ID list split among a few threads (the work is
//! system-call bound), each ID read, filtered and turned into a row by the caller's function
//! while its buffers are warm, so nothing large is kept per process.

use crate::model::Unavailable;

/// At most this many reader threads.
const MAX_READERS: usize = 4;
/// Below this many processes one thread is faster than starting others.
const PARALLEL_THRESHOLD: usize = 256;

/// What a scan found: the rows kept, in ID order, and the IDs that could not be read.
#[derive(Debug)]
pub struct Scan<T> {
    pub rows: Vec<T>,
    /// Exited between the directory listing and the read.
    pub vanished: usize,
    /// Could not be opened at all (hidepid=1 gives EPERM).
    pub hidden: usize,
}

impl<T> Scan<T> {
    fn new(capacity: usize) -> Self {
        Self {
            rows: Vec::with_capacity(capacity),
            vanished: 0,
            hidden: 0,
        }
    }

    fn absorb(&mut self, part: Self) {
        self.rows.extend(part.rows);
        self.vanished += part.vanished;
        self.hidden += part.hidden;
    }
}

/// How many reader threads to use: the CPUs available to us, asked once per run (the
/// answer costs a few cgroup file reads).
fn readers() -> usize {
    static READERS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *READERS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_READERS)
    })
}

/// Reads every item (a PID, a TID, an fd, or a pair) through `read`, which returns the row,
/// `None` to drop the item, or why it could not be read. Rows keep the order of `items`.
pub fn scan<I, T, F>(items: &[I], read: F) -> Scan<T>
where
    I: Copy + Sync,
    T: Send,
    F: Fn(I) -> Result<Option<T>, Unavailable> + Sync,
{
    let ids = items;
    let read_chunk = |chunk: &[I]| {
        let mut part = Scan::new(chunk.len());
        for &id in chunk {
            match read(id) {
                Ok(row) => part.rows.extend(row),
                Err(Unavailable::Gone) => part.vanished += 1,
                Err(_) => part.hidden += 1,
            }
        }
        part
    };
    if ids.len() < PARALLEL_THRESHOLD {
        return read_chunk(ids);
    }
    let workers = readers();
    if workers < 2 {
        return read_chunk(ids);
    }
    let chunk_size = ids.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = ids
            .chunks(chunk_size)
            .map(|chunk| scope.spawn(move || read_chunk(chunk)))
            .collect();
        // The first part grows to hold the others (a large buffer grows in place): a second
        // buffer for every row would double the peak memory of a 10000-process listing.
        let mut all: Option<Scan<T>> = None;
        for handle in handles {
            // A panicking reader is a bug; its chunk is lost rather than the whole run.
            if let Ok(part) = handle.join() {
                match &mut all {
                    Some(all) => all.absorb(part),
                    None => all = Some(part),
                }
            }
        }
        all.unwrap_or_else(|| Scan::new(0))
    })
}
