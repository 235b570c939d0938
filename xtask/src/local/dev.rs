//! `cargo xtask dev`: builds the functions for this machine and runs the whole pipeline on
//! localhost: gateway, the same function binaries behind a Lambda Runtime API, and a durable
//! SQS-compatible queue and DynamoDB-compatible idempotency table. Ctrl-C stops it after
//! in-flight invocations; queued messages and stored records survive.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use hookline_local::{DevStack, StackConfig};
use hookline_manifest::Manifest;

use crate::project;
use crate::tools;

#[derive(clap::Args)]
pub struct Args {
    /// Build and run release binaries.
    #[arg(long)]
    release: bool,
    /// Gateway port.
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Port of the SQS endpoint, which serves DynamoDB too.
    #[arg(long, default_value_t = 9324)]
    sqs_port: u16,
    /// Most instances of each function running at once.
    #[arg(long, default_value_t = hookline_local::stack::DEFAULT_MAX_INSTANCES)]
    concurrency: usize,
    /// Where queued messages, the idempotency table and local secrets are kept.
    #[arg(long, default_value = ".hookline")]
    data_dir: PathBuf,
    /// Use the binaries in this folder as they are (no build).
    #[arg(long, hide = true)]
    binaries: Option<PathBuf>,
    /// Extra environment for every function (KEY=VALUE, repeatable).
    #[arg(long = "env", hide = true, value_parser = parse_kv)]
    env: Vec<(String, String)>,
    /// Give the ingest functions this SQS endpoint instead of the stack's.
    #[arg(long, hide = true)]
    ingest_sqs_endpoint: Option<String>,
}

fn parse_kv(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))
}

/// `target/<profile>`, honouring `CARGO_TARGET_DIR`.
pub fn target_dir(release: bool) -> PathBuf {
    project::target_dir().join(if release { "release" } else { "debug" })
}

/// The package name of each provider's crate (read from its Cargo.toml).
pub fn packages(manifest: &Manifest) -> Result<Vec<String>> {
    let root = project::root();
    manifest
        .providers
        .iter()
        .map(|p| {
            let path = root.join(p.crate_dir()).join("Cargo.toml");
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {} (provider `{}`)", path.display(), p.name))?;
            let doc: toml::Table =
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
            doc.get("package")
                .and_then(|p| p.get("name"))
                .and_then(|n| n.as_str())
                .map(str::to_owned)
                .with_context(|| format!("{} has no [package] name", path.display()))
        })
        .collect()
}

fn build(manifest: &Manifest, release: bool) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = std::process::Command::new(cargo);
    command
        .current_dir(project::root())
        .args(["build", "--bins"]);
    if release {
        command.arg("--release");
    }
    for package in packages(manifest)? {
        command.args(["-p", &package]);
    }
    println!(
        "building the functions ({})...",
        if release { "release" } else { "debug" }
    );
    tools::run(&mut command).context("building the functions")
}

pub fn run(args: Args) -> Result<()> {
    let manifest = project::manifest()?;
    if manifest.providers.is_empty() {
        bail!(
            "{} has no providers yet: add one with `cargo xtask new <name> --template <template>`",
            project::manifest_path().display()
        );
    }
    let binaries = match args.binaries.clone() {
        Some(dir) => dir,
        None => {
            build(&manifest, args.release)?;
            target_dir(args.release)
        }
    };
    let data_dir = if args.data_dir.is_absolute() {
        args.data_dir.clone()
    } else {
        project::root().join(&args.data_dir)
    };
    let mut config = StackConfig::new(manifest, data_dir.clone(), binaries);
    config.gateway_addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    config.sqs_addr = SocketAddr::from(([127, 0, 0, 1], args.sqs_port));
    config.max_instances = args.concurrency.max(1);
    config.extra_env = args.env.iter().cloned().collect::<BTreeMap<_, _>>();
    config.ingest_sqs_endpoint = args.ingest_sqs_endpoint.clone();
    config.project_root = Some(project::root());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let stack = DevStack::start(config)
            .await
            .context("starting the local stack")?;
        print_table(&stack, &data_dir);
        wait_for_stop().await;
        println!("\nstopping: finishing in-flight invocations...");
        stack.shutdown().await;
        println!(
            "stopped; queued messages are kept in {}",
            data_dir.display()
        );
        Ok(())
    })
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn print_table(stack: &DevStack, data_dir: &std::path::Path) {
    println!("\nhookline dev stack is running (Ctrl-C stops it)\n");
    for p in stack.providers() {
        println!("{}  ({})", p.name, p.scheme);
        println!("  webhook URL     {}", p.webhook_url);
        println!("  signing secret  {}", p.secret);
        println!("  queue           {}", p.queue_url);
        println!("  dead letters    {}", p.dlq_url);
    }
    println!("\nsend a signed sample:  cargo xtask send <provider> [--event <type>]");
    println!(
        "inspect the queues:    aws --endpoint-url {} --region us-east-1 sqs list-queues",
        stack.sqs_endpoint()
    );
    let (table, key) = (
        &stack.idempotency_table().table_name,
        &stack.idempotency_table().partition_key,
    );
    println!(
        "idempotency table:     {table} (DynamoDB at {})",
        stack.dynamodb_endpoint()
    );
    println!(
        "inspect the table:     aws --endpoint-url {} --region us-east-1 dynamodb get-item --table-name {table} --key '{{\"{key}\": {{\"S\": \"<key>\"}}}}'",
        stack.dynamodb_endpoint()
    );
    println!(
        "                       (any credentials work locally, e.g. AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local)"
    );
    if let Some(console) = stack.console_url() {
        println!("local console:         {console}  (deliveries, queues, replay, redrive)");
    }
    println!(
        "data (queues, table, secrets, console history): {}",
        data_dir.display()
    );
    println!(
        "hookline dev ready: gateway {} sqs {} dynamodb {}",
        stack.gateway_url(),
        stack.sqs_endpoint(),
        stack.dynamodb_endpoint()
    );
}
