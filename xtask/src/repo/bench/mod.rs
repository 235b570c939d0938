//! `cargo xtask bench [--quick]`: ingest cost and cold start in the Runtime API emulator (beside
//! a Python baseline), the local stack end to end, the local SQS endpoint, the release zip
//! sizes, the processor with and without idempotency, the ingest of a 3 MB delivery through
//! the body bucket, each beside a floor measured in the same run, and what a million webhooks
//! cost on AWS (`cost`, with the prices of `pricing`). Writes `BENCHMARKS.md` and
//! `benchmarks/results.json` (a quick run writes under `target/bench/quick/` unless `--out`
//! says otherwise).
//!
//! The measurements live in `crates/hookline-bench` and run as its release binary
//! `hookline-bench`: the local stack runs inside the measuring process, and xtask itself is a
//! debug build, which would measure an unoptimised gateway and queue. This module builds,
//! runs the driver, and writes the report.

mod cost;
mod pricing;
mod report;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use hookline_bench::{Metrics, Settings};

use crate::{project, tools};

/// Options of `cargo xtask bench`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Args {
    /// Short phases and two runs (under 2 minutes once built): checks the benchmark works.
    #[arg(long)]
    pub quick: bool,
    /// Where to write BENCHMARKS.md and benchmarks/results.json (default: the repository root,
    /// or target/bench/quick with --quick).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Number of runs whose median is reported (default 3, 2 with --quick).
    #[arg(long)]
    pub runs: Option<usize>,
    /// Use the release binaries already in target/release instead of building them.
    #[arg(long)]
    pub no_build: bool,
}

/// The binaries the driver runs, all from target/release.
const BINARIES: [&str; 6] = [
    "hookline-bench",
    "stripe-ingest",
    "noop-lambda",
    "noop-process",
    "bare-axum",
    "canned-sqs",
];

/// The command.
pub fn run(args: Args) -> Result<()> {
    let settings = Settings::new(args.quick, args.runs);
    let root = project::root();
    let out = args.out.clone().unwrap_or_else(|| {
        if args.quick {
            target_base(&root).join("bench").join("quick")
        } else {
            root.clone()
        }
    });
    let began = Instant::now();
    let load_before = loadavg();
    if !args.no_build {
        build(&root)?;
    }
    let bins = target_base(&root).join("release");
    for bin in BINARIES {
        if !bins.join(bin).exists() {
            bail!(
                "{} is missing: run without --no-build",
                bins.join(bin).display()
            );
        }
    }
    // The Python baseline's interpreter, with awslambdaric and boto3.
    let python = tools::ensure_python_tools()?;
    let scratch = target_base(&root)
        .join("bench")
        .join(format!("scratch-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let figures = scratch.join("figures.json");
    let fixtures = root.join("functions/stripe/fixtures");
    let mut driver = Command::new(bins.join("hookline-bench"));
    driver
        .arg("--bins")
        .arg(&bins)
        .arg("--fixtures")
        .arg(&fixtures)
        .arg("--scratch")
        .arg(&scratch)
        .arg("--python")
        .arg(&python)
        .arg("--baseline")
        .arg(root.join("crates/hookline-bench/python/stripe_ingest.py"))
        .arg("--out")
        .arg(&figures)
        .arg("--runs")
        .arg(settings.runs.to_string());
    if args.quick {
        driver.arg("--quick");
    }
    let status = driver.status().context("running the hookline-bench driver");
    let metrics = std::fs::read_to_string(&figures);
    let _ = std::fs::remove_dir_all(&scratch);
    if !status?.success() {
        bail!("the benchmark driver failed");
    }
    let metrics: Metrics = serde_json::from_str(&metrics.context("reading the driver's figures")?)
        .context("parsing the driver's figures")?;
    let manifest = hookline_bench::bench_manifest("")?;
    let provider = manifest
        .providers
        .first()
        .context("the bench manifest has no provider")?;
    let payloads = hookline_bench::payloads(&fixtures)?;
    let sizes = payloads.iter().map(Vec::len);
    let zips = report::zip_sizes(&root, &bins, provider)?;
    let load_after = loadavg();
    let command = if args.quick {
        "cargo xtask bench --quick".to_owned()
    } else {
        "cargo xtask bench".to_owned()
    };
    let report = report::Report {
        settings: &settings,
        batch_size: provider.queue.batch_size,
        payload_bytes: (
            sizes.clone().min().unwrap_or_default(),
            sizes.max().unwrap_or_default(),
        ),
        metrics: &metrics,
        manifest: &manifest,
        zips,
        command,
        load_before,
        load_after,
        wall: began.elapsed(),
    };
    let (json, markdown) = report.write(&out, &root)?;
    eprintln!(
        "bench: wrote {} and {} in {:.0} s",
        markdown.display(),
        json.display(),
        began.elapsed().as_secs_f64()
    );
    Ok(())
}

fn target_base(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

fn build(root: &Path) -> Result<()> {
    eprintln!("bench: cargo build --release (stripe-webhooks, hookline-bench)");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--bins",
            "-p",
            "stripe-webhooks",
            "-p",
            "hookline-bench",
        ])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release failed");
    }
    Ok(())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}
