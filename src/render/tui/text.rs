//! The one place the live view makes kernel bytes safe for the terminal (names, command
//! lines, paths): everything drawn from another process's data goes through here.

use crate::text::escape::Escaped;

/// Escaped text of raw bytes.
pub fn safe(bytes: &[u8]) -> String {
    Escaped::bytes(bytes).into_string()
}

/// Escaped text of a string that came from another process (already lossily UTF-8).
pub fn safe_str(text: &str) -> String {
    Escaped::text(text).into_string()
}
