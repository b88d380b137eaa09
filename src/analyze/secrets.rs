//! Which environment variables look secret now lives in the query layer (a request's policy).

// moved (issue 14): re-export until merge
pub use crate::query::secrets::*;
