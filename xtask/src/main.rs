//! `cargo xtask`: hookline's developer commands. This file only parses and dispatches; each
//! subcommand lives in its own module.

mod aws;
mod bench;
mod build;
mod cdk;
#[cfg(test)]
mod cdk_manifest_tests;
mod cmd;
mod deploy;
mod destroy;
mod dev;
mod dlq;
mod fuzz;
mod generate;
mod http;
#[cfg(test)]
mod lambda_build_tests;
mod lambda_zip;
mod list;
mod list_templates;
mod new;
#[cfg(test)]
mod render_all_tests;
mod secret;
mod send;
mod synth;
mod templates;
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
    /// Create a provider crate under functions/ from a template and register it in hookline.toml.
    New(new::Args),
    /// List the templates, with their descriptions and variables.
    Templates,
    /// List the providers in hookline.toml.
    List,
    /// Re-render the managed files of every provider from its template.
    Generate(generate::Args),
    /// Run the whole pipeline on localhost: gateway, functions, durable queues.
    Dev(dev::Args),
    /// Sign a sample delivery as the provider would and post it.
    Send(send::Args),
    /// Inspect a provider's dead-letter queue, or move its messages back.
    Dlq(dlq::Args),
    /// Build every function for Lambda (cargo-lambda) into target/lambda/<arch>/<binary>/bootstrap.zip.
    Build(build::Args),
    /// Synthesize a stage's CloudFormation template (cdk synth).
    Synth(synth::Args),
    /// Build and deploy a stage to AWS, then print its webhook URLs.
    Deploy(deploy::Args),
    /// Remove a stage from AWS (all of it when ephemeral).
    Destroy(destroy::Args),
    /// Manage a stage's signing secrets.
    Secret(secret::Args),
    /// Fuzz the parsers and verifiers (cargo-fuzz, nightly), seeded from the fixtures.
    Fuzz(fuzz::Args),
    /// Measure ingest cost, cold start and local throughput against their floors: BENCHMARKS.md.
    Bench(bench::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Test(args) => test::run(args),
        Command::New(args) => new::run(args),
        Command::Templates => list_templates::run(),
        Command::List => list::run(),
        Command::Generate(args) => generate::run(args),
        Command::Dev(args) => dev::run(args),
        Command::Send(args) => send::run(args),
        Command::Dlq(args) => dlq::run(args),
        Command::Build(args) => build::run(args),
        Command::Synth(args) => synth::run(args),
        Command::Deploy(args) => deploy::run(args),
        Command::Destroy(args) => destroy::run(args),
        Command::Secret(args) => secret::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Fuzz(args) => fuzz::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
