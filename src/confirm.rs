//! The `kill` confirmation prompt (app layer: it reads the terminal): lists the selected
//! targets with their command lines and asks. Decides nothing about which process is
//! signalled; the targets stay bound to their pidfds while it waits.

use std::io::{BufRead, IsTerminal, Write};

use crate::commands::kill::PreparedTarget;
use crate::exit;
use crate::query::kill::KillQuery;
use crate::render::kill::command_line;
use crate::render::table;

/// Lists the bound targets with their command lines (cut to the terminal width) and asks on
/// the terminal; without one, refuses (use `--yes`). Exit 1 when the answer is not yes.
pub fn confirm(targets: &[PreparedTarget], query: &KillQuery) -> anyhow::Result<()> {
    let willing: Vec<&PreparedTarget> = targets.iter().filter(|t| t.bound).collect();
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
        let command = command_line(target.name.as_deref(), &target.argv).into_string();
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
