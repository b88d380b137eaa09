//! Popups over the table: help, the sort column menu, the signal menu and the kill
//! confirmation with the bound target's command line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::text::safe_str;
use super::view::{KILL_SIGNALS, Popup, View};

/// The keys, as the help popup and the README list them.
pub const KEYS: &[(&str, &str)] = &[
    ("Up/Down PgUp/PgDn", "select a process (or click it)"),
    ("Enter", "detail pane: threads, fds, memory, ports, runtime"),
    ("Tab / Shift-Tab", "next / previous detail tab"),
    ("F6 s", "choose the sort column (Enter twice reverses)"),
    ("< >", "sort by the previous / next column"),
    ("I", "reverse the sort order"),
    ("/ F3", "filter by text (Enter keeps, Esc clears)"),
    ("t F5", "tree view"),
    ("H", "threads instead of processes"),
    ("F", "follow the selected process"),
    ("space z", "pause / resume"),
    ("+ -", "slower / faster refresh"),
    ("k F9", "send a signal (pidfd-bound, confirmed)"),
    ("? F1", "this help"),
    ("q F10 Ctrl-C", "quit"),
];

/// Draws the open popup, if any.
pub fn draw(frame: &mut Frame, area: Rect, view: &View) {
    let (title, lines): (&str, Vec<Line>) = match &view.popup {
        Popup::None => return,
        Popup::Help => (
            " Keys ",
            KEYS.iter()
                .map(|(key, what)| Line::from(format!("{key:<18} {what}")))
                .collect(),
        ),
        Popup::Sort(cursor) => (
            " Sort by ",
            menu(view.columns.iter().map(|c| c.name), *cursor),
        ),
        Popup::KillMenu(cursor) => (" Send signal ", menu(KILL_SIGNALS.iter().copied(), *cursor)),
        Popup::KillConfirm { lines, can_send } => {
            let mut text: Vec<Line> = lines.iter().map(|l| Line::from(safe_str(l))).collect();
            text.push(Line::from(""));
            text.push(Line::from(if *can_send {
                "y: send   any other key: cancel"
            } else {
                "nothing will be sent (any key)"
            }));
            (" Confirm ", text)
        }
    };
    let width = area.width.min(70);
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(title)),
        popup,
    );
}

fn menu<'a>(items: impl Iterator<Item = &'a str>, cursor: usize) -> Vec<Line<'static>> {
    items
        .enumerate()
        .map(|(i, item)| {
            let line = Line::from(format!(" {item} "));
            if i == cursor {
                line.style(Style::default().add_modifier(Modifier::REVERSED))
            } else {
                line
            }
        })
        .collect()
}
