//! Row listings in the style of `ps`: aligned columns, no borders, a header line, optional
//! colour, and lines cut to the terminal width.

use std::borrow::Cow;

pub use super::fit::Fit;
use super::fit::fit;
use crate::text::escape::prefix_within;
pub use crate::text::escape::{Escaped, display_width};

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

/// One table cell: its escaped text and tone. Every constructor escapes (see [`Escaped`]),
/// so nothing another user controls reaches the terminal raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub text: Escaped,
    pub tone: Tone,
}

impl Text {
    pub fn plain(text: impl Into<Escaped>) -> Self {
        Self {
            text: text.into(),
            tone: Tone::Plain,
        }
    }

    pub fn toned(text: impl Into<Escaped>, tone: Tone) -> Self {
        Self {
            text: text.into(),
            tone,
        }
    }

    /// Bytes from the kernel, escaped.
    pub fn bytes(bytes: &[u8]) -> Self {
        Self::plain(Escaped::bytes(bytes))
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

impl From<Escaped> for Text {
    fn from(text: Escaped) -> Self {
        Self::plain(text)
    }
}

/// A column of a table: its header, alignment, and how it gives way on a narrow terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column<'a> {
    pub name: &'a str,
    pub align: Align,
    pub fit: Fit,
}

impl<'a> Column<'a> {
    pub fn new(name: &'a str, align: Align, fit: Fit) -> Self {
        Self { name, align, fit }
    }
}

/// The table exporter: the report's table (or sheet) for people.
pub fn export(report: &dyn super::Report, style: &Style) -> Option<String> {
    Some(report.table(style))
}

/// Renders rows under headers, columns separated by one space, numbers right-aligned, the
/// last column unpadded. Returns the text with a trailing newline (empty for no rows and no
/// header). Hand-written rather than comfy-table: a 2000-row listing took comfy-table
/// 12.4 ms, a quarter of the whole `ps` budget; this takes well under 1 ms.
pub fn render(headers: &[(&str, Align)], rows: Vec<Vec<Text>>, style: Style) -> String {
    let columns: Vec<Column> = headers
        .iter()
        .map(|&(name, align)| Column::new(name, align, Fit::Keep))
        .collect();
    render_columns(&columns, rows, style)
}

/// Like [`render`], with columns that narrow or vanish (in their [`Fit`] order) when the
/// table is wider than the terminal, so the important ones stay readable.
pub fn render_columns(columns: &[Column], rows: Vec<Vec<Text>>, style: Style) -> String {
    render_cells(columns, rows.len(), style, |row, column| {
        rows[row].get(column).map(Cow::Borrowed)
    })
}

/// Like [`render_columns`], for a table whose cells are made on demand: `cell(row, column)`
/// gives a cell's text (`None` past the row's last cell). It is called twice per cell, once
/// to measure the columns and once to write, so no table of cell strings is ever held: a
/// 10000-process listing would keep 130000 of them.
pub fn render_cells<'a>(
    columns: &[Column],
    row_count: usize,
    style: Style,
    mut cell: impl FnMut(usize, usize) -> Option<Cow<'a, Text>>,
) -> String {
    if row_count == 0 && !style.header {
        return String::new();
    }
    let headers: Vec<Escaped> = columns.iter().map(|c| Escaped::text(c.name)).collect();
    let mut widths: Vec<usize> = headers
        .iter()
        .map(|name| if style.header { name.width() } else { 0 })
        .collect();
    let mut cell_bytes = 0;
    for row in 0..row_count {
        for (column, width) in widths.iter_mut().enumerate() {
            let Some(text) = cell(row, column) else { break };
            *width = (*width).max(text.text.width());
            cell_bytes += text.text.as_str().len();
        }
    }
    let widths: Vec<Option<usize>> = match style.width {
        Some(limit) => {
            let fits: Vec<Fit> = columns.iter().map(|c| c.fit).collect();
            fit(&widths, &fits, limit)
        }
        None => widths.into_iter().map(Some).collect(),
    };
    // Padding is bounded by the column widths, but the last column is unpadded: one long
    // command line must not reserve its width for every row.
    let padded: usize = widths.iter().flatten().sum::<usize>() + widths.len();
    let mut out = String::with_capacity(cell_bytes + (row_count + 1) * padded.min(512));
    let mut line = String::new();
    if style.header {
        let cells = headers
            .iter()
            .zip(columns)
            .map(|(name, column)| (name, column.align, Tone::Plain));
        push_line(&mut out, &mut line, cells, &widths, style, true);
    }
    let mut texts: Vec<Cow<Text>> = Vec::with_capacity(columns.len());
    for row in 0..row_count {
        texts.clear();
        texts.extend((0..columns.len()).map_while(|column| cell(row, column)));
        let cells = texts
            .iter()
            .zip(columns)
            .map(|(cell, column)| (&cell.text, column.align, cell.tone));
        push_line(&mut out, &mut line, cells, &widths, style, false);
    }
    out
}

fn push_line<'a>(
    out: &mut String,
    line: &mut String,
    cells: impl Iterator<Item = (&'a Escaped, Align, Tone)>,
    widths: &[Option<usize>],
    style: Style,
    header: bool,
) {
    line.clear();
    let last = widths.iter().rposition(Option::is_some).unwrap_or(0);
    let mut first = true;
    for (index, ((text, align, tone), width)) in cells.zip(widths).enumerate() {
        let Some(width) = *width else { continue };
        if !first {
            line.push(' ');
        }
        first = false;
        let cut;
        // A cell narrowed to fit ends in `…`, so a cut value never passes for a whole one.
        let text = if text.width() > width {
            cut = match width {
                0 | 1 => text.cut(width),
                _ => {
                    let mut shown = text.cut(width - 1);
                    shown.push_text("…");
                    shown
                }
            };
            &cut
        } else {
            text
        };
        let pad = width.saturating_sub(text.width());
        let padded_right = index < last && align == Align::Left;
        if align == Align::Right {
            line.extend(std::iter::repeat_n(' ', pad));
        }
        let code = if !style.color {
            None
        } else if header {
            Some("1")
        } else {
            tone_code(tone)
        };
        match code {
            Some(code) => {
                line.push_str("\x1b[");
                line.push_str(code);
                line.push('m');
                line.push_str(text.as_str());
                line.push_str("\x1b[0m");
            }
            None => line.push_str(text.as_str()),
        }
        if padded_right {
            line.extend(std::iter::repeat_n(' ', pad));
        }
    }
    let trimmed = line.trim_end();
    match style.width {
        Some(width) => out.push_str(&cut(trimmed, width)),
        None => out.push_str(trimmed),
    }
    out.push('\n');
}

fn tone_code(tone: Tone) -> Option<&'static str> {
    match tone {
        Tone::Plain => None,
        Tone::Dim => Some("2"),
        Tone::Good => Some("32"),
        Tone::Warn => Some("33"),
        Tone::Bad => Some("31"),
    }
}

/// The SGR code of a tone, for other renderers of escaped text (sheets).
pub(crate) fn colour_code(tone: Tone) -> Option<&'static str> {
    tone_code(tone)
}

/// A help table (`-o help`, `--list-signals`): header, no colour, never cut.
pub fn help(headers: &[(&str, Align)], rows: Vec<Vec<Text>>) -> String {
    render(
        headers,
        rows,
        Style {
            header: true,
            color: false,
            width: None,
        },
    )
}

/// A title or summary line above a table: escaped, cut to the terminal width, newline.
pub fn title_line(text: &Escaped, style: &Style) -> String {
    let mut line = match style.width {
        Some(width) if text.width() > width => text.cut(width).into_string(),
        _ => text.as_str().to_owned(),
    };
    line.push('\n');
    line
}

/// Cuts a rendered line to `width` terminal columns between grapheme clusters, skipping
/// the SGR colour sequences the renderer added (they stay, so colour is reset properly).
/// Cell text is escaped, so every ESC in the line is the renderer's own.
pub fn cut(line: &str, width: usize) -> String {
    let mut out = String::with_capacity(line.len().min(width * 2));
    let mut visible = 0;
    let mut rest = line;
    while !rest.is_empty() {
        let text_end = rest.find('\x1b').unwrap_or(rest.len());
        let (text, tail) = rest.split_at(text_end);
        if visible < width {
            let piece = prefix_within(text, width - visible);
            visible += display_width(piece);
            out.push_str(piece);
            if piece.len() < text.len() {
                visible = width;
            }
        }
        let sequence_end = tail
            .char_indices()
            .skip(1)
            .find(|(_, ch)| ch.is_ascii_alphabetic())
            .map_or(tail.len(), |(index, ch)| index + ch.len_utf8());
        out.push_str(&tail[..sequence_end]);
        rest = &tail[sequence_end..];
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
    fn one_long_last_cell_reserves_only_its_own_bytes() {
        let mut rows: Vec<Vec<Text>> = (0..10_000)
            .map(|pid| vec![Text::plain(pid.to_string()), Text::plain("sleep 1")])
            .collect();
        rows.push(vec![Text::plain("1"), Text::plain("x".repeat(1 << 20))]);
        let out = render(&[("PID", Align::Right), ("CMD", Align::Left)], rows, PLAIN);
        assert!(out.len() > 1 << 20);
        // Reserving the widest cell for every row would be 10 GB.
        assert!(out.capacity() < 8 << 20, "capacity {}", out.capacity());
    }

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
        let colored = render(
            &[("PID", Align::Right)],
            vec![vec![Text::toned("7", Tone::Bad)]],
            Style {
                header: true,
                color: true,
                width: None,
            },
        );
        assert_eq!(colored, "\x1b[1mPID\x1b[0m\n  \x1b[31m7\x1b[0m\n");
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

    #[test]
    fn cells_are_measured_and_cut_in_display_columns() {
        let style = Style {
            header: false,
            color: false,
            width: Some(20),
        };
        let cjk = "漢".repeat(40);
        let combining = "e\u{301}".repeat(12);
        let out = render(
            &[("PID", Align::Right), ("CMD", Align::Left)],
            vec![
                vec!["7".into(), cjk.as_str().into()],
                vec!["8".into(), combining.as_str().into()],
            ],
            style,
        );
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some(format!("7 {}", "漢".repeat(9)).as_str()));
        // Twelve letters with accents are twelve columns: nothing is cut.
        assert_eq!(lines.next(), Some(format!("8 {combining}").as_str()));
    }

    #[test]
    fn cells_that_give_way_end_in_an_ellipsis_and_dropped_columns_vanish() {
        let style = Style {
            header: true,
            color: false,
            width: Some(16),
        };
        let columns = [
            Column::new("PID", Align::Right, Fit::Keep),
            Column::new("NAME", Align::Left, Fit::Narrow { order: 1, min: 4 }),
            Column::new("TIME", Align::Right, Fit::Drop(0)),
            Column::new("RESULT", Align::Left, Fit::Keep),
        ];
        let out = render_columns(
            &columns,
            vec![vec![
                "1".into(),
                "systemd".into(),
                "0.1s".into(),
                "refused".into(),
            ]],
            style,
        );
        assert_eq!(out, "PID NAME RESULT\n  1 sys… refused\n");
    }
}
