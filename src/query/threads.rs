//! The validated `threads` request: how many register samples, roles and their evidence.

/// How `threads` reads and shows.
#[derive(Debug, Clone, Copy)]
pub struct ThreadsOptions {
    /// Read a running thread's registers up to this many times in all.
    pub samples: u32,
    /// Recognise the runtime and give each thread its role.
    pub roles: bool,
    /// Show the evidence for each role.
    pub explain: bool,
}
