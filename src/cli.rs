//! The command line (clap derive). Doc comments here are the `--help` text.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::query::filter::parse_cgroup_path;
use crate::query::{parse_duration, parse_pid, parse_ppid, parse_states};

/// Inspect Linux processes and threads: what runs, what it costs, what it holds and what it
/// waits on. With no command, lists processes (`procscope ps`).
#[derive(Parser, Debug)]
#[command(
    name = "procscope",
    version,
    disable_help_subcommand = true,
    after_help = "Exit codes: 0 success, 1 nothing matched or a named target was gone/denied, \
                  2 usage error, 3 fatal error. Each command's manual: procscope man COMMAND."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command accepts.
#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Print one JSON document (schema: `procscope schema COMMAND`).
    #[arg(long, global = true, conflicts_with = "ndjson")]
    pub json: bool,

    /// Print one JSON object per line, without an envelope (list commands).
    #[arg(long, global = true)]
    pub ndjson: bool,

    /// When to use colour; `auto` means on a terminal and when NO_COLOR is unset.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Leave out the header line of tables.
    #[arg(long, global = true)]
    pub no_header: bool,

    /// Never cut table lines to the terminal width.
    #[arg(short = 'w', long, global = true)]
    pub wide: bool,

    /// Read this directory instead of /proc (for fixture trees in tests).
    #[arg(long, global = true, hide = true, default_value = "/proc")]
    pub proc_root: PathBuf,
}

/// When to colour output.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List processes, like `ps aux` and `pgrep` (the default command).
    Ps(Box<PsArgs>),
    /// Everything about one process on one screen.
    Show(ShowArgs),
    /// Every thread of a process: state, CPU, what it waits on, its program counter and stack.
    Threads(ThreadsArgs),
    /// Every open file descriptor of a process: files, pipes, sockets, epoll sets, eventfds.
    Fds(PidArgs),
    /// Where a process's memory goes: stacks, heap, arenas, code, libraries, like `pmap -X`.
    Mem(MemArgs),
    /// Which process listens on which port, like `ss -ltnp` and `lsof -i :PORT`.
    Ports(PortsArgs),
    /// Which processes hold a file, directory or mount, like `lsof FILE` and `fuser`; or the
    /// deleted-but-open files (`--deleted`, like `lsof +L1`).
    Who(WhoArgs),
    /// The process family tree, like `pstree -p`: the whole tree or the subtree under PID.
    Tree(TreeArgs),
    /// Signal processes safely (by PID, port, name, pattern or tree), wait, escalate.
    Kill(KillArgs),
    /// Print OpenMetrics text once, grouped like process-exporter (for node_exporter's
    /// textfile collector).
    #[command(after_help = crate::cli::EXPORT_HELP)]
    Export(ExportCmdArgs),
    /// Serve OpenMetrics for Prometheus on `GET /metrics` (loopback unless --listen says
    /// otherwise).
    #[command(after_help = crate::cli::EXPORT_HELP)]
    Serve(ServeArgs),
    /// Sample every thread for a while (without stopping or tracing it): what each thread
    /// and role did; Node.js: event loop computing vs waiting, libuv pool saturation.
    Profile(ProfileArgs),
    /// The live view, like top and htop (`--batch` for snapshots on stdout).
    Top(Box<TopArgs>),
    /// Print the JSON Schema of a command's `--json` output.
    Schema(SchemaArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the man page (roff), or one command's page (`procscope man ps | man -l -`).
    Man(ManArgs),
}

/// The subcommands with a page of their own (`procscope-ps(1)` ...).
pub const MAN_PAGES: &[&str] = &[
    "ps",
    "show",
    "threads",
    "fds",
    "mem",
    "ports",
    "who",
    "tree",
    "kill",
    "export",
    "serve",
    "profile",
    "top",
    "schema",
    "completions",
    "man",
];

/// Options of `procscope man`.
#[derive(Args, Debug, Clone)]
pub struct ManArgs {
    /// The command whose page to print (`procscope-ps(1)`); without it, the main page.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(MAN_PAGES), value_name = "COMMAND")]
    pub command: Option<String>,
}

/// Options of `procscope ps`.
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

/// What `ps --group-by` sums processes by.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Name,
    User,
    Unit,
    Container,
    Runtime,
}

/// How `env:NAME` columns and `show --env` treat secret-looking variables.
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
    pub fn policy(&self) -> crate::analyze::secrets::SecretPolicy {
        let var = std::env::var(crate::analyze::secrets::PATTERNS_VAR).ok();
        crate::analyze::secrets::SecretPolicy::from_sources(
            self.secret_pattern.as_deref(),
            var.as_deref(),
            self.show_secrets,
        )
    }
}

/// Options of `procscope top`: the filters and columns of `ps`, and the refresh.
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
}

/// Options of `procscope show`.
#[derive(Args, Debug, Clone)]
pub struct ShowArgs {
    /// The process to show.
    #[arg(value_parser = parse_pid)]
    pub pid: u32,

    /// JSON only: also give the exact bytes of each command line (`cmdline_b64`, at most
    /// 256 KiB), NUL padding and all; `argv` always shows arguments the way ps does.
    #[arg(long)]
    pub raw_cmdline: bool,

    /// Also show the starting environment (secret-looking values redacted unless
    /// --show-secrets).
    #[arg(long)]
    pub env: bool,

    /// Show all 16 resource limits, not only open files, stack size and processes.
    #[arg(long)]
    pub limits: bool,

    #[command(flatten)]
    pub secrets: SecretArgs,
}

/// Options of `procscope threads`.
#[derive(Args, Debug, Clone)]
pub struct ThreadsArgs {
    /// The process whose threads to show.
    #[arg(value_parser = parse_pid)]
    pub pid: u32,

    /// Read a running thread's registers up to N times in all, to catch it blocked.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000), value_name = "N")]
    pub samples: u32,

    /// Show why each thread got its role (replaces the PC column).
    #[arg(long)]
    pub explain: bool,

    /// Do not recognise the runtime or give threads roles.
    #[arg(long, conflicts_with = "explain")]
    pub no_roles: bool,
}

/// Options of `procscope profile`.
#[derive(Args, Debug, Clone)]
pub struct ProfileArgs {
    /// The process to profile (a cluster primary's workers are profiled with it).
    #[arg(value_parser = parse_pid)]
    pub pid: u32,

    /// How long to sample, e.g. 5s, 500ms.
    #[arg(long = "for", value_parser = parse_duration, default_value = "5s", value_name = "DURATION")]
    pub duration: Duration,

    /// Samples per second (1 to 1000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000), value_name = "HZ")]
    pub hz: u32,

    /// Print folded stacks (`role;wait;frame count`) for flamegraph.pl or speedscope.
    #[arg(long)]
    pub folded: bool,
}

/// A command that takes one process.
#[derive(Args, Debug, Clone)]
pub struct PidArgs {
    /// The process to inspect.
    #[arg(value_parser = parse_pid)]
    pub pid: u32,
}

/// Options of `procscope mem`.
#[derive(Args, Debug, Clone)]
pub struct MemArgs {
    /// The process to inspect.
    #[arg(value_parser = parse_pid)]
    pub pid: u32,

    /// One line per shared library.
    #[arg(long)]
    pub libs: bool,

    /// One line per mapping, like `pmap -X`, with its category.
    #[arg(long)]
    pub maps: bool,
}

/// Options of `procscope tree`.
#[derive(Args, Debug, Clone)]
pub struct TreeArgs {
    /// Show the subtree under this process (with its ancestors on one line above).
    #[arg(value_parser = parse_pid)]
    pub pid: Option<u32>,

    /// Draw with ASCII instead of Unicode lines (the default when not on a terminal).
    #[arg(long)]
    pub ascii: bool,
}

/// Options of `procscope kill`.
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
    #[arg(short = 's', long, value_parser = crate::signal::parse_signal, default_value = "TERM", value_name = "SIGNAL")]
    pub signal: crate::signal::SignalChoice,

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

/// Options of `procscope ports`.
#[derive(Args, Debug, Clone)]
pub struct PortsArgs {
    /// Only sockets on this local port.
    #[arg(value_parser = clap::value_parser!(u16).range(1..), value_name = "PORT")]
    pub port: Option<u16>,

    /// Every socket state (established connections too), not only listening TCP and bound UDP.
    #[arg(short = 'a', long)]
    pub all: bool,

    /// Only sockets held by this process.
    #[arg(long, value_parser = parse_pid, value_name = "PID")]
    pub pid: Option<u32>,

    /// TCP sockets (IPv4 and IPv6).
    #[arg(long)]
    pub tcp: bool,

    /// UDP sockets (IPv4 and IPv6).
    #[arg(long)]
    pub udp: bool,

    /// Unix-domain sockets (listening ones; all with --all), with their type and peer.
    #[arg(long)]
    pub unix: bool,

    /// Only sockets in these states, like `ss state`: `established,close-wait`
    /// (every state is looked at, as with --all).
    #[arg(long, value_delimiter = ',', value_parser = crate::query::socket_states::parse_socket_state, value_name = "STATES")]
    pub state: Vec<String>,

    /// Show TCP timers, retransmits and round-trip times, like `ss -o -i`.
    #[arg(short = 'i', long)]
    pub info: bool,

    /// Measure each TCP connection's throughput over this interval (TX/s, RX/s).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub interval: Option<Duration>,
}

/// Options of `procscope who`.
#[derive(Args, Debug, Clone)]
pub struct WhoArgs {
    /// Files, directories or mount points (matched by device and inode, not by name).
    #[arg(value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,

    /// Every file below each directory too, like `lsof +D`.
    #[arg(short = 'r', long)]
    pub recursive: bool,

    /// Every file on the file system each PATH is on, like `fuser -m`.
    #[arg(short = 'm', long)]
    pub mount: bool,

    /// Deleted files still held open, system-wide, largest first, like `lsof +L1`.
    #[arg(long)]
    pub deleted: bool,
}

/// Options of `procscope schema`.
#[derive(Args, Debug, Clone)]
pub struct SchemaArgs {
    /// The command whose JSON output to describe.
    #[arg(value_enum)]
    pub command: SchemaTarget,
}

/// Commands with a published JSON Schema.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaTarget {
    Ps,
    Show,
    Threads,
    Fds,
    Ports,
    Who,
    Mem,
    Tree,
    Kill,
    Profile,
}

/// Options of `procscope completions`.
#[derive(Args, Debug, Clone)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_has_a_man_page() {
        let names: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .collect();
        assert_eq!(names, MAN_PAGES);
    }

    #[test]
    fn no_command_takes_global_flags() {
        let cli = Cli::try_parse_from(["procscope", "--json", "--no-header"]).unwrap();
        assert!(cli.command.is_none());
        assert!(cli.global.json && cli.global.no_header);
    }

    #[test]
    fn global_flags_before_the_command() {
        let cli = Cli::try_parse_from(["procscope", "--proc-root", "/x", "show", "1"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Show(ShowArgs { pid: 1, .. }))
        ));
        assert_eq!(cli.global.proc_root, PathBuf::from("/x"));
    }

    #[test]
    fn global_flags_after_the_command() {
        let cli = Cli::try_parse_from(["procscope", "show", "1", "--json", "--no-header"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Show(ShowArgs { pid: 1, .. }))
        ));
        assert!(cli.global.json && cli.global.no_header);
    }
}

/// How `export` and `serve` group processes and what they read.
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

/// Options of `procscope export`.
#[derive(Args, Debug, Clone)]
pub struct ExportCmdArgs {
    #[command(flatten)]
    pub export: ExportArgs,

    /// The text format: OpenMetrics, or the classic Prometheus text that node_exporter's
    /// textfile collector parses (there counters keep their type).
    #[arg(long, value_enum, default_value_t = crate::render::openmetrics::Exposition::OpenMetrics)]
    pub format: crate::render::openmetrics::Exposition,
}

/// Options of `procscope serve`.
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
