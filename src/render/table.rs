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

impl Align {
    /// Numbers to the right, text to the left.
    pub fn for_numeric(numeric: bool) -> Self {
        if numeric { Align::Right } else { Align::Left }
    }
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
    write_rows(columns, &rows, style, |row| {
        row.iter().map(|cell| (cell.text.as_str(), cell.tone))
    })
}

/// Like [`render_columns`], for a table whose cells are made on demand: `cell(row, column)`
/// gives a cell's text (`None` past the row's last cell). Each row's cells are kept as one
/// line of text (one allocation) until the widths are known, rather than a string per
/// cell: a 10000-process listing would keep 130000 of them.
pub fn render_cells<'a>(
    columns: &[Column],
    row_count: usize,
    style: Style,
    mut cell: impl FnMut(usize, usize) -> Option<Cow<'a, Text>>,
) -> String {
    let lines: Vec<Line> = (0..row_count)
        .map(|row| Line::new((0..columns.len()).map_while(|column| cell(row, column))))
        .collect();
    write_rows(columns, &lines, style, Line::cells)
}

/// Below this many rows a table's lines are made on one thread: starting another costs more.
const PARALLEL_ROWS: usize = 2048;

/// Like [`render_cells`], for a table whose cells `row(index)` makes a row at a time. The
/// rows of a long table (10000 threads) are made on two threads, each row on its own.
pub fn render_rows(
    columns: &[Column],
    row_count: usize,
    style: Style,
    row: impl Fn(usize) -> Vec<Text> + Sync,
) -> String {
    let line = |index| Line::new(row(index).iter().map(Cow::Borrowed));
    let lines: Vec<Line> = if row_count < PARALLEL_ROWS {
        (0..row_count).map(line).collect()
    } else {
        let half = row_count / 2;
        std::thread::scope(|scope| {
            let second = scope.spawn(|| (half..row_count).map(line).collect::<Vec<_>>());
            let mut lines: Vec<Line> = Vec::with_capacity(row_count);
            lines.extend((0..half).map(line));
            lines.extend(
                second
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
            lines
        })
    };
    write_rows(columns, &lines, style, Line::cells)
}

/// One row's escaped cell texts, one after another, with where each ends and its tone.
struct Line {
    text: Box<str>,
    cells: Box<[(u32, Tone)]>,
}

impl Line {
    fn new<'a>(cells: impl Iterator<Item = Cow<'a, Text>>) -> Self {
        let mut text = String::new();
        let mut ends = Vec::new();
        for cell in cells {
            text.push_str(cell.text.as_str());
            // A line is far below 4 GiB (command lines are cut at 256 KiB).
            ends.push((text.len() as u32, cell.tone));
        }
        Self {
            text: text.into_boxed_str(),
            cells: ends.into_boxed_slice(),
        }
    }

    fn cells(&self) -> impl Iterator<Item = (&str, Tone)> {
        let mut start = 0;
        self.cells.iter().map(move |&(end, tone)| {
            let text = &self.text[start..end as usize];
            start = end as usize;
            (text, tone)
        })
    }
}

/// Renders `rows`, whose cells (escaped text and tone) `cells` gives, under the headers.
fn write_rows<'r, R, I>(
    columns: &[Column],
    rows: &'r [R],
    style: Style,
    cells: impl Fn(&'r R) -> I,
) -> String
where
    I: Iterator<Item = (&'r str, Tone)>,
{
    if rows.is_empty() && !style.header {
        return String::new();
    }
    let headers: Vec<Escaped> = columns.iter().map(|c| Escaped::text(c.name)).collect();
    let mut widths: Vec<usize> = headers
        .iter()
        .map(|name| if style.header { name.width() } else { 0 })
        .collect();
    let mut cell_bytes = 0;
    for row in rows {
        for (width, (text, _)) in widths.iter_mut().zip(cells(row)) {
            *width = (*width).max(display_width(text));
            cell_bytes += text.len();
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
    let mut out = String::with_capacity(cell_bytes + (rows.len() + 1) * padded.min(512));
    let mut line = String::new();
    if style.header {
        let cells = headers
            .iter()
            .zip(columns)
            .map(|(name, column)| (name.as_str(), column.align, Tone::Plain));
        push_line(&mut out, &mut line, cells, &widths, style, true);
    }
    for row in rows {
        let cells = cells(row)
            .zip(columns)
            .map(|((text, tone), column)| (text, column.align, tone));
        push_line(&mut out, &mut line, cells, &widths, style, false);
    }
    out
}

/// Appends one line of escaped cells, aligned to `widths`.
fn push_line<'a>(
    out: &mut String,
    line: &mut String,
    cells: impl Iterator<Item = (&'a str, Align, Tone)>,
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
        let text = if display_width(text) > width {
            cut = match width {
                0 | 1 => prefix_within(text, width).to_owned(),
                _ => prefix_within(text, width - 1).to_owned() + "…",
            };
            cut.as_str()
        } else {
            text
        };
        let pad = width.saturating_sub(display_width(text));
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
                line.push_str(text);
                line.push_str("\x1b[0m");
            }
            None => line.push_str(text),
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

/// The title of a per-process table: `PID 42  name  12 things: 3 of one, 9 of another`.
pub fn process_title(
    pid: u32,
    name: Option<&str>,
    count: &str,
    parts: &[String],
    style: &Style,
) -> String {
    let title = format!(
        "PID {pid}  {}  {count}: {}",
        name.unwrap_or("-"),
        parts.join(", ")
    );
    title_line(&Escaped::text(&title), style)
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
#[path = "table_tests.rs"]
mod tests;
