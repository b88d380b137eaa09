//! The runtime tab's figures as the detail pane draws them: filled by the live view from
//! `procscope profile`'s aggregation over the refresh interval. Plain data, no reading.

/// How an event loop spent the interval (shares of samples).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoopLoad {
    /// On a CPU or runnable.
    pub computing_percent: f64,
    /// Waiting in the loop's epoll.
    pub waiting_percent: f64,
    /// `computing`, `waiting`, `blocked`.
    pub verdict: String,
}

/// One cluster worker of a primary over the interval.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterWorkerLoad {
    pub pid: u32,
    /// CPU of all its threads, in % of one core.
    pub cpu_percent: Option<f64>,
    pub event_loop: Option<LoopLoad>,
}

/// How busy a Node.js process's threads and cluster workers were over the interval.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuntimeLoad {
    /// `node 20.20.2 cluster primary`.
    pub label: String,
    pub summary: Option<String>,
    /// Samples per thread in the interval.
    pub samples: u32,
    /// The JavaScript main thread's event loop.
    pub main_thread: Option<LoopLoad>,
    /// libuv pool threads busy (running in ≥ 90% of samples) and identified.
    pub pool: Option<(u32, u32)>,
    /// V8 platform workers: average % of samples running, and how many.
    pub v8_workers: Option<(f64, usize)>,
    /// worker_threads: `worker_thread 1234 (name)` and its loop.
    pub worker_threads: Vec<(String, LoopLoad)>,
    pub cluster_workers: Vec<ClusterWorkerLoad>,
    /// The profile's verdicts, each a sentence with its numbers.
    pub verdicts: Vec<String>,
}
