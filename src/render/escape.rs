//! Making kernel bytes safe for a terminal: control characters and invalid UTF-8 become
//! visible escapes, so a process name can never inject terminal sequences.

use std::fmt::Write;

/// Escapes bytes for a table cell: `\n`, `\t`, `\e`, `\x07`, `\xff`; printable text as is.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for ch in chunk.valid().chars() {
            push_char(&mut out, ch);
        }
        for &byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// Escapes a text that is already UTF-8.
pub fn escape_str(text: &str) -> String {
    escape(text.as_bytes())
}

fn push_char(out: &mut String, ch: char) {
    match ch {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\x1b' => out.push_str("\\e"),
        c if (c as u32) < 0x20 || c == '\x7f' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        // C1 controls (U+0080..U+009F) are terminal controls too.
        c if ('\u{80}'..='\u{9f}').contains(&c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(escape(b"a) R 1 (b"), "a) R 1 (b");
        assert_eq!(escape("ünïcode".as_bytes()), "ünïcode");
    }

    #[test]
    fn controls_and_invalid_bytes_become_visible() {
        let escaped = escape(b"x\ny\x1b[31m\xff\x07\x7f\xc2\x85");
        assert_eq!(escaped, "x\\ny\\e[31m\\xff\\x07\\x7f\\u{85}");
        assert!(escaped.bytes().all(|b| b >= 0x20 && b != 0x7f));
    }
}
