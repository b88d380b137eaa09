//! The process table: the columns of the `ps` registry, the sort column marked, new rows
//! and exited ones marked for one refresh, the selection highlighted, tree indentation on
//! the command (or name) column. Only the rows on screen are built.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Text;
use ratatui::widgets::{Cell, Row, Table};

use crate::columns::{Column, Kind, value};

use super::snapshot::Snapshot;
use super::text::safe;
use super::view::View;

/// The first row shown when `selected` must be on a screen of `height` rows.
pub fn offset(selected: usize, height: usize) -> usize {
    (selected + 1).saturating_sub(height.max(1))
}

/// Draws the table into `area`; returns the first row index shown.
pub fn draw(frame: &mut Frame, area: Rect, snapshot: &Snapshot, view: &View) -> usize {
    let body = usize::from(area.height.saturating_sub(1));
    let exited_lines = snapshot.exited.len().min(body / 4);
    let height = body.saturating_sub(exited_lines);
    let first = offset(view.selected, height);
    let tree_column = view
        .columns
        .iter()
        .position(|c| c.name == "cmd")
        .or_else(|| view.columns.iter().position(|c| c.name == "name"));
    let marked = |style: Style| if view.color { style } else { Style::default() };
    let mut rows: Vec<Row> = view
        .visible
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(at, visible)| {
            let row = &snapshot.rows[visible.index];
            let cells = row.cells.iter().enumerate().map(|(i, cell)| {
                let mut text = value::table_text(cell, snapshot.taken_unix).into_string();
                if Some(i) == tree_column && visible.depth > 0 {
                    text = format!("{}└ {text}", "  ".repeat(visible.depth - 1));
                }
                aligned(text, view.columns[i])
            });
            let mut style = if row.fresh {
                marked(Style::default().fg(Color::Green))
            } else {
                Style::default()
            };
            if at == view.selected {
                style = style.add_modifier(Modifier::REVERSED);
            }
            Row::new(cells.collect::<Vec<_>>()).style(style)
        })
        .collect();
    for gone in snapshot.exited.iter().take(exited_lines) {
        let mut cells = vec![String::new(); view.columns.len()];
        if let Some(first) = cells.first_mut() {
            *first = gone.pid.to_string();
        }
        if let Some(last) = cells.last_mut() {
            *last = format!("(exited) {}", safe(&gone.name));
        }
        rows.push(Row::new(cells).style(marked(Style::default().fg(Color::Red))));
    }
    let headers = view.columns.iter().enumerate().map(|(i, c)| {
        let header = if i == view.sort {
            format!("{}{}", c.header, if view.reverse { "▼" } else { "▲" })
        } else {
            c.header.to_owned()
        };
        aligned(header, c)
    });
    let header_style = if view.color {
        Style::default().bg(Color::Blue).fg(Color::White)
    } else {
        Style::default().add_modifier(Modifier::BOLD)
    };
    let widths: Vec<Constraint> = view.columns.iter().map(|c| width(c)).collect();
    let table = Table::new(rows, widths)
        .header(Row::new(headers.collect::<Vec<_>>()).style(header_style))
        .column_spacing(1);
    frame.render_widget(table, area);
    first
}

/// A cell aligned as its column: numbers right, text left.
fn aligned(text: String, column: &Column) -> Cell<'static> {
    let alignment = if column.kind.is_numeric() {
        Alignment::Right
    } else {
        Alignment::Left
    };
    Cell::from(Text::from(text).alignment(alignment))
}

/// A column's width on screen: numbers fixed, text sized to fit, the command takes the rest.
fn width(column: &Column) -> Constraint {
    match (column.name, column.kind) {
        ("cmd", _) => Constraint::Fill(1),
        ("pid" | "ppid" | "tid" | "tgid" | "pgid" | "sid", _) => Constraint::Length(7),
        ("state" | "core" | "nice" | "priority", _) => Constraint::Length(4),
        (_, Kind::Percent) => Constraint::Length(6),
        (_, Kind::Bytes) => Constraint::Length(7),
        (_, Kind::CpuSeconds | Kind::Duration | Kind::Timestamp) => Constraint::Length(9),
        (_, Kind::Integer) => Constraint::Length(6),
        ("wait", _) => Constraint::Length(18),
        (_, Kind::Label) => Constraint::Length(9),
        (_, Kind::Runtime) => Constraint::Length(14),
        (_, Kind::Container) => Constraint::Length(20),
        (_, Kind::RawText | Kind::Argv) => Constraint::Length(16),
    }
}
