//! The `kill` confirmation prompt (the results table is `render/kill.rs`). Decides nothing
//! about which process is signalled.

use std::io::{BufRead, IsTerminal, Write};

use serde_json::Value as Json;

use crate::exit;
use crate::render::escape::Escaped;
use crate::render::table;

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

// moved (issue 14): re-export until merge
pub use crate::render::kill::signal_table;

/// The JSON Schema of `kill --json`.
pub fn schema() -> Json {
    crate::render::json::payload_schema::<KillReport>()
}
