//! The command line (clap derive). Doc comments here are the `--help` text. Each submodule
//! holds the arguments of a group of commands and their conversion into `query` requests;
//! this layer imports only query, model, parse and text.

mod export;
mod inspect;
mod kill;
mod ps;

pub use export::{EXPORT_HELP, ExportArgs, ExportCmdArgs, ServeArgs};
pub use inspect::{
    FdsArgs, MemArgs, PidArgs, PortsArgs, ProfileArgs, ShowArgs, ThreadsArgs, TreeArgs, WhoArgs,
};
pub use kill::KillArgs;
pub use ps::{PsArgs, SecretArgs, TopArgs};

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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

/// Each subcommand's arguments are built only when it is the one used (`defer`): building
/// all of them cost every run about 0.2 ms. Its one-line description is the variant's doc
/// comment here; the `…Args` structs carry plain comments, since clap would let a struct's
/// doc comment replace the description when it builds the subcommand.
#[derive(Subcommand, Debug)]
#[command(defer = true)]
pub enum Command {
    /// List processes, like `ps aux` and `pgrep` (the default command).
    Ps(Box<PsArgs>),
    /// Everything about one process on one screen.
    Show(ShowArgs),
    /// Every thread of a process: state, CPU, what it waits on, its program counter and stack.
    Threads(ThreadsArgs),
    /// Every open file descriptor of a process: files, pipes, sockets, epoll sets, eventfds.
    Fds(FdsArgs),
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

// Options of `procscope man`.
#[derive(Args, Debug, Clone)]
pub struct ManArgs {
    /// The command whose page to print (`procscope-ps(1)`); without it, the main page.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(MAN_PAGES), value_name = "COMMAND")]
    pub command: Option<String>,
}

// Options of `procscope schema`.
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

// Options of `procscope completions`.
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
    fn each_subcommand_keeps_its_description_once_built() {
        let mut cli = Cli::command();
        let listed: Vec<(String, String)> = cli
            .get_subcommands()
            .map(|c| (c.get_name().to_owned(), c.get_about().unwrap().to_string()))
            .collect();
        cli.build();
        for (name, about) in listed {
            let built = cli.find_subcommand(&name).unwrap();
            assert_eq!(built.get_about().map(|a| a.to_string()), Some(about));
            assert!(
                built.get_arguments().any(|a| a.get_id() == "json"),
                "{name}"
            );
        }
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
