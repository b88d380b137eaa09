//! The `threads` table: one line per thread under a title with the counts by state.

use std::collections::BTreeMap;

use crate::model::Unavailable;
use crate::model::fields::ThreadField;
use crate::model::report::ThreadsReport;
use crate::model::thread::ThreadRow;
use crate::parse::codes::state_name;
use crate::render::table::{self, Align, Column, Fit, Text, Tone};
use crate::render::{Sheet, Style};
use crate::text::escape::{Escaped, exact_text};
use crate::text::units;

impl Sheet for ThreadsReport {
    fn table(&self, style: &Style) -> String {
        let list = &self.list;
        let with_roles = list.threads.iter().any(|t| t.role.is_some());
        // On a narrow terminal the counters give way first, then names are cut, so WAIT and
        // PC (the answer to "what is it doing") stay readable at 80 columns.
        let mut columns = vec![
            Column::new("TID", Align::Right, Fit::Keep),
            Column::new("NAME", Align::Left, Fit::Narrow { order: 8, min: 8 }),
        ];
        if with_roles {
            columns.push(Column::new(
                "ROLE",
                Align::Left,
                Fit::Narrow { order: 7, min: 10 },
            ));
        }
        let explain = with_roles && self.explain;
        columns.extend([
            Column::new("S", Align::Left, Fit::Keep),
            Column::new("%CPU", Align::Right, Fit::Keep),
            Column::new("USER", Align::Right, Fit::Drop(3)),
            Column::new("SYS", Align::Right, Fit::Drop(2)),
            Column::new("CPU", Align::Right, Fit::Drop(4)),
            Column::new("CTXSW", Align::Right, Fit::Drop(1)),
            Column::new("STACK", Align::Right, Fit::Drop(5)),
            Column::new("WAIT", Align::Left, Fit::Keep),
        ]);
        let last = Fit::Cut { order: 6, min: 32 };
        columns.push(if explain {
            Column::new("EVIDENCE", Align::Left, last)
        } else {
            Column::new("PC", Align::Left, last)
        });
        // Each row's cells are made when its line is (one string a row is kept, not one a
        // cell), the rows of a long list on two threads.
        let rendered = table::render_rows(&columns, list.threads.len(), *style, |row| {
            table_row(&list.threads[row], with_roles, explain)
        });
        let mut out = String::new();
        if style.header {
            let states: Vec<String> = list
                .by_state
                .iter()
                .map(|(state, n)| format!("{n} {}", state_name(state.as_bytes()[0])))
                .collect();
            let count = units::count(list.threads.len() as u64, "thread", "threads");
            let name = list.process_name.as_deref();
            out.push_str(&table::process_title(
                list.pid, name, &count, &states, style,
            ));
            if let Some(summary) = &list.runtime_summary {
                out.push_str(&table::title_line(&Escaped::text(summary), style));
            }
        }
        out.push_str(&rendered);
        out
    }

    fn notes(&self) -> Vec<String> {
        let mut reasons: BTreeMap<Unavailable, usize> = BTreeMap::new();
        for thread in &self.list.threads {
            if let Some(why) = thread.unavailable.get(&ThreadField::Pc) {
                *reasons.entry(*why).or_default() += 1;
            }
        }
        reasons
            .into_iter()
            .map(|(why, n)| match why {
                Unavailable::PermissionDenied => format!(
                    "- means unavailable: WAIT, PC and STACK of {} need ptrace access ({})",
                    units::count(n as u64, "thread", "threads"),
                    self.denied_hint
                ),
                Unavailable::Running => format!(
                    "- means unavailable: {} running when sampled; --samples N re-reads them",
                    units::count(n as u64, "thread was", "threads were")
                ),
                other => format!(
                    "- means unavailable: {other} ({})",
                    units::count(n as u64, "thread", "threads")
                ),
            })
            .collect()
    }
}

fn table_row(t: &ThreadRow, with_roles: bool, explain: bool) -> Vec<Text> {
    let dash = || Text::toned("-", Tone::Dim);
    let text = |value: Option<String>| value.map_or_else(dash, Text::plain);
    // Borrowed text is escaped straight from the row (no copy made first).
    let borrowed = |value: Option<&str>| value.map_or_else(dash, Text::plain);
    let name = t
        .name
        .as_ref()
        .map(|name| exact_text(name, t.name_b64.as_deref()));
    // Every cell's room at once (up to 12 cells).
    let mut row = Vec::with_capacity(12);
    row.push(Text::plain(t.tid.to_string()));
    row.push(name.map_or_else(dash, Text::plain));
    if with_roles {
        let role = t.role.as_ref().map(|role| match &t.role_name {
            Some(name) => format!("{role} ({name})"),
            None => role.to_string(),
        });
        row.push(text(role));
    }
    let state_tone = match t.state.as_deref() {
        Some("R") => Tone::Good,
        Some("D") => Tone::Warn,
        Some("Z" | "T" | "t") => Tone::Bad,
        _ => Tone::Plain,
    };
    row.push(
        t.state
            .as_deref()
            .map_or_else(dash, |s| Text::toned(s, state_tone)),
    );
    row.push(text(t.cpu_percent.map(units::percent)));
    row.push(text(t.user_seconds.map(units::cpu_time)));
    row.push(text(t.system_seconds.map(units::cpu_time)));
    row.push(text(t.last_cpu.map(|c| c.to_string())));
    row.push(text(
        t.voluntary_ctxt_switches
            .zip(t.nonvoluntary_ctxt_switches)
            .map(|(v, n)| format!("{v}/{n}")),
    ));
    row.push(text(t.stack.map(|s| {
        if s.main {
            format!("{} main", units::bytes(s.size_bytes))
        } else {
            units::bytes(s.size_bytes)
        }
    })));
    row.push(borrowed(t.wait.as_deref()));
    if explain {
        row.push(borrowed(t.role_evidence.as_ref().map(|e| e.rule.as_str())));
    } else {
        row.push(borrowed(t.pc_text.as_deref()));
    }
    row
}
