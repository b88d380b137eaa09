//! The `who` table: one line per process holding each file, like `lsof FILE`.

use crate::model::report::WhoReport;
use crate::model::who::FileHolder;
use crate::render::table::{self, Align, Column, Text};
use crate::render::{Sheet, Style, fit::Fit};
use crate::text::units;

impl Sheet for WhoReport {
    fn table(&self, style: &Style) -> String {
        let columns = [
            Column::new("PID", Align::Right, Fit::Keep),
            Column::new("PROCESS", Align::Left, Fit::Narrow { order: 2, min: 6 }),
            Column::new("USER", Align::Left, Fit::Drop(1)),
            Column::new("FD", Align::Left, Fit::Keep),
            Column::new("OFFSET", Align::Right, Fit::Drop(3)),
            Column::new("SIZE", Align::Right, Fit::Drop(4)),
            Column::new("PATH", Align::Left, Fit::Cut { order: 5, min: 10 }),
        ];
        let dash = || Text::plain("-");
        let mut rows = Vec::new();
        for file in &self.list.files {
            for holder in &file.holders {
                let mut path = Text::plain(holder.path.clone());
                if file.deleted {
                    path = Text::plain(format!("{} (deleted)", holder.path));
                }
                rows.push(vec![
                    Text::plain(holder.pid.to_string()),
                    holder.name.clone().map_or_else(dash, Text::plain),
                    holder.user.clone().map_or_else(dash, Text::plain),
                    Text::plain(fd_text(holder)),
                    holder
                        .offset
                        .map_or_else(dash, |o| Text::plain(o.to_string())),
                    file.size_bytes
                        .map_or_else(dash, |s| Text::plain(units::bytes(s))),
                    path,
                ]);
            }
        }
        if rows.is_empty() {
            return String::new();
        }
        table::render_columns(&columns, rows, *style)
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.list.files.is_empty() {
            notes.push(match self.list.mode.as_str() {
                "deleted" => "no deleted file is held open".into(),
                _ => "no process holds it".into(),
            });
        }
        if self.list.denied_processes > 0 {
            notes.push(format!(
                "{} process(es) could not be read (permission denied); run as root to see every holder",
                self.list.denied_processes
            ));
        }
        notes
    }
}

/// The FD column the way lsof writes it: `3r`, `cwd`, `rtd`, `txt`, `mem`.
fn fd_text(holder: &FileHolder) -> String {
    match (holder.access.as_str(), holder.fd) {
        ("fd", Some(fd)) => {
            let mode = match holder.mode.as_deref() {
                Some("r") => "r",
                Some("w") => "w",
                Some(_) => "u",
                None => "",
            };
            format!("{fd}{mode}")
        }
        ("cwd", _) => "cwd".into(),
        ("root", _) => "rtd".into(),
        ("exe", _) => "txt".into(),
        _ => "mem".into(),
    }
}
