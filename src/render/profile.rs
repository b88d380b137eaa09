//! Tables and folded stacks for `profile`: per process the verdicts, one row per thread
//! (running share, top waits, top blocked frame) and one per role; `--folded` prints
//! `role;wait;frame count` lines for flamegraph.pl and speedscope.

use serde_json::{Map, Value as Json};

use crate::exit::Exit;
use crate::model::profile::{ProcessProfile, ProfileReport, ThreadProfile, WaitShare};
use crate::render::table::{self, Align, Column, Fit, Text, Tone};
use crate::render::{Report, Style, json};
use crate::text::escape::Escaped;

/// A profile, ready to render.
pub struct ProfileView {
    pub report: ProfileReport,
    /// Print folded stacks instead of the table.
    pub folded: bool,
}

impl Report for ProfileView {
    fn command(&self) -> &'static str {
        "profile"
    }

    fn json(&self) -> Map<String, Json> {
        json::members(&self.report)
    }

    fn table(&self, style: &Style) -> String {
        if self.folded {
            return folded(&self.report.processes);
        }
        let report = &self.report;
        let mut out = String::new();
        for process in &report.processes {
            if !out.is_empty() {
                out.push('\n');
            }
            if style.header {
                let title = format!(
                    "PID {}  {}  {} samples over {:.1} s at {} Hz{}",
                    process.pid,
                    process.name.as_deref().unwrap_or("-"),
                    report.ticks,
                    report.duration_seconds,
                    report.hz,
                    process
                        .runtime
                        .as_ref()
                        .map(|r| format!("  {}", r.label()))
                        .unwrap_or_default()
                );
                out.push_str(&table::title_line(&Escaped::text(&title), style));
                if let Some(summary) = &process.runtime_summary {
                    out.push_str(&table::title_line(&Escaped::text(summary), style));
                }
                for verdict in &process.verdicts {
                    let line = format!("  {}", verdict.text);
                    out.push_str(&table::title_line(&Escaped::text(&line), style));
                }
            }
            out.push_str(&threads_table(process, *style));
            out.push_str(&roles_table(process, *style));
        }
        out
    }

    fn notes(&self) -> Vec<String> {
        let denied = self
            .report
            .processes
            .iter()
            .flat_map(|p| &p.threads)
            .filter(|t| t.samples > 0 && t.waits.iter().all(|w| w.syscall.is_none()))
            .filter(|t| t.running_samples < t.samples)
            .count();
        let mut notes = Vec::new();
        if denied > 0 && self.report.processes.iter().any(|p| p.runtime.is_some()) {
            notes.push(format!(
                "note: {denied} thread(s) showed no system call while blocked: reading `syscall` needs ptrace access (root or the owner)"
            ));
        }
        notes
    }

    fn exit(&self) -> Exit {
        Exit::Success
    }
}

/// The top waits of a thread in a few words: `epoll_pwait(fd 14: …) 97%, running 3%`.
fn top_waits(waits: &[WaitShare], n: usize) -> String {
    waits
        .iter()
        .take(n)
        .map(|w| format!("{} {:.0}%", w.wait, w.percent))
        .collect::<Vec<_>>()
        .join(", ")
}

fn threads_table(process: &ProcessProfile, style: Style) -> String {
    let with_roles = process.threads.iter().any(|t| t.role.is_some());
    let mut columns = vec![
        Column::new("TID", Align::Right, Fit::Keep),
        Column::new("NAME", Align::Left, Fit::Narrow { order: 4, min: 8 }),
    ];
    if with_roles {
        columns.push(Column::new(
            "ROLE",
            Align::Left,
            Fit::Narrow { order: 3, min: 10 },
        ));
    }
    columns.extend([
        Column::new("RUN%", Align::Right, Fit::Keep),
        Column::new("CPU%", Align::Right, Fit::Drop(2)),
        Column::new("WAITS", Align::Left, Fit::Cut { order: 5, min: 24 }),
        Column::new("BLOCKED AT", Align::Left, Fit::Drop(1)),
    ]);
    let rows = process
        .threads
        .iter()
        .map(|t| thread_row(t, with_roles))
        .collect();
    table::render_columns(&columns, rows, style)
}

fn thread_row(t: &ThreadProfile, with_roles: bool) -> Vec<Text> {
    let dash = || Text::toned("-", Tone::Dim);
    let mut row = vec![
        Text::plain(t.tid.to_string()),
        t.name
            .as_deref()
            .map_or_else(dash, |n| Text::plain(Escaped::text(n))),
    ];
    if with_roles {
        let role = t.role.as_ref().map(|role| match &t.role_name {
            Some(name) => format!("{role} ({name})"),
            None => role.to_string(),
        });
        row.push(role.map_or_else(dash, |r| Text::plain(Escaped::text(&r))));
    }
    let tone = if t.running_percent >= 90.0 {
        Tone::Warn
    } else {
        Tone::Plain
    };
    row.push(Text::toned(format!("{:.0}", t.running_percent), tone));
    row.push(
        t.cpu_percent
            .map_or_else(dash, |c| Text::plain(format!("{c:.0}"))),
    );
    row.push(Text::plain(Escaped::text(&top_waits(&t.waits, 3))));
    row.push(
        t.top_pcs
            .first()
            .map_or_else(dash, |pc| Text::plain(Escaped::text(&pc.location))),
    );
    row
}

fn roles_table(process: &ProcessProfile, style: Style) -> String {
    if process.roles.len() < 2 {
        return String::new();
    }
    let columns = [
        Column::new("ROLE", Align::Left, Fit::Keep),
        Column::new("THREADS", Align::Right, Fit::Keep),
        Column::new("RUN%", Align::Right, Fit::Keep),
        Column::new("WAITS", Align::Left, Fit::Cut { order: 1, min: 24 }),
    ];
    let rows = process
        .roles
        .iter()
        .map(|r| {
            vec![
                Text::plain(Escaped::text(r.role.map_or("thread", |role| role.as_str()))),
                Text::plain(r.threads.to_string()),
                Text::plain(format!("{:.0}", r.running_percent)),
                Text::plain(Escaped::text(&top_waits(&r.waits, 3))),
            ]
        })
        .collect();
    let mut out = String::from("\n");
    out.push_str(&table::render_columns(&columns, rows, style));
    out
}

/// One frame of a folded stack: no `;` (the separator) and no line breaks; escaped.
fn frame(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c == ';' || c.is_control() { ':' } else { c })
        .collect();
    Escaped::text(&cleaned).into_string()
}

/// `role;wait;frame count` per thread role (prefixed by the PID when several processes).
fn folded(processes: &[ProcessProfile]) -> String {
    let mut out = String::new();
    let several = processes.len() > 1;
    for process in processes {
        let mut lines: std::collections::BTreeMap<String, u32> = Default::default();
        for thread in &process.threads {
            let role = thread.role.map_or_else(
                || thread.name.clone().unwrap_or_else(|| "thread".into()),
                |role| role.as_str().to_owned(),
            );
            let mut prefix = if several {
                format!("pid {};", process.pid)
            } else {
                String::new()
            };
            prefix.push_str(&frame(&role));
            for stack in &thread.stacks {
                let mut line = format!("{prefix};{}", frame(&stack.wait));
                if let Some(f) = &stack.frame {
                    line.push(';');
                    line.push_str(&frame(f));
                }
                *lines.entry(line).or_default() += stack.samples;
            }
        }
        for (line, count) in lines {
            out.push_str(&format!("{line} {count}\n"));
        }
    }
    out
}

/// The JSON Schema of `profile --json`.
pub fn schema() -> serde_json::Value {
    crate::render::json::document_schema(
        "profile",
        "procscope profile --json",
        crate::render::json::schema_of::<ProfileReport>(),
    )
}
