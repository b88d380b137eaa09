//! The set of per-process files a request needs now lives in the query layer.

// moved (issue 14): re-export until merge
pub use crate::query::needs::Needs;
