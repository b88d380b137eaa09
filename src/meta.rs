//! Commands about procscope itself (app layer): JSON schemas, shell completions, the man page.

use clap::CommandFactory;

use crate::cli::{Cli, SchemaTarget};
use crate::model::report::{
    FdsReport, KillReport, MemReport, PortsReport, ShowReport, ThreadsReport, TreeReport, WhoReport,
};
use crate::render::json::payload_schema;

/// The JSON Schema of a command's `--json` output, pretty-printed.
pub fn schema(target: SchemaTarget) -> String {
    let schema = match target {
        SchemaTarget::Ps => crate::render::ps::schema(),
        SchemaTarget::Show => payload_schema::<ShowReport>(),
        SchemaTarget::Threads => payload_schema::<ThreadsReport>(),
        SchemaTarget::Fds => payload_schema::<FdsReport>(),
        SchemaTarget::Ports => payload_schema::<PortsReport>(),
        SchemaTarget::Who => payload_schema::<WhoReport>(),
        SchemaTarget::Mem => payload_schema::<MemReport>(),
        SchemaTarget::Tree => payload_schema::<TreeReport>(),
        SchemaTarget::Kill => payload_schema::<KillReport>(),
        SchemaTarget::Profile => crate::render::profile::schema(),
    };
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// A completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "procscope", &mut out);
    out
}

/// The man page in roff: the main page, or `procscope-COMMAND(1)` for one subcommand (the
/// pages the main page's SUBCOMMANDS section refers to), with the global options included.
pub fn man(command: Option<&str>) -> std::io::Result<Vec<u8>> {
    let mut cli = Cli::command();
    // Building propagates the global options and the version into the subcommands.
    cli.build();
    let page = match command {
        None => cli,
        Some(name) => {
            let sub = cli.find_subcommand(name).cloned().ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("no man page for '{name}'"),
                )
            })?;
            let title = format!("procscope-{name}");
            sub.name(title.clone())
                .bin_name(format!("procscope {name}"))
                .display_name(title)
                .version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page).render(&mut out)?;
    Ok(out)
}
