//! Reading many processes or threads: the ID list shared among a few threads (the work is
//! system-call bound) in small chunks taken in turn, so one slow process (10000 threads to
//! sum, 10000 descriptors) does not leave the other readers idle; each ID is read, filtered
//! and turned into a row by the caller's function while its buffers are warm, so nothing
//! large is kept per process.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

use crate::model::Unavailable;

/// At most this many reader threads.
const MAX_READERS: usize = 4;
/// Below this many items one thread is faster than starting another (a thread costs about
/// as much as reading a dozen processes).
const PARALLEL_THRESHOLD: usize = 48;
/// Each reader takes at most this many items at a time, and the list is cut into at least
/// this many chunks per reader, so that the last chunks even out the readers' loads.
const MAX_CHUNK: usize = 64;
const CHUNKS_PER_READER: usize = 16;

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

    /// Reads `items` in order into this scan, with what `prepare` made for them.
    fn read_all<I: Copy, C>(
        &mut self,
        items: &[I],
        prepare: &impl Fn(&[I]) -> C,
        read: &impl Fn(I, &mut C) -> ReadResult<T>,
    ) {
        let mut prepared = prepare(items);
        for &id in items {
            match read(id, &mut prepared) {
                Ok(row) => self.rows.extend(row),
                Err(Unavailable::Gone) => self.vanished += 1,
                Err(_) => self.hidden += 1,
            }
        }
    }
}

type ReadResult<T> = Result<Option<T>, Unavailable>;

/// What a feed hands each batch of items to (with whether it is the last).
pub type BatchSink<'a, I> = &'a mut dyn FnMut(&[I], bool);

/// How many reader threads to use: the CPUs we may run on, asked once per run with one
/// system call (`available_parallelism` would also read the cgroup's CPU quota files, which
/// cost more than they save: a reader over the quota only waits its turn).
fn readers() -> usize {
    static READERS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *READERS.get_or_init(|| {
        rustix::thread::sched_getaffinity(None)
            .map_or(1, |cpus| cpus.count() as usize)
            .clamp(1, MAX_READERS)
    })
}

/// Reads every item (a PID, a TID, an fd, or a pair) through `read`, which returns the row,
/// `None` to drop the item, or why it could not be read. Rows keep the order of `items`.
pub fn scan<I, T, F>(items: &[I], read: F) -> Scan<T>
where
    I: Copy + Sync,
    T: Send,
    F: Fn(I) -> ReadResult<T> + Sync,
{
    scan_prepared(items, |_| (), |id, ()| read(id))
}

/// [`scan`], where `prepare` first makes something for each chunk of items the reader takes
/// (answers asked of the kernel in one batch), which `read` then uses for each of them in
/// order.
pub fn scan_prepared<I, C, T>(
    items: &[I],
    prepare: impl Fn(&[I]) -> C + Sync,
    read: impl Fn(I, &mut C) -> ReadResult<T> + Sync,
) -> Scan<T>
where
    I: Copy + Sync,
    T: Send,
{
    let workers = if items.len() < PARALLEL_THRESHOLD {
        1
    } else {
        readers()
    };
    if workers < 2 {
        let mut all = Scan::new(items.len());
        all.read_all(items, &prepare, &read);
        return all;
    }
    let chunk_size = (items.len() / (workers * CHUNKS_PER_READER)).clamp(1, MAX_CHUNK);
    let chunks = Mutex::new(items.chunks(chunk_size).enumerate());
    // Each reader takes the next chunk until none is left and keeps its parts by chunk
    // number; the calling thread reads too.
    let reader = || {
        let mut parts: Vec<(usize, Scan<T>)> = Vec::new();
        loop {
            let next = chunks.lock().unwrap_or_else(|e| e.into_inner()).next();
            let Some((number, chunk)) = next else {
                return parts;
            };
            let mut part = Scan::new(chunk.len());
            part.read_all(chunk, &prepare, &read);
            parts.push((number, part));
        }
    };
    let parts = std::thread::scope(|scope| {
        // A thread that cannot be started (no PIDs or memory left) leaves its share to the
        // others: the calling thread reads whatever is left.
        let handles: Vec<_> = (1..workers)
            .map_while(|_| std::thread::Builder::new().spawn_scoped(scope, reader).ok())
            .collect();
        // A panicking reader is a bug; its chunks are lost rather than the whole run.
        let mut parts = catch_unwind(AssertUnwindSafe(reader)).unwrap_or_default();
        for handle in handles {
            parts.extend(handle.join().unwrap_or_default());
        }
        parts
    });
    merge(parts)
}

/// Runs `side` on a thread of its own while the calling thread runs `main`, so that their
/// reads overlap (both are system-call bound); `side` runs here after `main` when no thread
/// can be started.
pub fn alongside<A, B: Send>(main: impl FnOnce() -> A, side: impl FnOnce() -> B + Send) -> (A, B) {
    // Taken once: by the side thread, or here when none could be started.
    let side = Mutex::new(Some(side));
    let run_side = || {
        let side = side.lock().unwrap_or_else(|e| e.into_inner()).take();
        side.map(|side| side())
    };
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .spawn_scoped(scope, run_side)
            .ok();
        let main = main();
        let side = match spawned {
            Some(spawned) => spawned
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => run_side(),
        };
        (
            main,
            side.unwrap_or_else(|| unreachable!("`side` runs once: there or here")),
        )
    })
}

/// [`scan`] over items that arrive in batches from `feed`, which runs on the calling thread
/// and hands each batch (and whether it is the last) to the function it is given. Once a
/// batch arrives with more to come, a reader thread starts on it while the caller lists the
/// rest; the caller reads too when the feed ends. Rows keep the order of the items.
pub fn scan_fed<I, T, E>(
    feed: impl FnOnce(BatchSink<'_, I>) -> Result<(), E>,
    read: impl Fn(I) -> ReadResult<T> + Sync,
) -> Result<Scan<T>, E>
where
    I: Copy + Send,
    T: Send,
{
    let fed = Fed {
        queue: Mutex::new(Queue {
            chunks: std::collections::VecDeque::new(),
            numbered: 0,
            items: 0,
            done: false,
        }),
        arrived: std::sync::Condvar::new(),
    };
    let reader = || {
        let mut parts: Vec<(usize, Scan<T>)> = Vec::new();
        while let Some((number, chunk)) = fed.take() {
            let mut part = Scan::new(chunk.len());
            part.read_all(&chunk, &|_: &[I]| (), &|id, _: &mut ()| read(id));
            parts.push((number, part));
        }
        parts
    };
    let (listed, parts) = std::thread::scope(|scope| {
        let mut helpers = None;
        // Ends the feed even when it panics: waiting readers would otherwise keep the
        // scope (and the run) waiting.
        let _finish = FinishOnDrop(&fed);
        let listed = feed(&mut |batch, last| {
            let fed_so_far = fed.push(batch);
            // A thread costs about a dozen reads: not for a listing that ends small.
            if helpers.is_none() && (!last || fed_so_far >= PARALLEL_THRESHOLD) {
                let spawn = |_| std::thread::Builder::new().spawn_scoped(scope, reader).ok();
                helpers = Some((1..readers()).map_while(spawn).collect::<Vec<_>>());
            }
        });
        fed.finish();
        // A panicking reader is a bug; its chunks are lost rather than the whole run.
        let mut parts = catch_unwind(AssertUnwindSafe(reader)).unwrap_or_default();
        for handle in helpers.into_iter().flatten() {
            parts.extend(handle.join().unwrap_or_default());
        }
        (listed, parts)
    });
    listed?;
    Ok(merge(parts))
}

/// The items fed so far, cut into numbered chunks, and whether the feed ended.
struct Queue<I> {
    chunks: std::collections::VecDeque<(usize, Vec<I>)>,
    /// Chunks queued so far (the next chunk's number).
    numbered: usize,
    /// Items queued so far.
    items: usize,
    done: bool,
}

struct Fed<I> {
    queue: Mutex<Queue<I>>,
    arrived: std::sync::Condvar,
}

impl<I: Copy> Fed<I> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue<I>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a batch in chunks sized like [`scan_prepared`]'s for a list of its length;
    /// returns how many items were queued so far.
    fn push(&self, batch: &[I]) -> usize {
        let size = (batch.len() / (readers() * CHUNKS_PER_READER)).clamp(1, MAX_CHUNK);
        let mut queue = self.lock();
        for chunk in batch.chunks(size) {
            let number = queue.numbered;
            queue.numbered += 1;
            queue.chunks.push_back((number, chunk.to_vec()));
        }
        queue.items += batch.len();
        let items = queue.items;
        drop(queue);
        self.arrived.notify_all();
        items
    }

    fn finish(&self) {
        self.lock().done = true;
        self.arrived.notify_all();
    }

    /// The next chunk, waiting for the feed; `None` once it ended and all were taken.
    fn take(&self) -> Option<(usize, Vec<I>)> {
        let mut queue = self.lock();
        loop {
            if let Some(chunk) = queue.chunks.pop_front() {
                return Some(chunk);
            }
            if queue.done {
                return None;
            }
            queue = self.arrived.wait(queue).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Marks the feed ended when dropped.
struct FinishOnDrop<'a, I: Copy>(&'a Fed<I>);

impl<I: Copy> Drop for FinishOnDrop<'_, I> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// The readers' parts in chunk order, as one scan.
fn merge<T>(mut parts: Vec<(usize, Scan<T>)>) -> Scan<T> {
    parts.sort_unstable_by_key(|(number, _)| *number);
    let mut all = Scan::new(parts.iter().map(|(_, part)| part.rows.len()).sum());
    for (_, part) in parts {
        all.rows.extend(part.rows);
        all.vanished += part.vanished;
        all.hidden += part.hidden;
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_the_order_of_the_items_across_readers() {
        let items: Vec<u32> = (0..5000).collect();
        let found = scan(&items, |id| match id % 7 {
            0 => Ok(None),
            1 => Err(Unavailable::Gone),
            2 => Err(Unavailable::PermissionDenied),
            _ => Ok(Some(id * 2)),
        });
        let expected: Vec<u32> = items
            .iter()
            .filter(|id| *id % 7 >= 3)
            .map(|id| id * 2)
            .collect();
        assert_eq!(found.rows, expected);
        assert_eq!(
            found.vanished,
            items.iter().filter(|id| *id % 7 == 1).count()
        );
        assert_eq!(found.hidden, items.iter().filter(|id| *id % 7 == 2).count());
    }

    #[test]
    fn each_item_gets_what_was_prepared_for_it() {
        for count in [5u32, 5000] {
            let items: Vec<u32> = (0..count).collect();
            let prepared = std::sync::atomic::AtomicUsize::new(0);
            let found = scan_prepared(
                &items,
                |chunk| {
                    prepared.fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
                    chunk
                        .iter()
                        .map(|id| id * 3)
                        .collect::<Vec<_>>()
                        .into_iter()
                },
                |id, made| Ok(made.next().map(|tripled| (id, tripled))),
            );
            assert_eq!(prepared.into_inner(), items.len());
            assert!(found.rows.iter().all(|&(id, tripled)| tripled == id * 3));
            assert_eq!(found.rows.len(), items.len());
        }
    }

    #[test]
    fn a_small_list_is_read_in_order_on_the_calling_thread() {
        let caller = std::thread::current().id();
        let found = scan(&[3u32, 1, 2], |id| {
            assert_eq!(std::thread::current().id(), caller);
            Ok(Some(id))
        });
        assert_eq!(found.rows, vec![3, 1, 2]);
    }

    /// Feeds 0..count in batches of `batch`, the last marked.
    fn batches(count: u32, batch: usize) -> impl FnOnce(BatchSink<'_, u32>) -> Result<(), ()> {
        move |each| {
            let items: Vec<u32> = (0..count).collect();
            let chunks: Vec<&[u32]> = items.chunks(batch).collect();
            for (index, chunk) in chunks.iter().enumerate() {
                each(chunk, index + 1 == chunks.len());
            }
            Ok(())
        }
    }

    #[test]
    fn fed_rows_keep_the_order_of_the_items_across_readers() {
        let found = scan_fed(batches(5000, 300), |id| match id % 7 {
            0 => Ok(None),
            1 => Err(Unavailable::Gone),
            2 => Err(Unavailable::PermissionDenied),
            _ => Ok(Some(id * 2)),
        })
        .unwrap();
        let expected: Vec<u32> = (0..5000)
            .filter(|id| id % 7 >= 3)
            .map(|id| id * 2)
            .collect();
        assert_eq!(found.rows, expected);
        assert_eq!(found.vanished, (0..5000).filter(|id| id % 7 == 1).count());
        assert_eq!(found.hidden, (0..5000).filter(|id| id % 7 == 2).count());
    }

    #[test]
    fn a_reader_starts_on_the_first_batch_while_the_feed_goes_on() {
        if readers() < 2 {
            return;
        }
        let caller = std::thread::current().id();
        let first_read = Mutex::new(None);
        let found = scan_fed(
            |each: BatchSink<'_, u32>| {
                each(&[1, 2, 3], false);
                // The feed waits here until a reader took the first batch: it must be
                // another thread, since this one is still feeding.
                let began = std::time::Instant::now();
                while first_read.lock().unwrap().is_none() {
                    assert!(began.elapsed().as_secs() < 20, "no reader started");
                    std::thread::yield_now();
                }
                each(&[4, 5], true);
                Ok::<(), ()>(())
            },
            |id| {
                first_read
                    .lock()
                    .unwrap()
                    .get_or_insert(std::thread::current().id());
                Ok(Some(id))
            },
        )
        .unwrap();
        assert_eq!(found.rows, vec![1, 2, 3, 4, 5]);
        assert_ne!(first_read.into_inner().unwrap(), Some(caller));
    }

    #[test]
    fn a_small_fed_list_is_read_on_the_calling_thread() {
        let caller = std::thread::current().id();
        let found = scan_fed(batches(5, 5), |id| {
            assert_eq!(std::thread::current().id(), caller);
            Ok(Some(id))
        })
        .unwrap();
        assert_eq!(found.rows, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_failed_feed_is_the_scans_error() {
        let failed = scan_fed(
            |each: BatchSink<'_, u32>| {
                each(&[1], false);
                Err("listing failed")
            },
            |id| Ok(Some(id)),
        );
        assert_eq!(failed.err(), Some("listing failed"));
    }

    #[test]
    fn a_feed_that_panics_does_not_leave_readers_waiting() {
        let outcome = std::panic::catch_unwind(|| {
            scan_fed(
                |each: BatchSink<'_, u32>| {
                    each(&(0..100).collect::<Vec<_>>(), false);
                    panic!("the listing broke");
                    #[allow(unreachable_code)]
                    Ok::<(), ()>(())
                },
                |id| Ok(Some(id)),
            )
        });
        assert!(
            outcome.is_err(),
            "the panic reaches the caller, the scan ends"
        );
    }

    #[test]
    fn alongside_runs_the_side_work_on_another_thread_and_returns_both() {
        let caller = std::thread::current().id();
        let (main, side) = alongside(
            || std::thread::current().id(),
            || std::thread::current().id(),
        );
        assert_eq!(main, caller);
        assert_ne!(side, caller);
    }
}
