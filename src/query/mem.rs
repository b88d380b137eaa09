//! The validated `mem` request: what `mem` shows besides the summary.

/// What `mem` shows besides the summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemQuery {
    /// One line per shared library instead of one for all.
    pub libs: bool,
    /// Every mapping.
    pub maps: bool,
}
