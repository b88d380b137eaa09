//! Plain aligned tables (comfy-table) in the style of `ps`: no borders, a header line,
//! optional colour, and lines cut to the terminal width.

use comfy_table::{Attribute, Cell, CellAlignment, Color, Table};

/// How tables look for this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub header: bool,
    pub color: bool,
    /// Cut every line to this many characters (a terminal, without `--wide`).
    pub width: Option<usize>,
}

/// Alignment of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A colour hint for a cell; applied only when colour is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tone {
    #[default]
    Plain,
    Dim,
    Good,
    Warn,
    Bad,
}

/// One table cell: its text (already escaped) and tone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub text: String,
    pub tone: Tone,
}

impl Text {
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            tone: Tone::Plain,
        }
    }

    pub fn toned(text: impl Into<String>, tone: Tone) -> Self {
        Self {
            text: text.into(),
            tone,
        }
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Self::plain(text)
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Self::plain(text)
    }
}

/// Renders rows under headers. Returns the text with a trailing newline (empty for no rows
/// and no header).
pub fn render(headers: &[(&str, Align)], rows: Vec<Vec<Text>>, style: Style) -> String {
    let mut table = Table::new();
    table.load_style(comfy_table::presets::NOTHING);
    if style.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    if style.header {
        table.set_header(headers.iter().map(|(name, align)| {
            let cell = Cell::new(name).set_alignment(alignment(*align));
            if style.color {
                cell.add_attribute(Attribute::Bold)
            } else {
                cell
            }
        }));
    }
    let row_count = rows.len();
    for row in rows {
        table.add_row(row.into_iter().zip(headers).map(|(text, (_, align))| {
            let cell = Cell::new(text.text).set_alignment(alignment(*align));
            match (style.color, text.tone) {
                (false, _) | (_, Tone::Plain) => cell,
                (true, Tone::Dim) => cell.fg(Color::DarkGrey),
                (true, Tone::Good) => cell.fg(Color::Green),
                (true, Tone::Warn) => cell.fg(Color::Yellow),
                (true, Tone::Bad) => cell.fg(Color::Red),
            }
        }));
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 1));
    }
    if row_count == 0 && !style.header {
        return String::new();
    }
    let mut out = String::new();
    for line in table.lines() {
        let line = line.trim_end();
        match style.width {
            Some(width) => out.push_str(&cut(line, width)),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

fn alignment(align: Align) -> CellAlignment {
    match align {
        Align::Left => CellAlignment::Left,
        Align::Right => CellAlignment::Right,
    }
}

/// Cuts a line to `width` visible characters, skipping ANSI escape sequences (which stay,
/// so colour is reset properly).
pub fn cut(line: &str, width: usize) -> String {
    let mut out = String::with_capacity(line.len().min(width * 2));
    let mut visible = 0;
    let mut chars = line.chars();
    while let Some(ch) = chars.next() {
        if ch == '\x1b' {
            out.push(ch);
            for next in chars.by_ref() {
                out.push(next);
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
            continue;
        }
        if visible < width {
            out.push(ch);
            visible += 1;
        }
    }
    out
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
    fn aligns_columns_without_borders() {
        let out = render(
            &[("PID", Align::Right), ("NAME", Align::Left)],
            vec![
                vec!["1".into(), "init".into()],
                vec!["1234".into(), "sleep".into()],
            ],
            PLAIN,
        );
        assert_eq!(out, " PID NAME\n   1 init\n1234 sleep\n");
    }

    #[test]
    fn no_header_and_cut() {
        let style = Style {
            header: false,
            color: false,
            width: Some(6),
        };
        let out = render(
            &[("PID", Align::Right), ("CMD", Align::Left)],
            vec![vec!["7".into(), "a-very-long-command".into()]],
            style,
        );
        assert_eq!(out, "7 a-ve\n");
    }

    #[test]
    fn cut_keeps_escape_sequences() {
        assert_eq!(cut("\x1b[1mabcdef\x1b[0m", 3), "\x1b[1mabc\x1b[0m");
    }
}
