//! What `kill` shows: the confirmation prompt, the results table, the exit code and the
//! schema. Decides nothing about which process is signalled.

use std::io::{BufRead, IsTerminal, Write};

use serde_json::{Map, Value as Json};

use crate::exit::{self, Exit};
use crate::model::kill::{KillOutcome, KillPayload, KillResult};
use crate::render::escape::Escaped;
use crate::render::json;
use crate::render::table::{self, Align, Column, Fit, Text, Tone};
use crate::render::{Report, Style};

use super::select::{Identity, Selected};
use super::{KillQuery, KillReport};

/// The command line of a target for people: escaped arguments, or `[name]` when it has
/// none (a kernel thread, a zombie).
fn command_text(identity: &Identity) -> String {
    if identity.argv.is_empty() {
        format!("[{}]", Escaped::bytes(&identity.name).into_string())
    } else {
        Escaped::join(identity.argv.iter().map(|arg| Escaped::bytes(arg)), " ").into_string()
    }
}

/// Lists the targets with their command lines (cut to the terminal width) and asks on the
/// terminal; without one, refuses (use `--yes`).
pub(super) fn confirm(selected: &[Selected], query: &KillQuery) -> anyhow::Result<()> {
    let willing: Vec<&Selected> = selected.iter().filter(|s| s.is_bound()).collect();
    if willing.is_empty() {
        return Ok(());
    }
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !interactive {
        return Err(exit::usage(format!(
            "{} process(es) selected by {}; confirm with --yes (no terminal to ask on), or see them with --dry-run",
            willing.len(),
            if query.tree {
                "tree"
            } else {
                "name, pattern, unit or port"
            }
        )));
    }
    let width = rustix::termios::tcgetwinsize(std::io::stderr())
        .ok()
        .map(|size| usize::from(size.ws_col))
        .filter(|&cols| cols > 0);
    let mut stderr = std::io::stderr().lock();
    for target in &willing {
        let command = target
            .identity
            .as_ref()
            .map(command_text)
            .unwrap_or_default();
        let line = format!("  {:>7} {command}", target.pid);
        let line = width.map_or_else(|| line.clone(), |w| table::cut(&line, w));
        writeln!(stderr, "{line}")?;
    }
    write!(
        stderr,
        "Send {} to these {} process(es)? [y/N] ",
        query.signal.full_name(),
        willing.len()
    )?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(exit::target("nothing signalled"))
    }
}

/// The RESULT cell: the outcome's wire name, with the reason where it explains it.
fn result_text(result: &KillResult) -> String {
    let name = result.result.wire_name();
    match (&result.reason, result.result) {
        (Some(reason), KillOutcome::Refused) => format!("{name}: {reason}"),
        (Some(reason), KillOutcome::Zombie) => format!("{name} ({reason})"),
        _ => name,
    }
}

/// True when a target got what was asked (a zombie only when the run waited for exits).
fn succeeded(outcome: KillOutcome, waited: bool) -> bool {
    match outcome {
        KillOutcome::Signalled
        | KillOutcome::Exited
        | KillOutcome::Escalated
        | KillOutcome::WouldSignal => true,
        KillOutcome::Zombie => waited,
        _ => false,
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

impl Report for KillReport {
    fn command(&self) -> &'static str {
        "kill"
    }

    fn json(&self) -> Map<String, Json> {
        json::members(&self.payload)
    }

    fn ndjson(&self) -> Option<Vec<Json>> {
        Some(json::rows(&self.payload.results))
    }

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
                let tone = if succeeded(r.result, self.waited) {
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

    fn exit(&self) -> Exit {
        if self
            .payload
            .results
            .iter()
            .all(|r| succeeded(r.result, self.waited))
        {
            Exit::Success
        } else {
            Exit::Partial
        }
    }
}

/// The `--list-signals` table.
pub fn signal_table() -> String {
    let rows = crate::signal::SIGNALS
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

/// The JSON Schema of `kill --json`.
pub fn schema() -> Json {
    crate::render::json::document_schema(
        "kill",
        "procscope kill --json",
        crate::render::json::schema_of::<KillPayload>(),
    )
}
