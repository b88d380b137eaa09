//! The arguments of `ps` and `top` (filters, columns, sorting, secrets), and their conversion
//! into a [`crate::query::ps::PsQuery`].

use std::time::Duration;

use clap::Args;

use crate::query::filter::{ProcessFilter, parse_cgroup_path};
use crate::query::pid::check_pid_max;
use crate::query::ps::GroupBy;
use crate::query::ps::{self, ColumnCatalog, PsQuery};
use crate::query::{parse_duration, parse_pid, parse_ppid, parse_states};

// Options of `procscope ps`.
#[derive(Args, Debug, Clone, Default)]
pub struct PsArgs {
    /// Keep processes whose name or command line contains PATTERN (smart case: case-insensitive
    /// unless PATTERN has an uppercase letter). The ps habits `aux`, `ax`, `-ef`, `-e` and `-A`
    /// list every process, as with no PATTERN.
    #[arg(allow_hyphen_values = true)]
    pub pattern: Option<String>,

    /// Match PATTERN exactly against the process name instead.
    #[arg(long, requires = "pattern", conflicts_with = "regex")]
    pub exact: bool,

    /// Treat PATTERN as a regular expression over the name and the command line.
    #[arg(long, requires = "pattern")]
    pub regex: bool,

    /// Columns to show, comma-separated; `-o help` lists them all.
    #[arg(
        short = 'o',
        long = "columns",
        value_delimiter = ',',
        value_name = "LIST"
    )]
    pub columns: Vec<String>,

    /// Sort by these columns (see `-o help`), comma-separated, the first deciding first; a
    /// leading `-` sorts that key descending (`-s rss,-cpu`); default: pid.
    #[arg(short = 's', long, value_name = "COLUMNS", allow_hyphen_values = true)]
    pub sort: Option<String>,

    /// Reverse the sort order.
    #[arg(short = 'r', long)]
    pub reverse: bool,

    /// Keep only these PIDs (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = parse_pid, value_name = "PID")]
    pub pid: Vec<u32>,

    /// Keep only children of these PIDs (comma-separated; 0 for PID 1 and kernel threads' parent).
    #[arg(long, value_delimiter = ',', value_parser = parse_ppid, value_name = "PID")]
    pub ppid: Vec<u32>,

    /// Keep only processes of these users (names or uids, comma-separated).
    #[arg(short = 'u', long, value_delimiter = ',', value_name = "USER")]
    pub user: Vec<String>,

    /// Keep only processes in these states (letters, alone or comma-separated: R running, S sleeping, D disk wait, Z zombie, T stopped, I idle).
    #[arg(long, value_parser = parse_states, value_name = "LETTERS")]
    pub state: Option<String>,

    /// Show at most N processes (after sorting); with --watch (and in `top --batch`), stop
    /// after N snapshots instead, like `top -n`.
    #[arg(short = 'n', long, value_name = "N")]
    pub limit: Option<usize>,

    /// Print a snapshot every DURATION (e.g. 1s) until interrupted (or -n snapshots); with
    /// --ndjson, one object per process per snapshot with per-interval rates.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", conflicts_with = "interval")]
    pub watch: Option<Duration>,

    /// Measure %CPU over this interval (like top) instead of the lifetime average (like ps).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub interval: Option<Duration>,

    /// List every thread of the selected processes, like `ps -L` (filters apply to processes).
    #[arg(short = 'L', long)]
    pub threads: bool,

    /// Keep only processes of this runtime, recognised by the executable (`node`, `jvm`).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(crate::model::runtime::RUNTIME_NAMES), value_name = "RUNTIME")]
    pub runtime: Option<String>,

    /// List in process-tree order, children indented under their parent (like `ps --forest`).
    #[arg(long, conflicts_with = "threads")]
    pub tree: bool,

    /// JSON only: also give the exact bytes of each command line (`cmdline_b64`, at most
    /// 256 KiB), NUL padding and all; `argv` always shows arguments the way ps does.
    #[arg(long)]
    pub raw_cmdline: bool,

    /// Keep only processes in these systemd units (comma-separated; `nginx` means
    /// `nginx.service`; scopes by their full name).
    #[arg(long, value_delimiter = ',', value_name = "UNIT")]
    pub unit: Vec<String>,

    /// Keep only processes in these containers (comma-separated): a container ID or its
    /// prefix (4+ hex digits), an LXC name, an engine (docker, podman, containerd, cri-o, lxc)
    /// or `k8s` for any Kubernetes pod.
    #[arg(long, value_delimiter = ',', value_name = "CONTAINER")]
    pub container: Vec<String>,

    /// Keep only processes in these cgroups or below them (absolute paths as
    /// /proc/PID/cgroup shows them, v2 or v1).
    #[arg(long, value_parser = parse_cgroup_path, value_name = "PATH")]
    pub cgroup: Vec<String>,

    #[command(flatten)]
    pub secrets: SecretArgs,

    /// Sum the selected processes per application: count, CPU, RSS, threads and fds (and
    /// PSS with --pss), one row per name, user, systemd unit, container or runtime.
    #[arg(long, value_enum, value_name = "KEY", conflicts_with_all = ["columns", "tree", "threads"])]
    pub group_by: Option<GroupBy>,

    /// With --group-by: also sum PSS from smaps_rollup, so pages shared between the
    /// processes are not counted twice (reads each process's page tables: slower).
    #[arg(long, requires = "group_by")]
    pub pss: bool,
}

// How `env:NAME` columns and `show --env` treat secret-looking variables.
#[derive(Args, Debug, Clone, Default)]
pub struct SecretArgs {
    /// Show the values of secret-looking environment variables instead of `<redacted>`.
    #[arg(long)]
    pub show_secrets: bool,

    /// Name fragments (comma-separated, any case) that mark a variable secret; replaces the
    /// default TOKEN,SECRET,PASSWORD,PASSWD,KEY,CREDENTIAL and $PROCSCOPE_SECRET_PATTERNS.
    #[arg(long, value_name = "LIST")]
    pub secret_pattern: Option<String>,
}

impl SecretArgs {
    /// The policy these flags and $PROCSCOPE_SECRET_PATTERNS give.
    pub fn policy(&self) -> crate::query::secrets::SecretPolicy {
        let var = std::env::var(crate::query::secrets::PATTERNS_VAR).ok();
        crate::query::secrets::SecretPolicy::from_sources(
            self.secret_pattern.as_deref(),
            var.as_deref(),
            self.show_secrets,
        )
    }
}

// Options of `procscope top`: the filters and columns of `ps`, and the refresh.
#[derive(Args, Debug, Clone)]
pub struct TopArgs {
    #[command(flatten)]
    pub ps: PsArgs,

    /// Refresh every DURATION (e.g. 2s, 500ms); the keys + and - change it.
    #[arg(short = 'd', long, value_parser = parse_duration, default_value = "1.5s", value_name = "DURATION")]
    pub delay: Duration,

    /// Print snapshots on stdout instead of the full-screen view (stop after -n N).
    #[arg(short = 'b', long)]
    pub batch: bool,

    /// Append one line per refresh to FILE: rows, and the wall and CPU milliseconds of
    /// reading it and of drawing (or printing) it.
    #[arg(long, value_name = "FILE")]
    pub timings: Option<std::path::PathBuf>,
}

impl PsArgs {
    /// The validated request: column and sort names from `C`'s registry, the pattern, user
    /// names through `resolve_user`, PIDs within `pid_max`. The error is a usage message.
    pub fn to_query<C: ColumnCatalog>(
        &self,
        pid_max: u32,
        resolve_user: impl Fn(&str) -> Option<u32>,
    ) -> Result<PsQuery<C>, String> {
        let columns = ps::columns(&self.columns, self.threads)?;
        let sort_keys = ps::sort_keys(self.sort.as_deref())?;
        let sort = sort_keys[0].0;
        let matcher = ps::pattern_matcher(self.pattern.as_deref(), self.exact, self.regex)?;
        let uids = self
            .user
            .iter()
            .map(|user| {
                resolve_user(user).ok_or_else(|| {
                    format!("unknown user '{user}': expected a user name or a numeric uid")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        for &pid in self.pid.iter().chain(&self.ppid) {
            check_pid_max(pid, pid_max)?;
        }
        Ok(PsQuery {
            columns,
            sort,
            sort_keys,
            reverse: self.reverse,
            filter: ProcessFilter {
                matcher,
                pids: self.pid.clone(),
                ppids: self.ppid.clone(),
                uids,
                states: self.state.clone().unwrap_or_default().into_bytes(),
                exclude: Some(std::process::id()),
                runtime: self.runtime.clone(),
                units: self.unit.clone(),
                containers: self.container.clone(),
                cgroups: self.cgroup.clone(),
            },
            limit: self.limit,
            interval: self.interval,
            threads: self.threads,
            tree: self.tree,
            raw_cmdline: self.raw_cmdline,
            secrets: self.secrets.policy(),
        })
    }
}
