//! The arguments of `export` and `serve` (grouping, per-PID series, the exposition format).

use std::path::PathBuf;

use clap::Args;

use crate::query::parse_pid;

// How `export` and `serve` group processes and what they read.
#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// Grouping rules from this TOML file (`[[group]]` tables; see below).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Without --config: one group per executable name, executable file, user, systemd
    /// unit/container, or runtime.
    #[arg(long, value_enum, default_value_t = crate::query::groups::GroupBy::Name, conflicts_with = "config")]
    pub group_by: crate::query::groups::GroupBy,

    /// Also emit per-process series (labels pid and start_time) for these PIDs.
    #[arg(long, value_delimiter = ',', value_parser = parse_pid, value_name = "PID")]
    pub pid: Vec<u32>,

    /// Read proportional set size (smaps_rollup): costlier, the kernel walks every mapping.
    #[arg(long)]
    pub pss: bool,
}

// Options of `procscope export`.
#[derive(Args, Debug, Clone)]
pub struct ExportCmdArgs {
    #[command(flatten)]
    pub export: ExportArgs,

    /// The text format: OpenMetrics, or the classic Prometheus text that node_exporter's
    /// textfile collector parses (there counters keep their type).
    #[arg(long, value_enum, default_value_t = crate::model::exposition::Exposition::OpenMetrics)]
    pub format: crate::model::exposition::Exposition,
}

// Options of `procscope serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub export: ExportArgs,

    /// The address and port to listen on; any address but loopback must be given here.
    #[arg(long, default_value = "127.0.0.1:9256", value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
}

/// The grouping help of `export` and `serve`.
pub const EXPORT_HELP: &str = r#"Config file (--config): [[group]] tables. A process joins the first group whose every
given matcher accepts it; processes no rule matches are not exported.
  [[group]]
  comm = ["postgres", "nginx"]              # executable names; default name "{comm}"
  [[group]]
  cmdline = 'node .*/(?P<app>[^/ ]+)\.js'   # regex over the command line
  name = "node:{app}"                       # named captures name the group
  [[group]]
  user = ["www-data"]                       # also: exe = [...], unit = ["nginx.service"],
  runtime = "node"                          # cgroup = 'regex'
  pids = true                               # per-PID series for these processes
Name variables: {comm} {exe} {user} {unit} {cgroup} {runtime} and named captures.
Textfile collector (write aside, then rename):
  procscope export --format prometheus > DIR/procscope.prom.$$ && mv DIR/procscope.prom.$$ DIR/procscope.prom"#;
