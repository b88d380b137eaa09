//! The arguments of the single-process and lookup commands: show, threads, profile, fds,
//! mem, tree, ports, who.

use std::time::Duration;

use clap::Args;

use super::SecretArgs;
use crate::query::mem::MemQuery;
use crate::query::ports::PortsQuery;
use crate::query::profile::ProfileOptions;
use crate::query::show::ShowExtras;
use crate::query::threads::ThreadsOptions;
use crate::query::who::WhoQuery;
use crate::query::{parse_duration, parse_pid};

// Options of `procscope show`.
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

// Options of `procscope threads`.
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

// Options of `procscope profile`.
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

// A command that takes one process.
#[derive(Args, Debug, Clone)]
pub struct PidArgs {
    /// The process to inspect.
    #[arg(value_parser = parse_pid)]
    pub pid: u32,
}

// Options of `procscope fds`.
#[derive(Args, Debug, Clone)]
pub struct FdsArgs {
    /// The process to inspect.
    #[arg(value_parser = parse_pid)]
    pub pid: u32,

    /// Also name the other ends of pipes (which processes hold them), like `lsof +E`:
    /// reads every process's descriptor table, so it costs time with the system's size.
    #[arg(long)]
    pub peers: bool,
}

// Options of `procscope mem`.
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

// Options of `procscope tree`.
#[derive(Args, Debug, Clone)]
pub struct TreeArgs {
    /// Show the subtree under this process (with its ancestors on one line above).
    #[arg(value_parser = parse_pid)]
    pub pid: Option<u32>,

    /// Draw with ASCII instead of Unicode lines (the default when not on a terminal).
    #[arg(long)]
    pub ascii: bool,
}

// Options of `procscope ports`.
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

// Options of `procscope who`.
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

impl ShowArgs {
    /// What `show` was asked for beyond its default sections.
    pub fn extras(&self) -> ShowExtras {
        ShowExtras {
            env: self.env,
            all_limits: self.limits,
            secrets: self.secrets.policy(),
        }
    }
}

impl ThreadsArgs {
    /// How `threads` reads and shows.
    pub fn options(&self) -> ThreadsOptions {
        ThreadsOptions {
            samples: self.samples,
            roles: !self.no_roles,
            explain: self.explain,
        }
    }
}

impl ProfileArgs {
    /// How `profile` samples and shows.
    pub fn options(&self) -> ProfileOptions {
        ProfileOptions {
            duration: self.duration,
            hz: self.hz,
            folded: self.folded,
        }
    }
}

impl MemArgs {
    /// What `mem` shows besides the summary.
    pub fn query(&self) -> MemQuery {
        MemQuery {
            libs: self.libs,
            maps: self.maps,
        }
    }
}

impl PortsArgs {
    /// What `ports` lists.
    pub fn query(&self) -> PortsQuery {
        PortsQuery {
            port: self.port,
            all: self.all,
            tcp: self.tcp,
            udp: self.udp,
            unix: self.unix,
            pid: self.pid,
            states: self.state.clone(),
            interval: self.interval,
            info: self.info,
        }
    }
}

impl WhoArgs {
    /// What `who` looks for.
    pub fn query(&self) -> WhoQuery {
        WhoQuery {
            paths: self.paths.clone(),
            recursive: self.recursive,
            mount: self.mount,
            deleted: self.deleted,
        }
    }
}
