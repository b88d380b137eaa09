//! Key/value sections (`show`): keys aligned, long values wrapped within the terminal width
//! in one linear pass (a 5 MB command line wraps in milliseconds), every line cut to it.

use unicode_segmentation::UnicodeSegmentation;

use super::table::{Style, Text, colour_code, cut, title_line};
use crate::text::escape::{Escaped, display_width};

/// Keys are padded to this width so that every section of a screen lines up.
const KEY_WIDTH: usize = 10;
/// Keys are indented by this many spaces, values follow the key after one space.
const INDENT: usize = 2;
/// Below this many columns for values, values are cut instead of wrapped.
const MIN_WRAP: usize = 8;

/// A titled block of `key value` lines, keys indented two spaces.
pub fn section(title: &Escaped, rows: Vec<(&'static str, Text)>, style: &Style) -> String {
    let mut out = if style.color {
        format!("\x1b[1m{}\x1b[0m\n", cut_to(style, title.as_str()))
    } else {
        title_line(title, style)
    };
    let key_width = rows
        .iter()
        .map(|(key, _)| display_width(key))
        .max()
        .unwrap_or(0)
        .max(KEY_WIDTH);
    let value_column = INDENT + key_width + 1;
    let wrap_at = style
        .width
        .map(|width| width.saturating_sub(value_column))
        .filter(|&room| room >= MIN_WRAP);
    for (key, value) in rows {
        let lines = match wrap_at {
            Some(room) => wrap(value.text.as_str(), room),
            None => vec![value.text.as_str()],
        };
        for (index, piece) in lines.into_iter().enumerate() {
            let mut line = String::with_capacity(value_column + piece.len() + 12);
            line.extend(std::iter::repeat_n(' ', INDENT));
            if index == 0 {
                line.push_str(key);
                line.extend(std::iter::repeat_n(' ', key_width - display_width(key) + 1));
            } else {
                line.extend(std::iter::repeat_n(' ', key_width + 1));
            }
            match colour_code(value.tone).filter(|_| style.color) {
                Some(code) => line.push_str(&format!("\x1b[{code}m{piece}\x1b[0m")),
                None => line.push_str(piece),
            }
            out.push_str(cut_to(style, line.trim_end()).as_str());
            out.push('\n');
        }
    }
    out
}

fn cut_to(style: &Style, line: &str) -> String {
    match style.width {
        Some(width) => cut(line, width),
        None => line.to_owned(),
    }
}

/// Splits escaped text into lines at most `room` columns wide, breaking after the last
/// space that fits, else between grapheme clusters. Each grapheme is looked at once.
fn wrap(text: &str, room: usize) -> Vec<&str> {
    if display_width(text) <= room {
        return vec![text];
    }
    let mut lines = Vec::new();
    let mut start = 0;
    let mut used = 0;
    // Where the line could break: the end of the text before the last space, the start of
    // the text after it, and the width from there.
    let mut space: Option<(usize, usize, usize)> = None;
    for (index, grapheme) in text.grapheme_indices(true) {
        let width = display_width(grapheme);
        if grapheme == " " && used + width > room {
            // The line is full exactly before a space: break there.
            lines.push(&text[start..index]);
            start = index + 1;
            used = 0;
            space = None;
            continue;
        }
        if used + width > room && used > 0 {
            match space.take().filter(|&(end, _, _)| end > start) {
                Some((end, next, since)) => {
                    lines.push(&text[start..end]);
                    start = next;
                    used = since;
                }
                None => {
                    lines.push(&text[start..index]);
                    start = index;
                    used = 0;
                }
            }
        }
        if grapheme == " " {
            space = Some((index, index + 1, 0));
        } else if let Some((_, _, since)) = &mut space {
            *since += width;
        }
        used += width;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Style = Style {
        header: true,
        color: false,
        width: None,
    };

    #[test]
    fn keys_align_and_long_values_wrap() {
        let out = section(
            &Escaped::text("CPU"),
            vec![("nice", Text::plain("0")), ("priority", Text::plain("20"))],
            &PLAIN,
        );
        assert_eq!(out, "CPU\n  nice       0\n  priority   20\n");
        let narrow = Style {
            width: Some(24),
            ..PLAIN
        };
        let out = section(
            &Escaped::text("P"),
            vec![("command", Text::plain("sleep 100 --one --two --three"))],
            &narrow,
        );
        assert_eq!(
            out,
            "P\n  command    sleep 100\n             --one --two\n             --three\n"
        );
    }

    #[test]
    fn wrap_breaks_at_spaces_else_anywhere_and_keeps_every_character() {
        assert_eq!(wrap("aaaa bbbb cc", 9), vec!["aaaa bbbb", "cc"]);
        assert_eq!(wrap("aaaa bbbb cc", 8), vec!["aaaa", "bbbb cc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("漢字漢字漢", 4), vec!["漢字", "漢字", "漢"]);
        let long = "word ".repeat(1000);
        let lines = wrap(&long, 11);
        assert!(lines.iter().all(|l| display_width(l) <= 11));
        assert_eq!(lines.concat().replace(' ', ""), long.replace(' ', ""));
    }

    #[test]
    fn every_line_is_cut_on_a_tiny_terminal() {
        let tiny = Style {
            width: Some(10),
            ..PLAIN
        };
        let out = section(
            &Escaped::text("PID 1  a-long-name"),
            vec![("command", Text::plain("x".repeat(50)))],
            &tiny,
        );
        assert!(out.lines().all(|l| display_width(l) <= 10), "{out}");
    }
}
