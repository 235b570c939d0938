//! `cargo xtask`: hookline's developer commands. This file only parses and dispatches; each
//! subcommand lives in its own module, grouped by what it talks to: `local/` (the local stack),
//! `aws/` (a deployed stage), `repo/` (the repository itself); `project` and `stage` are what
//! they share.

mod aws;
mod cmd;
mod http;
mod local;
mod project;
mod repo;
mod stage;
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
    Test(repo::test::Args),
    /// Create a provider crate under functions/ from a template and register it in hookline.toml.
    New(repo::new::Args),
    /// List the templates, with their descriptions and variables.
    Templates,
    /// List the providers in hookline.toml.
    List,
    /// Re-render the managed files of every provider from its template.
    Generate(repo::generate::Args),
    /// Run the whole pipeline on localhost: gateway, functions, durable queues.
    Dev(local::dev::Args),
    /// Sign a sample delivery as the provider would and post it: to the local stack, or with
    /// --stage to a deployed stage (signed with its secret; --wait until it is processed).
    Send(local::send::Args),
    /// Inspect a provider's dead-letter queue, or move its messages back.
    Dlq(local::dlq::Args),
    /// Build every function for Lambda (cargo-lambda) into target/lambda/<arch>/<binary>/bootstrap.zip.
    Build(aws::build::Args),
    /// Print a stage's resolved manifest: every default applied, every derived name and value,
    /// each function's environment (what the CDK app reads).
    Resolve(stage::ResolveArgs),
    /// Synthesize a stage's CloudFormation template (cdk synth).
    Synth(aws::synth::Args),
    /// Prepare an AWS account and region for the CDK, once, with admin credentials.
    Bootstrap(aws::bootstrap::Args),
    /// Build and deploy a stage to AWS, then print its webhook URLs; --hotswap updates only the
    /// functions' code (ephemeral stages).
    Deploy(aws::deploy::Args),
    /// Build, then show what a deploy would change on a stage (cdk diff); --fail exits non-zero
    /// when it differs.
    Diff(aws::diff::Args),
    /// Remove a stage from AWS (all of it when ephemeral); waits until it is gone.
    Destroy(aws::destroy::Args),
    /// Remove the expired previews, and those of closed pull requests.
    Reap(aws::reap::Args),
    /// Manage a stage's signing secrets.
    Secret(aws::secret::Args),
    /// One screen about a deployed stage: stack, webhook URLs, queues, DLQs, alarms in ALARM.
    Status(aws::status::Args),
    /// A provider's function logs on a deployed stage (CloudWatch Logs), readable or raw.
    Logs(aws::logs::Args),
    /// Fuzz the parsers and verifiers (cargo-fuzz, nightly), seeded from the fixtures.
    Fuzz(repo::fuzz::Args),
    /// Measure ingest cost, cold start and local throughput against their floors: BENCHMARKS.md.
    Bench(repo::bench::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Test(args) => repo::test::run(args),
        Command::New(args) => repo::new::run(args),
        Command::Templates => repo::list_templates::run(),
        Command::List => repo::list::run(),
        Command::Generate(args) => repo::generate::run(args),
        Command::Dev(args) => local::dev::run(args),
        Command::Send(args) => local::send::run(args),
        Command::Dlq(args) => local::dlq::run(args),
        Command::Build(args) => aws::build::run(args),
        Command::Resolve(args) => stage::resolve(args),
        Command::Synth(args) => aws::synth::run(args),
        Command::Bootstrap(args) => aws::bootstrap::run(args),
        Command::Deploy(args) => aws::deploy::run(args),
        Command::Diff(args) => aws::diff::run(args),
        Command::Destroy(args) => aws::destroy::run(args),
        Command::Reap(args) => aws::reap::run(args),
        Command::Secret(args) => aws::secret::run(args),
        Command::Status(args) => aws::status::run(args),
        Command::Logs(args) => aws::logs::run(args),
        Command::Bench(args) => repo::bench::run(args),
        Command::Fuzz(args) => repo::fuzz::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
