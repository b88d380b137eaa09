//! The procscope binary: parse arguments, run, exit with the documented code.

use std::process::ExitCode;

use clap::Parser;
use procscope::cli::Cli;
use procscope::exit::Exit;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return clap_exit(&error),
    };
    ExitCode::from(procscope::run(cli) as u8)
}

/// Prints a clap error without its trailing tip, so a bad value is one line; help and
/// version go to stdout as usual.
fn clap_exit(error: &clap::Error) -> ExitCode {
    if !error.use_stderr() {
        let _ = error.print();
        return ExitCode::SUCCESS;
    }
    let rendered = error.render().to_string();
    let message = rendered
        .split("\n\n")
        .next()
        .unwrap_or(&rendered)
        .trim_end();
    // clap quotes the offending argument as typed: escape it, line by line.
    for line in message.lines() {
        eprintln!("{}", procscope::text::escape::Escaped::text(line).as_str());
    }
    ExitCode::from(Exit::Usage as u8)
}
