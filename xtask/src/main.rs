//! `cargo xtask`: hookline's developer commands. This file only parses and dispatches; each
//! subcommand lives in its own module.

mod test;
mod tools;

use clap::{Parser, Subcommand};

/// hookline developer commands.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every test suite of the repository (formatting, lints, unit and integration tests),
    /// installing the test tools it needs into .tools/, and print a summary.
    Test(test::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Test(args) => test::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
