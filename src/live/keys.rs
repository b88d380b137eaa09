//! The keys of the live view, as in htop: what each one does to the [`View`], and what the
//! event loop must do next.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::query::signal::parse_signal;

use super::view::Action;
use crate::render::tui::snapshot::TopRow;
use crate::render::tui::view::{KILL_SIGNALS, Popup, View};

/// Handles one key press; `selected` is the selected row of the current snapshot.
pub fn on_key(view: &mut View, key: KeyEvent, selected: Option<&TopRow>) -> Action {
    view.message = None;
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Action::Quit;
    }
    if view.editing_filter {
        edit_filter(view, key.code);
        return Action::Nothing;
    }
    match view.popup.clone() {
        Popup::None => {}
        Popup::Help => {
            view.popup = Popup::None;
            return Action::Nothing;
        }
        Popup::Sort(cursor) => return sort_menu(view, key.code, cursor),
        Popup::KillMenu(cursor) => return kill_menu(view, key.code, cursor, selected),
        Popup::KillConfirm { .. } => {
            view.popup = Popup::None;
            return match key.code {
                KeyCode::Char('y' | 'Y') => Action::ConfirmKill,
                _ => Action::CancelKill,
            };
        }
    }
    if view.detail.is_some() {
        match key.code {
            KeyCode::Esc | KeyCode::Enter | KeyCode::Backspace => {
                view.detail = None;
                return Action::Nothing;
            }
            KeyCode::Tab | KeyCode::Right => {
                view.step_tab(true);
                return Action::Refresh;
            }
            KeyCode::BackTab | KeyCode::Left => {
                view.step_tab(false);
                return Action::Refresh;
            }
            _ => {}
        }
    }
    table_key(view, key.code, selected)
}

/// Keys of the table (and those the detail pane leaves to it).
fn table_key(view: &mut View, code: KeyCode, selected: Option<&TopRow>) -> Action {
    match code {
        KeyCode::Char('q') | KeyCode::F(10) => return Action::Quit,
        KeyCode::Esc => view.filter.clear(),
        KeyCode::Up => view.move_selection(-1),
        KeyCode::Down => view.move_selection(1),
        KeyCode::PageUp => view.move_selection(-20),
        KeyCode::PageDown => view.move_selection(20),
        KeyCode::Home => view.move_selection(isize::MIN / 2),
        KeyCode::End => view.move_selection(isize::MAX / 2),
        KeyCode::Char('?') | KeyCode::F(1) | KeyCode::Char('h') => view.popup = Popup::Help,
        KeyCode::Char('/') | KeyCode::F(3) | KeyCode::F(4) => view.editing_filter = true,
        KeyCode::F(6) | KeyCode::Char('s') => view.popup = Popup::Sort(view.sort),
        KeyCode::Char('<') | KeyCode::Char(',') => view.shift_sort(false),
        KeyCode::Char('>') | KeyCode::Char('.') => view.shift_sort(true),
        KeyCode::Char('I') => view.reverse = !view.reverse,
        KeyCode::Char('t') | KeyCode::F(5) => view.tree = !view.tree,
        KeyCode::Char('H') => {
            view.threads = !view.threads;
            return Action::Refresh;
        }
        KeyCode::Char('F') => {
            view.follow = match view.follow {
                Some(_) => None,
                None => selected.map(|row| (row.pid, row.tid, row.start_ticks)),
            }
        }
        KeyCode::Char(' ') | KeyCode::Char('z') => view.paused = !view.paused,
        KeyCode::Char('+') | KeyCode::Char('=') => view.change_delay(true),
        KeyCode::Char('-') => view.change_delay(false),
        KeyCode::Char('k') | KeyCode::F(9) if selected.is_some() => view.popup = Popup::KillMenu(0),
        KeyCode::Enter => {
            if let Some(row) = selected {
                view.detail = Some(crate::render::tui::view::Tab::Threads);
                return Action::OpenDetail(row.pid, row.start_ticks);
            }
        }
        _ => {}
    }
    Action::Nothing
}

fn edit_filter(view: &mut View, code: KeyCode) {
    match code {
        KeyCode::Enter => view.editing_filter = false,
        KeyCode::Esc => {
            view.editing_filter = false;
            view.filter.clear();
        }
        KeyCode::Backspace => {
            view.filter.pop();
        }
        // Printable characters only: the filter is shown on screen.
        KeyCode::Char(c) if !c.is_control() && view.filter.len() < 256 => view.filter.push(c),
        _ => {}
    }
    view.selected = 0;
}

fn sort_menu(view: &mut View, code: KeyCode, cursor: usize) -> Action {
    let last = view.columns.len().saturating_sub(1);
    view.popup = match code {
        KeyCode::Up => Popup::Sort(cursor.saturating_sub(1)),
        KeyCode::Down => Popup::Sort((cursor + 1).min(last)),
        KeyCode::Enter => {
            view.sort_by(cursor);
            Popup::None
        }
        _ => Popup::None,
    };
    Action::Nothing
}

fn kill_menu(view: &mut View, code: KeyCode, cursor: usize, selected: Option<&TopRow>) -> Action {
    let last = KILL_SIGNALS.len() - 1;
    view.popup = Popup::None;
    match code {
        KeyCode::Up => view.popup = Popup::KillMenu(cursor.saturating_sub(1)),
        KeyCode::Down => view.popup = Popup::KillMenu((cursor + 1).min(last)),
        KeyCode::Enter => {
            if let (Some(row), Ok(signal)) = (selected, parse_signal(KILL_SIGNALS[cursor])) {
                return Action::PrepareKill(row.pid, row.start_ticks, signal);
            }
        }
        _ => {}
    }
    Action::Nothing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::lookup;
    use crate::live::view::Rebuild;
    use crate::render::tui::snapshot::Snapshot;
    use std::time::Duration;

    fn view() -> View {
        let columns = ["pid", "cpu", "name"]
            .iter()
            .filter_map(|n| lookup::find(n))
            .collect();
        View::new(columns, 0, false, Duration::from_secs(1))
    }

    fn press(view: &mut View, code: KeyCode) -> Action {
        on_key(view, KeyEvent::new(code, KeyModifiers::NONE), None)
    }

    #[test]
    fn filter_is_typed_and_cleared() {
        let mut view = view();
        press(&mut view, KeyCode::Char('/'));
        assert!(view.editing_filter);
        for c in "sle".chars() {
            press(&mut view, KeyCode::Char(c));
        }
        // Keys typed into the filter do not act: q is text here.
        assert_eq!(press(&mut view, KeyCode::Char('q')), Action::Nothing);
        assert_eq!(view.filter, "sleq");
        press(&mut view, KeyCode::Backspace);
        press(&mut view, KeyCode::Enter);
        assert_eq!(view.filter, "sle");
        assert!(!view.editing_filter);
        press(&mut view, KeyCode::Esc);
        assert!(view.filter.is_empty());
    }

    #[test]
    fn sort_keys_modes_and_quit() {
        let mut view = view();
        press(&mut view, KeyCode::Char('>'));
        assert_eq!(view.sort, 1);
        press(&mut view, KeyCode::Char('<'));
        press(&mut view, KeyCode::Char('<'));
        assert_eq!(view.sort, 2);
        press(&mut view, KeyCode::F(6));
        assert_eq!(view.popup, Popup::Sort(2));
        press(&mut view, KeyCode::Up);
        press(&mut view, KeyCode::Enter);
        assert_eq!((view.sort, view.popup.clone()), (1, Popup::None));
        press(&mut view, KeyCode::Char('t'));
        assert!(view.tree);
        assert_eq!(press(&mut view, KeyCode::Char('H')), Action::Refresh);
        assert!(view.threads);
        press(&mut view, KeyCode::Char(' '));
        assert!(view.paused);
        press(&mut view, KeyCode::Char('z'));
        assert!(!view.paused);
        press(&mut view, KeyCode::Char('?'));
        assert_eq!(view.popup, Popup::Help);
        press(&mut view, KeyCode::Char('x'));
        assert_eq!(view.popup, Popup::None);
        assert_eq!(press(&mut view, KeyCode::Char('q')), Action::Quit);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(on_key(&mut view, ctrl_c, None), Action::Quit);
    }

    #[test]
    fn refresh_interval_stays_in_bounds() {
        let mut view = view();
        for _ in 0..20 {
            press(&mut view, KeyCode::Char('-'));
        }
        assert_eq!(view.delay, Duration::from_millis(100));
        for _ in 0..20 {
            press(&mut view, KeyCode::Char('+'));
        }
        assert_eq!(view.delay, Duration::from_secs(60));
    }

    #[test]
    fn kill_needs_a_selection_and_follow_keeps_it() {
        let mut view = view();
        press(&mut view, KeyCode::Char('k'));
        assert_eq!(view.popup, Popup::None, "no row selected: no menu");
        view.rebuild(&Snapshot::default());
        assert_eq!(view.selected_index(), None);
    }
}
