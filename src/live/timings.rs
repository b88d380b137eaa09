//! `top --timings FILE`: one line per refresh with the wall and CPU time of reading it and
//! of drawing (or printing) it, so the live view's cost is measured by the live view itself
//! (benches/top.sh reads these lines) rather than guessed from whole runs. A stream's read of
//! the columns its baseline deferred has a `fill` line of its own.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// The wall clock and this process's CPU time (all threads) at one moment.
#[derive(Clone, Copy)]
struct Mark {
    wall: Instant,
    cpu: Duration,
}

impl Mark {
    fn now() -> Self {
        let cpu = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
        Self {
            wall: Instant::now(),
            cpu: Duration::new(cpu.tv_sec as u64, cpu.tv_nsec as u32),
        }
    }

    /// Milliseconds of wall and CPU time since `self`.
    fn elapsed_ms(&self, now: &Mark) -> (f64, f64) {
        let wall = now.wall.duration_since(self.wall).as_secs_f64();
        let cpu = now.cpu.saturating_sub(self.cpu).as_secs_f64();
        (wall * 1e3, cpu * 1e3)
    }
}

/// Where the timings go (nowhere without `--timings`), and the refresh being timed.
#[derive(Default)]
pub struct Timings {
    out: Option<BufWriter<File>>,
    refresh: u64,
    /// When the current refresh's read started, and when it ended with its row count.
    read: Option<(Mark, Option<(Mark, usize)>)>,
}

impl Timings {
    /// Appends to `path` (created if missing); `None` times nothing.
    pub fn open(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|error| {
                let path = path.display();
                crate::exit::usage(format!("cannot open the timings file {path}: {error}"))
            })?;
        Ok(Self {
            out: Some(BufWriter::new(file)),
            ..Self::default()
        })
    }

    /// A refresh's read starts.
    pub fn read_starts(&mut self) {
        if self.out.is_some() {
            self.read = Some((Mark::now(), None));
        }
    }

    /// The read ended with `rows` rows.
    pub fn read_ends(&mut self, rows: usize) {
        if let Some((_, end)) = &mut self.read {
            *end = Some((Mark::now(), rows));
        }
    }

    /// Runs `work`, a read of the columns the last refresh deferred for `rows` rows, and
    /// writes its line: `fill REFRESH rows N read_ms X read_cpu_ms Y` (not a refresh of its
    /// own: nothing is drawn after it).
    pub fn fill<T>(&mut self, rows: usize, work: impl FnOnce() -> T) -> T {
        let Some(out) = &mut self.out else {
            return work();
        };
        let start = Mark::now();
        let result = work();
        let (read_ms, read_cpu) = start.elapsed_ms(&Mark::now());
        let _ = writeln!(
            out,
            "fill {} rows {rows} read_ms {read_ms:.1} read_cpu_ms {read_cpu:.1}",
            self.refresh
        )
        .and_then(|()| out.flush());
        result
    }

    /// The refresh is drawn (or printed; `drawn` false: nothing was, a stream's baseline):
    /// writes its line. A draw without a refresh before it (a key press) is not timed.
    pub fn drawn(&mut self, drawn: bool) {
        let (Some(out), Some((start, Some((read_end, rows))))) = (&mut self.out, self.read.take())
        else {
            return;
        };
        let now = Mark::now();
        let (read_ms, read_cpu) = start.elapsed_ms(&read_end);
        let (render_ms, render_cpu) = if drawn {
            read_end.elapsed_ms(&now)
        } else {
            (0.0, 0.0)
        };
        self.refresh += 1;
        // A failed write must not stop the view: the timings are a side channel.
        let _ = writeln!(
            out,
            "refresh {} rows {rows} read_ms {read_ms:.1} read_cpu_ms {read_cpu:.1} \
             render_ms {render_ms:.1} render_cpu_ms {render_cpu:.1} total_ms {:.1}",
            self.refresh,
            read_ms + render_ms,
        )
        .and_then(|()| out.flush());
    }
}
