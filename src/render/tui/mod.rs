//! Drawing the live view with ratatui: the machine summary, the process table, the detail
//! pane, a status line and popups. Pure drawing from the view's state; the event loop is in
//! `live::app`. The types it draws (snapshot, view state, detail pane) are its own view
//! types, filled by the live view.

pub mod detail;
pub mod header;
pub mod pane;
pub mod popup;
pub mod runtime_load;
pub mod snapshot;
pub mod table;
pub mod text;
pub mod view;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::model::machine::Machine;

use pane::DetailPane;
use snapshot::Snapshot;
use view::View;

/// Everything one frame shows.
pub struct Screen<'a> {
    pub snapshot: &'a Snapshot,
    pub machine: &'a Machine,
    pub view: &'a View,
    pub detail: Option<&'a DetailPane>,
}

/// Where the table's rows landed, for mouse clicks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drawn {
    /// The screen row of the first table row (below its header).
    pub body_top: u16,
    pub body_height: u16,
    /// The index (in the view's visible rows) of the first row shown.
    pub first: usize,
}

/// Draws a frame.
pub fn draw(frame: &mut Frame, screen: &Screen) -> Drawn {
    let area = frame.area();
    let header = header::styled(screen.machine, screen.snapshot, screen.view.color);
    let header_height = (header.len() as u16).min(area.height / 3);
    let [top, middle, status] = Layout::vertical([
        Constraint::Length(header_height),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(header), top);
    let table_area = match (screen.view.detail, screen.detail) {
        (Some(tab), Some(detail)) => {
            let [upper, lower] =
                Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)])
                    .areas(middle);
            detail::draw(frame, lower, detail, tab);
            upper
        }
        _ => middle,
    };
    let first = table::draw(frame, table_area, screen.snapshot, screen.view);
    frame.render_widget(Paragraph::new(status_line(screen)), status);
    popup::draw(frame, area, screen.view);
    Drawn {
        body_top: table_area.y + 1,
        body_height: table_area.height.saturating_sub(1),
        first,
    }
}

/// The bottom line: the filter being typed, a message, or the modes and key hints.
fn status_line(screen: &Screen) -> Line<'static> {
    let view = screen.view;
    if view.editing_filter || !view.filter.is_empty() {
        let cursor = if view.editing_filter { "_" } else { "" };
        return Line::from(format!(
            "Filter: {}{cursor}  ({} shown)",
            text::safe_str(&view.filter),
            view.visible.len()
        ));
    }
    if let Some(message) = &view.message {
        return Line::from(text::safe_str(message))
            .style(Style::default().add_modifier(Modifier::BOLD));
    }
    let mut modes = vec![format!("every {:?}", view.delay)];
    for (on, name) in [
        (view.paused, "PAUSED"),
        (view.tree, "tree"),
        (view.threads, "threads"),
        (view.follow.is_some(), "follow"),
    ] {
        if on {
            modes.push(name.to_owned());
        }
    }
    Line::from(format!(
        "{}  {} rows  ?:help /:filter s:sort t:tree H:threads k:kill Enter:detail q:quit",
        modes.join(" "),
        view.visible.len()
    ))
}

#[cfg(test)]
mod tests;
