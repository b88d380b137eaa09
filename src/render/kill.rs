//! The `kill` results table and the `--list-signals` table.

use crate::model::kill::{KillOutcome, KillResult};
use crate::model::report::{KillReport, kill_succeeded};
use crate::render::table::{self, Align, Column, Fit, Text, Tone};
use crate::render::{Sheet, Style};
use crate::text::escape::Escaped;

/// The RESULT cell: the outcome's wire name, with the reason where it explains it.
fn result_text(result: &KillResult) -> String {
    let name = result.result.wire_name();
    match (&result.reason, result.result) {
        (Some(reason), KillOutcome::Refused) => format!("{name}: {reason}"),
        (Some(reason), KillOutcome::Zombie) => format!("{name} ({reason})"),
        _ => name,
    }
}

impl KillReport {
    /// NETNS is shown when the targets come from more than one network namespace.
    fn shows_netns(&self) -> bool {
        let mut spaces = self.payload.results.iter().filter_map(|r| r.netns);
        spaces
            .next()
            .is_some_and(|first| spaces.any(|other| other != first))
    }

    /// COMMAND is shown with --dry-run, so a selection can be checked before it is sent.
    fn shows_command(&self) -> bool {
        self.payload
            .results
            .iter()
            .any(|r| r.result == KillOutcome::WouldSignal)
    }
}

impl Sheet for KillReport {
    fn table(&self, style: &Style) -> String {
        // On a narrow terminal COMMAND, TIME, SIGNAL and NAME give way so RESULT stays readable.
        let mut columns = vec![
            Column::new("PID", Align::Right, Fit::Keep),
            Column::new("NAME", Align::Left, Fit::Narrow { order: 4, min: 4 }),
            Column::new("SIGNAL", Align::Left, Fit::Drop(2)),
            Column::new("RESULT", Align::Left, Fit::Cut { order: 3, min: 16 }),
            Column::new("TIME", Align::Right, Fit::Drop(1)),
        ];
        let (netns, command) = (self.shows_netns(), self.shows_command());
        if netns {
            columns.push(Column::new("NETNS", Align::Right, Fit::Drop(1)));
        }
        if command {
            columns.push(Column::new(
                "COMMAND",
                Align::Left,
                Fit::Narrow { order: 0, min: 8 },
            ));
        }
        let rows = self
            .payload
            .results
            .iter()
            .map(|r| {
                let tone = if kill_succeeded(r.result, self.waited) {
                    Tone::Good
                } else {
                    Tone::Bad
                };
                let mut row = vec![
                    Text::plain(r.pid.to_string()),
                    Text::plain(r.name.as_deref().unwrap_or("-")),
                    Text::plain(r.signal.clone()),
                    Text::toned(result_text(r), tone),
                    Text::plain(
                        r.exit_seconds
                            .map_or_else(|| "-".into(), |s| format!("{s:.3}s")),
                    ),
                ];
                if netns {
                    row.push(Text::plain(
                        r.netns.map_or_else(|| "-".into(), |n| n.to_string()),
                    ));
                }
                if command {
                    let argv = r.argv.as_deref().unwrap_or_default();
                    row.push(Text::plain(if argv.is_empty() {
                        Escaped::text(&format!("[{}]", r.name.as_deref().unwrap_or_default()))
                    } else {
                        Escaped::join(argv.iter().map(|a| Escaped::text(a)), " ")
                    }));
                }
                row
            })
            .collect();
        table::render_columns(&columns, rows, *style)
    }
}

/// The `--list-signals` table of `signals` (number, name without `SIG`, meaning).
pub fn signal_table(signals: &[(i32, &str, &str)]) -> String {
    let rows = signals
        .iter()
        .map(|(number, name, about)| {
            vec![
                Text::plain(number.to_string()),
                Text::plain(format!("SIG{name}")),
                Text::plain(*about),
            ]
        })
        .collect();
    table::help(
        &[
            ("NUMBER", Align::Right),
            ("NAME", Align::Left),
            ("MEANING", Align::Left),
        ],
        rows,
    )
}

/// The command line of a target for people: escaped arguments, or `[name]` when it has
/// none (a kernel thread, a zombie).
pub fn command_line(name: Option<&[u8]>, argv: &[Vec<u8>]) -> Escaped {
    if argv.is_empty() {
        let name = Escaped::bytes(name.unwrap_or_default());
        Escaped::join([Escaped::literal("["), name, Escaped::literal("]")], "")
    } else {
        Escaped::join(argv.iter().map(|arg| Escaped::bytes(arg)), " ")
    }
}
