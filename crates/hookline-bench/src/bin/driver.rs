//! The benchmark driver `cargo xtask bench` runs (release build):
//! `hookline-bench --bins DIR --fixtures DIR --scratch DIR --python PYTHON --baseline FILE
//! --out FILE [--quick] [--runs N]`. Writes the figures of every run as JSON to FILE. PYTHON
//! (with awslambdaric and boto3) runs the Python baseline FILE (`python/stripe_ingest.py`).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use hookline_bench::python::Baseline;
use hookline_bench::{Ctx, Settings, bench_provider, clk_tck, measure_all, payloads};

fn main() -> Result<()> {
    let mut quick = false;
    let mut runs = None;
    let (mut bins, mut fixtures, mut scratch, mut out) = (None, None, None, None);
    let (mut python, mut baseline) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().context("missing value");
        match arg.as_str() {
            "--quick" => quick = true,
            "--runs" => runs = Some(value()?.parse()?),
            "--bins" => bins = Some(PathBuf::from(value()?)),
            "--fixtures" => fixtures = Some(PathBuf::from(value()?)),
            "--scratch" => scratch = Some(PathBuf::from(value()?)),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--python" => python = Some(PathBuf::from(value()?)),
            "--baseline" => baseline = Some(PathBuf::from(value()?)),
            other => bail!("unknown argument {other}"),
        }
    }
    let scratch = scratch.context("--scratch is required")?;
    std::fs::create_dir_all(&scratch)?;
    let python = Baseline {
        python: python.context("--python is required")?,
        function: baseline.context("--baseline is required")?,
    };
    python.check()?;
    let ctx = Ctx {
        settings: Settings::new(quick, runs),
        bins: bins.context("--bins is required")?,
        scratch,
        provider: bench_provider()?,
        payloads: payloads(&fixtures.context("--fixtures is required")?)?,
        clk_tck: clk_tck(),
        python,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let metrics = runtime.block_on(measure_all(&ctx));
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    let metrics = metrics?;
    std::fs::write(
        out.context("--out is required")?,
        serde_json::to_string_pretty(&metrics)?,
    )?;
    Ok(())
}
