//! Reading many processes: the PID list split among a few threads (the work is system-call
//! bound), each process read, filtered and turned into a row by the caller's function while
//! its buffers are still warm, so nothing large is kept per process.

use crate::collect::{Needs, ProcFs, ProcessSample};

/// At most this many reader threads.
const MAX_READERS: usize = 4;
/// Below this many processes one thread is faster than starting others.
const PARALLEL_THRESHOLD: usize = 256;

/// What a scan found: the rows kept, in PID order, and how many processes vanished.
pub struct Scan<T> {
    pub rows: Vec<T>,
    pub vanished: usize,
}

/// Reads `pids` with `needs` and maps each readable process through `map` (`None` drops it).
/// A process that vanishes before its stat/status could be read is counted, not an error.
pub fn scan<T, F>(procfs: &ProcFs, pids: &[u32], needs: Needs, map: F) -> Scan<T>
where
    T: Send,
    F: Fn(&ProcessSample) -> Option<T> + Sync,
{
    let read_chunk = |chunk: &[u32]| {
        let mut rows = Vec::with_capacity(chunk.len());
        let mut vanished = 0;
        for &pid in chunk {
            match ProcessSample::read(procfs, pid, needs) {
                Ok(sample) => rows.extend(map(&sample)),
                Err(_) => vanished += 1,
            }
        }
        Scan { rows, vanished }
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_READERS);
    if workers < 2 || pids.len() < PARALLEL_THRESHOLD {
        return read_chunk(pids);
    }
    let chunk_size = pids.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = pids
            .chunks(chunk_size)
            .map(|chunk| scope.spawn(move || read_chunk(chunk)))
            .collect();
        let mut all = Scan {
            rows: Vec::with_capacity(pids.len()),
            vanished: 0,
        };
        for handle in handles {
            // A panicking reader is a bug; its chunk is lost rather than the whole run.
            if let Ok(part) = handle.join() {
                all.rows.extend(part.rows);
                all.vanished += part.vanished;
            }
        }
        all
    })
}
