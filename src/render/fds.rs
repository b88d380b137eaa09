//! The `fds` table: one line per descriptor under a title with the counts by type.

use crate::model::fd::{FdKind, FdRow};
use crate::model::fields::FdField;
use crate::model::report::FdsReport;
use crate::render::table::{self, Align, Text};
use crate::render::{Sheet, Style};
use crate::text::escape::Escaped;
use crate::text::units;

impl Sheet for FdsReport {
    fn table(&self, style: &Style) -> String {
        let list = &self.list;
        let mut out = String::new();
        if style.header {
            let counts: Vec<String> = list
                .by_type
                .iter()
                .map(|(kind, n)| format!("{n} {kind}"))
                .collect();
            let limit = list
                .soft_limit
                .map(|l| format!(" (soft limit {l})"))
                .unwrap_or_default();
            let count = units::count(list.fds.len() as u64, "fd", "fds") + &limit;
            let name = list.process_name.as_deref();
            out.push_str(&table::process_title(
                list.pid, name, &count, &counts, style,
            ));
        }
        let headers = [
            ("FD", Align::Right),
            ("TYPE", Align::Left),
            ("MODE", Align::Left),
            ("POS", Align::Right),
            ("TARGET", Align::Left),
        ];
        let rows = list
            .fds
            .iter()
            .map(|row| {
                let mode = match (&row.mode, &row.flags) {
                    (Some(mode), Some(flags)) if !flags.is_empty() => {
                        format!("{mode} {}", flags.join(","))
                    }
                    (Some(mode), _) => mode.clone(),
                    _ => "-".into(),
                };
                vec![
                    Text::plain(row.fd.to_string()),
                    Text::plain(row.kind.name()),
                    Text::plain(mode),
                    Text::plain(row.pos.map_or_else(|| "-".into(), |p| p.to_string())),
                    Text::plain(target_text(row)),
                ]
            })
            .collect();
        out.push_str(&table::render(&headers, rows, *style));
        out
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let unreadable = self
            .list
            .fds
            .iter()
            .filter(|f| f.unavailable.contains_key(&FdField::Target))
            .count();
        if unreadable > 0 {
            notes.push(format!(
                "the targets of {} could not be read (permission denied); {}",
                units::count(unreadable as u64, "fd", "fds"),
                self.denied_hint
            ));
        }
        let pipes = self
            .list
            .fds
            .iter()
            .filter(|f| f.kind == FdKind::Pipe)
            .count();
        if pipes > 0 && !self.list.peers_searched {
            notes.push(format!(
                "the other ends of {} were not searched: --peers names them (like lsof +E)",
                units::count(pipes as u64, "pipe", "pipes")
            ));
        }
        let denied = self.list.peer_scan_denied;
        if denied > 0 && self.list.fds.iter().any(|f| f.kind == FdKind::Pipe) {
            notes.push(format!(
                "pipe ends held by {} could not be checked: permission denied",
                units::count(denied as u64, "other process", "other processes")
            ));
        }
        notes
    }
}

/// The TARGET cell: the description, escaped, with a path that is not UTF-8 taken from its
/// exact bytes (so `\xff` shows as such, not as U+FFFD).
fn target_text(row: &FdRow) -> Escaped {
    use base64::Engine;
    let exact = row
        .target_b64
        .as_deref()
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok());
    match (exact, row.description.strip_prefix(&row.target)) {
        (Some(bytes), Some(rest)) => {
            let mut text = Escaped::bytes(&bytes);
            text.push_text(rest);
            text
        }
        _ => Escaped::text(&row.description),
    }
}
