//! The validated `export`/`serve` request: how processes are grouped and what is read.

use crate::query::groups::Grouping;

/// The validated request.
#[derive(Debug, Clone)]
pub struct ExportQuery {
    pub grouping: Grouping,
    /// Read smaps_rollup for PSS (costly: the kernel walks every mapping).
    pub pss: bool,
}
