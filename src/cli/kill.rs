//! The arguments of `kill`, and their conversion into a [`crate::query::kill::KillQuery`].

use std::time::Duration;

use clap::Args;

use crate::query::kill::{KillQuery, kill_matcher};
use crate::query::{parse_duration, parse_pid};

// Options of `procscope kill`.
#[derive(Args, Debug, Clone)]
pub struct KillArgs {
    /// Processes to signal, by PID (1 to pid_max; 0 and negative numbers are refused).
    #[arg(value_parser = parse_pid, value_name = "PID")]
    pub pids: Vec<u32>,

    /// Signal the processes holding a listener on this port (in procscope's own network
    /// namespace unless --all-netns).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..), value_name = "PORT")]
    pub port: Option<u16>,

    /// With --port: the holders in every network namespace, not only procscope's own.
    #[arg(long, requires = "port")]
    pub all_netns: bool,

    /// Signal the processes with exactly this name (as `ps NAME --exact`).
    #[arg(long, value_name = "NAME", conflicts_with = "pattern")]
    pub name: Option<String>,

    /// Signal the processes whose name or command line matches this regular expression (as
    /// `ps REGEX --regex`).
    #[arg(long, value_name = "REGEX")]
    pub pattern: Option<String>,

    /// Signal the processes in this systemd unit (as `ps --unit`; `nginx` means
    /// `nginx.service`); with --name or --pattern, those of them that match.
    #[arg(long, value_name = "UNIT")]
    pub unit: Option<String>,

    /// Also signal every descendant of each target, children before parents.
    #[arg(long)]
    pub tree: bool,

    /// The signal: a name (TERM, SIGTERM, term) or number; default TERM.
    #[arg(short = 's', long, value_parser = crate::query::signal::parse_signal, default_value = "TERM", value_name = "SIGNAL")]
    pub signal: crate::query::signal::SignalChoice,

    /// Print the signals procscope knows and exit.
    #[arg(long)]
    pub list_signals: bool,

    /// Wait for every target to exit.
    #[arg(long)]
    pub wait: bool,

    /// Wait at most this long (implies --wait), e.g. 5s.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,

    /// Send SIGKILL to targets still running at the timeout.
    #[arg(long, requires = "timeout")]
    pub escalate: bool,

    /// Allow kernel threads and a thread ID (which signals its whole process, as kill(2)
    /// does); PID 1, procscope itself and its ancestors only when named as PIDs.
    #[arg(long)]
    pub force: bool,

    /// Show what would be signalled, and signal nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation when selecting by port, name, pattern or tree.
    #[arg(short = 'y', long)]
    pub yes: bool,
}

impl KillArgs {
    /// The validated request: at least one target, and the `--name`/`--pattern` matcher (the
    /// same one `ps` uses). The error is a usage message.
    pub fn to_query(&self) -> Result<KillQuery, String> {
        if self.pids.is_empty()
            && self.port.is_none()
            && self.name.is_none()
            && self.pattern.is_none()
            && self.unit.is_none()
        {
            return Err("nothing to signal: give PIDs, --port, --name, --pattern or --unit".into());
        }
        Ok(KillQuery {
            pids: self.pids.clone(),
            port: self.port,
            all_netns: self.all_netns,
            matcher: kill_matcher(self.name.as_deref(), self.pattern.as_deref())?,
            unit: self.unit.clone(),
            tree: self.tree,
            signal: self.signal,
            wait: self.wait,
            timeout: self.timeout,
            escalate: self.escalate,
            force: self.force,
            dry_run: self.dry_run,
            yes: self.yes,
        })
    }
}
