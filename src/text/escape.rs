//! The one escape function for every byte that reaches a terminal, and [`Escaped`], the only
//! text type the table and sheet renderers accept: its constructors escape, so a process
//! name, argument, path, socket name, cgroup, environment value or error message quoting
//! user input can never move the cursor, retitle a window, reorder text or hide characters.

use std::fmt::Write;

use unicode_segmentation::UnicodeSegmentation;

/// Text that is safe to print on a terminal. Built only by escaping (see [`escape_into`]),
/// so it holds no control, bidi or zero-width code point; `\` only starts an escape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Escaped(String);

impl Escaped {
    /// Escapes bytes from the kernel (invalid UTF-8 becomes `\xNN`).
    pub fn bytes(bytes: &[u8]) -> Self {
        let mut out = String::with_capacity(bytes.len());
        escape_into(&mut out, bytes);
        Self(out)
    }

    /// Escapes text.
    pub fn text(text: &str) -> Self {
        Self::bytes(text.as_bytes())
    }

    /// Literal drawing text written in this program (`\\_ ` of a ps forest): kept as is,
    /// backslashes included, but still escaped in every other way.
    pub fn literal(text: &'static str) -> Self {
        let mut out = String::with_capacity(text.len());
        for (index, piece) in text.split('\\').enumerate() {
            if index > 0 {
                out.push('\\');
            }
            escape_into(&mut out, piece.as_bytes());
        }
        Self(out)
    }

    /// Joins escaped parts with an (escaped) separator.
    pub fn join(parts: impl IntoIterator<Item = Escaped>, separator: &str) -> Self {
        let separator = Self::text(separator);
        let mut out = Self::default();
        for (index, part) in parts.into_iter().enumerate() {
            if index > 0 {
                out.push(&separator);
            }
            out.push(&part);
        }
        out
    }

    /// Appends escaped text.
    pub fn push(&mut self, other: &Escaped) {
        self.0.push_str(&other.0);
    }

    /// Appends text, escaping it.
    pub fn push_text(&mut self, text: &str) {
        escape_into(&mut self.0, text.as_bytes());
    }

    /// Appends bytes, escaping them.
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        escape_into(&mut self.0, bytes);
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Width in terminal columns.
    pub fn width(&self) -> usize {
        display_width(&self.0)
    }

    /// The longest prefix at most `width` columns wide, cut between grapheme clusters, so a
    /// combining mark stays with its letter and a wide character is never split.
    pub fn cut(&self, width: usize) -> Escaped {
        Self(prefix_within(&self.0, width).to_owned())
    }
}

/// The longest prefix of printable text at most `width` columns wide, ending between
/// grapheme clusters.
pub fn prefix_within(text: &str, width: usize) -> &str {
    if text.is_ascii() {
        return &text[..text.len().min(width)];
    }
    let mut used = 0;
    let mut end = 0;
    for (start, grapheme) in text.grapheme_indices(true) {
        used += display_width(grapheme);
        if used > width {
            break;
        }
        end = start + grapheme.len();
    }
    &text[..end]
}

impl From<&str> for Escaped {
    fn from(text: &str) -> Self {
        Self::text(text)
    }
}

impl From<String> for Escaped {
    /// Keeps the string itself when nothing in it needs escaping (printable ASCII without a
    /// backslash): most cells of a table, which would otherwise be copied once more.
    fn from(text: String) -> Self {
        if text
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'\\')
        {
            return Self(text);
        }
        Self::text(&text)
    }
}

impl From<&String> for Escaped {
    fn from(text: &String) -> Self {
        Self::text(text)
    }
}

/// Width of printable text in terminal columns.
pub fn display_width(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        unicode_width::UnicodeWidthStr::width(text)
    }
}

/// Escapes `bytes` onto `out`: `\n \t \r \e`, other C0 controls and DEL as `\xNN`,
/// backslash as `\\`, C1 controls, bidi controls, zero-width and other invisible format
/// characters and line/paragraph separators as `\u{NNNN}`, invalid UTF-8 as `\xNN` (always
/// `\x80`–`\xff`, so it never collides with an escaped control). Everything else is kept.
pub fn escape_into(out: &mut String, bytes: &[u8]) {
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        if !valid.bytes().any(needs_look) {
            out.push_str(valid);
        } else {
            for ch in valid.chars() {
                push_char(out, ch);
            }
        }
        for &byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
}

/// Whether a byte may start something to escape (fast path for plain ASCII text).
fn needs_look(byte: u8) -> bool {
    byte < 0x20 || byte == b'\\' || byte >= 0x7f
}

fn push_char(out: &mut String, ch: char) {
    match ch {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\x1b' => out.push_str("\\e"),
        c if (c as u32) < 0x20 || c == '\x7f' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if is_hidden(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// Code points a terminal does not show as themselves: C1 controls, bidi controls and
/// marks, zero-width and invisible format characters, line/paragraph separators, the BOM,
/// interlinear annotations and tag characters.
pub fn is_hidden(ch: char) -> bool {
    matches!(
        ch as u32,
        0x80..=0x9f
            | 0xad
            | 0x61c
            | 0x180e
            | 0x200b..=0x200f
            | 0x2028..=0x202e
            | 0x2060..=0x2064
            | 0x2066..=0x2069
            | 0xfeff
            | 0xfff9..=0xfffb
            | 0xe0000..=0xe007f
    )
}

/// A JSON document for a terminal: the same value, with every control, bidi and zero-width
/// code point inside its strings written as a `\uXXXX` escape (serde_json leaves C1 and
/// the others raw, and a terminal acts on U+009B as on `ESC [`).
pub fn json_for_terminal(json: &str) -> String {
    if !json.bytes().any(|byte| byte >= 0x7f) {
        return json.to_owned();
    }
    let mut out = String::with_capacity(json.len());
    for ch in json.chars() {
        if ch == '\x7f' || is_hidden(ch) {
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(ch);
        }
    }
    out
}

/// The table form of a text field: its exact bytes (from the base64 form when the bytes are
/// not UTF-8), escaped.
pub fn exact_text(text: &str, b64: Option<&str>) -> Escaped {
    use base64::Engine;
    match b64.and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok()) {
        Some(bytes) => Escaped::bytes(&bytes),
        None => Escaped::text(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escape(bytes: &[u8]) -> String {
        Escaped::bytes(bytes).into_string()
    }

    #[test]
    fn an_owned_string_is_escaped_like_a_borrowed_one() {
        for text in [
            "plain 1.5 MiB",
            "a\\nb",
            "x\ny\u{1b}",
            "ünïcode",
            "tab\there",
            "~ ok",
        ] {
            assert_eq!(
                Escaped::from(text.to_owned()),
                Escaped::text(text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(escape(b"a) R 1 (b"), "a) R 1 (b");
        assert_eq!(escape("ünïcode 漢字".as_bytes()), "ünïcode 漢字");
    }

    #[test]
    fn controls_and_invalid_bytes_become_visible() {
        let escaped = escape(b"x\ny\x1b[31m\xff\x07\x7f\xc2\x85");
        assert_eq!(escaped, "x\\ny\\e[31m\\xff\\x07\\x7f\\u{85}");
        assert!(escaped.bytes().all(|b| b >= 0x20 && b != 0x7f));
    }

    #[test]
    fn backslash_bidi_and_zero_width_are_escaped() {
        assert_eq!(escape(b"a\\nb"), "a\\\\nb");
        assert_ne!(escape(b"a\\nb"), escape(b"a\nb"));
        assert_eq!(
            escape("s\u{200b}s\u{200d}hd".as_bytes()),
            "s\\u{200b}s\\u{200d}hd"
        );
        assert_eq!(
            escape("x\u{202e}gpj.exe\u{2066}\u{feff}\u{2028}".as_bytes()),
            "x\\u{202e}gpj.exe\\u{2066}\\u{feff}\\u{2028}"
        );
    }

    #[test]
    fn literal_keeps_its_backslash_only() {
        assert_eq!(Escaped::literal("\\_ \x1b").as_str(), "\\_ \\e");
    }

    #[test]
    fn cut_counts_columns_and_keeps_graphemes_whole() {
        let cjk = Escaped::text("漢字漢字");
        assert_eq!(cjk.width(), 8);
        assert_eq!(cjk.cut(5).as_str(), "漢字");
        let combining = Escaped::text("e\u{301}e\u{301}e\u{301}");
        assert_eq!(combining.width(), 3);
        assert_eq!(combining.cut(2).as_str(), "e\u{301}e\u{301}");
        assert_eq!(Escaped::text("abc").cut(2).as_str(), "ab");
    }

    #[test]
    fn terminal_json_escapes_c1_and_bidi_inside_strings() {
        let json = "{\"a\": \"x\u{9b}31m\u{85}\u{202e}\u{1f600}\x7f\"}";
        let safe = json_for_terminal(json);
        assert_eq!(
            safe,
            "{\"a\": \"x\\u009b31m\\u0085\\u202e\u{1f600}\\u007f\"}"
        );
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        let orig: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(back, orig);
    }
}
