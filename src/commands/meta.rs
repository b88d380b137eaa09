//! Commands about procscope itself: JSON schemas, shell completions, the man page.

use clap::CommandFactory;

use crate::cli::{Cli, SchemaTarget};

/// The JSON Schema of a command's `--json` output, pretty-printed.
pub fn schema(target: SchemaTarget) -> String {
    let schema = match target {
        SchemaTarget::Ps => crate::commands::ps::schema(),
        SchemaTarget::Show => crate::commands::show::schema(),
        SchemaTarget::Threads => crate::commands::threads::schema(),
        SchemaTarget::Fds => crate::commands::fds::schema(),
        SchemaTarget::Ports => crate::commands::ports::schema(),
        SchemaTarget::Who => crate::commands::who::schema(),
        SchemaTarget::Mem => crate::commands::mem::schema(),
        SchemaTarget::Tree => crate::commands::tree::schema(),
        SchemaTarget::Kill => crate::commands::kill::schema(),
        SchemaTarget::Profile => crate::commands::profile::schema(),
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
