//! The results commands return: each a JSON document (the payload) plus what only its
//! table needs (hints, display flags), with the [`Payload`] facts every format reads.
//! Plain data: no reading, no formatting.

use crate::model::fd::{FdList, FdRow};
use crate::model::payload::Payload;

/// `fds`: the descriptors of one process.
pub struct FdsReport {
    pub list: FdList,
    /// What to suggest for targets that were denied.
    pub denied_hint: &'static str,
}

impl Payload for FdsReport {
    const COMMAND: &'static str = "fds";
    type Document = FdList;
    type Row = FdRow;

    fn document(&self) -> &FdList {
        &self.list
    }

    fn rows(&self) -> Option<&[FdRow]> {
        Some(&self.list.fds)
    }
}
