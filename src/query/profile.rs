//! The validated `profile` request: how long and how often to sample, and the output shape.

use std::time::Duration;

/// How `profile` samples and shows.
#[derive(Debug, Clone, Copy)]
pub struct ProfileOptions {
    pub duration: Duration,
    pub hz: u32,
    /// Print folded stacks (`role;wait;frame count`) instead of the table.
    pub folded: bool,
}
