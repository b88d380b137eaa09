//! Human units now live in the text layer.

// moved (issue 14): re-export until merge
pub use crate::text::units::*;
