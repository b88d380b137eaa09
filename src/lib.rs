//! procscope: a command-line inspector for Linux processes and threads.
//!
//! The app layer: `cli` (clap) → `query` (the validated request) → `commands` (query in,
//! payload out, using `columns`, `analyze` and `collect`, the only code that reads /proc)
//! → `render` (table, JSON, NDJSON, OpenMetrics) → stdout. Layers only point down; README's
//! Architecture section has the table and `tests/cli/architecture.rs` enforces it.

pub mod analyze;
pub mod cli;
pub mod collect;
pub mod columns;
pub mod commands;
pub mod confirm;
pub mod exit;
pub mod live;
pub mod meta;
pub mod model;
pub mod parse;
pub mod query;
pub mod render;
pub mod serve;
pub mod signal;
pub mod text;

use std::io::{IsTerminal, Write};

use cli::{Cli, ColorChoice, Command, GlobalArgs, PsArgs, TopArgs};
use collect::{Needs, ProcFs, SystemInfo, UserNames};
use exit::Exit;
use render::{Format, Report, Style};

/// Runs procscope with parsed arguments, writes its output, and returns the exit code.
pub fn run(cli: Cli) -> Exit {
    let json = cli.global.json.then(|| command_name(&cli));
    match execute(cli) {
        Ok(exit) => exit,
        Err(error) if is_broken_pipe(&error) => Exit::Success,
        Err(error) => {
            // The message may quote what the user typed (`--user`, `--regex`, `-o`): escaped.
            let message = format!("{error:#}").replace('\n', " ");
            let shown = text::escape::Escaped::text(&message);
            let _ = writeln!(std::io::stderr(), "procscope: {}", shown.as_str());
            let code = exit::code_of(&error);
            if let Some(command) = json.flatten()
                && code == Exit::Partial
            {
                // --json always prints a document: here one whose `errors` says why (JSON
                // keeps the message as it is).
                let document = render::json::error_document(command, error_entry(&error, message));
                if let Err(err) = write_out(document.as_bytes())
                    && !is_broken_pipe(&err)
                {
                    return Exit::Fatal;
                }
            }
            code
        }
    }
}

/// The `errors` entry of a run that failed on a named target.
fn error_entry(error: &anyhow::Error, message: String) -> render::ErrorEntry {
    let target = error.downcast_ref::<exit::TargetError>();
    render::ErrorEntry {
        pid: target.map(|t| t.pid),
        reason: target.map_or(model::Unavailable::Gone, |t| t.reason),
        message,
    }
}

/// The command name in the JSON envelope, for commands that print a document.
fn command_name(cli: &Cli) -> Option<&'static str> {
    Some(match &cli.command {
        None | Some(Command::Ps(_)) => "ps",
        Some(Command::Show(_)) => "show",
        Some(Command::Threads(_)) => "threads",
        Some(Command::Fds(_)) => "fds",
        Some(Command::Mem(_)) => "mem",
        Some(Command::Ports(_)) => "ports",
        Some(Command::Tree(_)) => "tree",
        Some(Command::Kill(_)) => "kill",
        Some(Command::Profile(_)) => "profile",
        Some(Command::Who(_)) => "who",
        Some(
            Command::Schema(_)
            | Command::Completions(_)
            | Command::Man(_)
            | Command::Export(_)
            | Command::Serve(_)
            | Command::Top(_),
        ) => return None,
    })
}

fn execute(cli: Cli) -> anyhow::Result<Exit> {
    let global = cli.global;
    match cli.command {
        Some(Command::Schema(args)) => write_out(meta::schema(args.command).as_bytes()),
        Some(Command::Completions(args)) => write_out(&meta::completions(args.shell)),
        Some(Command::Man(args)) => write_out(&meta::man(args.command.as_deref())?),
        Some(Command::Ps(args)) => ps(&global, &args),
        None => ps(&global, &PsArgs::default()),
        Some(Command::Show(args)) => show(&global, &args),
        Some(Command::Threads(args)) => threads(&global, &args),
        Some(Command::Fds(args)) => fds(&global, &args),
        Some(Command::Ports(args)) => ports(&global, &args),
        Some(Command::Who(args)) => who(&global, &args),
        Some(Command::Mem(args)) => mem(&global, &args),
        Some(Command::Tree(args)) => tree(&global, &args),
        Some(Command::Profile(args)) => profile(&global, &args),
        Some(Command::Kill(args)) => kill(&global, &args),
        Some(Command::Export(_) | Command::Serve(_)) if global.json || global.ndjson => Err(
            exit::usage("export and serve print OpenMetrics, not JSON: use `ps --json` for JSON"),
        ),
        Some(Command::Export(args)) => export(&global, &args),
        Some(Command::Serve(args)) => serve::run(&global, &args),
        Some(Command::Top(args)) => top(&global, &args.ps, Some(&args)),
    }
}

fn show(global: &GlobalArgs, args: &cli::ShowArgs) -> anyhow::Result<Exit> {
    let env = Env::open(global)?;
    let users = UserNames::load();
    let (procfs, system) = (&env.procfs, &env.system);
    let extras = args.extras();
    let report = commands::show::run(args.pid, procfs, system, &users, args.raw_cmdline, &extras)?;
    emit(&report, global)
}

fn threads(global: &GlobalArgs, args: &cli::ThreadsArgs) -> anyhow::Result<Exit> {
    let env = Env::open(global)?;
    let report = commands::threads::run(args.pid, args.options(), &env.procfs, &env.system)?;
    let exit = emit(&report, global);
    // The process ends next: freeing 10000 threads' rows string by string would cost more
    // than the kernel taking the pages back at exit.
    std::mem::forget(report);
    exit
}

fn fds(global: &GlobalArgs, args: &cli::FdsArgs) -> anyhow::Result<Exit> {
    let env = Env::open(global)?;
    let report = commands::fds::run_with(args.pid, args.peers, &env.procfs, &env.system)?;
    emit(&report, global)
}

fn ports(global: &GlobalArgs, args: &cli::PortsArgs) -> anyhow::Result<Exit> {
    let env = Env::open(global)?;
    let users = UserNames::load();
    let report = commands::ports::run(args.query(), &env.procfs, &users)?;
    emit(&report, global)
}

fn who(global: &GlobalArgs, args: &cli::WhoArgs) -> anyhow::Result<Exit> {
    let env = Env::open(global)?;
    let users = UserNames::load();
    let report = commands::who::run(&args.query(), &env.procfs, &users)?;
    emit(&report, global)
}

fn mem(global: &GlobalArgs, args: &cli::MemArgs) -> anyhow::Result<Exit> {
    let env = Env::open(global)?;
    let report = commands::mem::run(args.pid, args.query(), &env.procfs, &env.system)?;
    emit(&report, global)
}

fn tree(global: &GlobalArgs, args: &cli::TreeArgs) -> anyhow::Result<Exit> {
    let env = Env::open(global)?;
    let users = UserNames::load();
    let ascii = args.ascii || !std::io::stdout().is_terminal();
    let report = commands::tree::run(args.pid, ascii, &env.procfs, &users)?;
    emit(&report, global)
}

fn profile(global: &GlobalArgs, args: &cli::ProfileArgs) -> anyhow::Result<Exit> {
    let env = Env::open(global)?;
    let report = commands::profile::run(args.pid, args.options(), &env.procfs, &env.system)?;
    let folded = args.folded;
    emit(&render::profile::ProfileView { report, folded }, global)
}

fn ps(global: &GlobalArgs, args: &PsArgs) -> anyhow::Result<Exit> {
    if args.columns.iter().any(|c| c == "help") {
        return write_out(render::ps::column_help().as_bytes());
    }
    if args.watch.is_some() {
        return top(global, args, None);
    }
    let env = Env::open(global)?;
    let users = if args.user.is_empty() {
        UserNames::default()
    } else {
        UserNames::load()
    };
    let query = ps_query(args, &env.system, &users)?;
    let users = if query.needs().contains(Needs::USER_NAMES) && args.user.is_empty() {
        UserNames::load()
    } else {
        users
    };
    if let Some(by) = args.group_by {
        let users = UserNames::load();
        let report =
            commands::ps_groups::run(&query, by, args.pss, &env.procfs, &env.system, &users)?;
        return emit(&report, global);
    }
    let report = commands::ps::run(&query, &env.procfs, &env.system, &users)?;
    emit(&report, global)
}

fn kill(global: &GlobalArgs, args: &cli::KillArgs) -> anyhow::Result<Exit> {
    if args.list_signals {
        return write_out(render::kill::signal_table(query::signal::SIGNALS).as_bytes());
    }
    let query = args.to_query().map_err(exit::usage)?;
    // No warning about the proc tree: kill itself refuses (exit 3) when its PIDs are not ours.
    let env = Env::open_tree(global)?;
    let prepared = commands::kill::prepare(&query, &env.procfs, &env.system)?;
    if query.needs_confirmation() && !query.yes && !query.dry_run {
        confirm::confirm(&prepared.targets(), &query)?;
    }
    emit(&commands::kill::finish(prepared, &query), global)
}

fn export(global: &GlobalArgs, args: &cli::ExportCmdArgs) -> anyhow::Result<Exit> {
    let env = Env::open(global)?;
    let query = serve::export_query(&args.export, &env.system)?;
    let users = UserNames::load();
    let payload = commands::export::run(&query, &env.procfs, &env.system, &users)?;
    write_out(render::openmetrics::render(&payload, args.format).as_bytes())
}

/// `top` (with its arguments) or `ps --watch`: the live view, or a snapshot stream.
fn top(global: &GlobalArgs, args: &PsArgs, top: Option<&TopArgs>) -> anyhow::Result<Exit> {
    let env = Env::open(global)?;
    let users = UserNames::load();
    let (delay, live) = match top {
        Some(top) => (top.delay, !top.batch),
        None => (args.watch.unwrap_or_default(), false),
    };
    if global.json {
        return Err(exit::usage(
            "a live view prints many snapshots: use --ndjson (one object per process per snapshot) or a table",
        ));
    }
    let rates = global.ndjson;
    let mut query = live::TopQuery::new(args, delay, (rates, top.is_some()), &env.system, &users)?;
    query.timings = top.and_then(|top| top.timings.clone());
    let style = style(global);
    if live {
        if global.ndjson {
            return Err(exit::usage(
                "--ndjson streams snapshots: use it with top --batch (or ps --watch)",
            ));
        }
        if !std::io::stdout().is_terminal() {
            return Err(exit::usage(
                "top needs a terminal: use --batch (or ps --watch) for output to a pipe or file",
            ));
        }
        return live::app::run(&query, &env.procfs, &env.system, &users, style.color);
    }
    let mut stdout = std::io::stdout().lock();
    let mut print = |frame: &render::watch::Frame| {
        let text = if global.ndjson {
            render::watch::ndjson(frame)
        } else {
            render::watch::table(frame, &style)
        };
        stdout.write_all(text.as_bytes())?;
        stdout.flush()
    };
    live::stream::run(
        &query,
        &env.procfs,
        &env.system,
        &users,
        top.is_some(),
        &mut print,
    )
}

/// The validated `ps` request from its arguments (for `ps`, `ps --watch` and `top`), with
/// users resolved and PIDs checked against pid_max; sets the secret policy of the
/// `env:NAME` columns for this run.
pub(crate) fn ps_query(
    args: &PsArgs,
    system: &SystemInfo,
    users: &UserNames,
) -> anyhow::Result<query::ps::PsQuery<columns::Column>> {
    let query = args
        .to_query(system.pid_max, |user| users.resolve(user))
        .map_err(exit::usage)?;
    columns::extended::set_secret_policy(query.secrets.clone());
    Ok(query)
}

/// The proc tree and system facts of this run.
struct Env {
    procfs: ProcFs,
    system: SystemInfo,
}

impl Env {
    /// Opens the proc tree; when its PIDs may not be the caller's (another PID namespace),
    /// says so once on stderr and goes on.
    fn open(global: &GlobalArgs) -> anyhow::Result<Self> {
        let env = Self::open_tree(global)?;
        if let collect::procfs::PidView::Foreign(why) = env.procfs.pid_view() {
            let _ = writeln!(
                std::io::stderr(),
                "procscope: warning: {why}; the PIDs shown may not match the caller's"
            );
        }
        Ok(env)
    }

    /// Opens the proc tree and reads the system facts, without judging the tree.
    fn open_tree(global: &GlobalArgs) -> anyhow::Result<Self> {
        let root = &global.proc_root;
        let procfs = ProcFs::open(root)
            .map_err(|err| anyhow::anyhow!("cannot open the proc tree {}: {err}", root.display()))?
            .with_runtimes(analyze::runtime::probes());
        let system = SystemInfo::read(&procfs)?;
        Ok(Self { procfs, system })
    }
}

/// Prints a report in the format asked for; notes go to stderr with tables.
fn emit(report: &dyn Report, global: &GlobalArgs) -> anyhow::Result<Exit> {
    let format = if global.json {
        Format::Json
    } else if global.ndjson {
        Format::Ndjson
    } else {
        Format::Table
    };
    let style = style(global);
    let text = render::render(report, format, &style).ok_or_else(|| {
        exit::usage(format!(
            "--ndjson needs a list command; `{}` prints one document: use --json",
            report.command()
        ))
    })?;
    let text = match format {
        Format::Json if std::io::stdout().is_terminal() => {
            text::escape::json_for_terminal(&pretty(&text))
        }
        Format::Ndjson if std::io::stdout().is_terminal() => text::escape::json_for_terminal(&text),
        _ => text,
    };
    write_out(text.as_bytes())?;
    if format == Format::Table {
        let mut stderr = std::io::stderr().lock();
        for note in report.notes() {
            let _ = writeln!(stderr, "{}", text::escape::Escaped::text(&note).as_str());
        }
    }
    Ok(report.exit())
}

fn pretty(compact: &str) -> String {
    serde_json::from_str::<serde_json::Value>(compact)
        .and_then(|value| serde_json::to_string_pretty(&value))
        .map(|mut text| {
            text.push('\n');
            text
        })
        .unwrap_or_else(|_| compact.to_owned())
}

/// Colour, header and width for tables: colour when asked, or on a terminal that is not
/// `TERM=dumb` without `NO_COLOR`; lines cut to the terminal's width unless `--wide`.
fn style(global: &GlobalArgs) -> Style {
    let tty = std::io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|term| term == "dumb");
    let color = match global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => tty && !no_color && !dumb,
    };
    let width = (tty && !global.wide).then(terminal_width).flatten();
    Style {
        header: !global.no_header,
        color,
        width,
    }
}

fn terminal_width() -> Option<usize> {
    let size = rustix::termios::tcgetwinsize(std::io::stdout()).ok()?;
    (size.ws_col > 0).then_some(usize::from(size.ws_col))
}

fn write_out(bytes: &[u8]) -> anyhow::Result<Exit> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()?;
    Ok(Exit::Success)
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
