//! Runs one section-1 variant (`noop`, `ingest_canned`, `ingest_sqs`) under a profiler, so that
//! the cost of an invocation can be attributed:
//!
//! ```sh
//! cargo build --profile profiling --bins -p stripe-webhooks -p hookline-bench
//! target/profiling/profile-ingest --bins target/profiling --fixtures functions/stripe/fixtures \
//!     --variant ingest_canned --invocations 200 --callgrind /tmp/ingest.callgrind
//! callgrind_annotate --inclusive=yes /tmp/ingest.callgrind | head -60
//! ```
//!
//! With `--callgrind FILE` the instance runs under `valgrind --tool=callgrind`; its counters
//! are zeroed after the warm-up invocations (`callgrind_control -z`) and dumped after the
//! measured ones (`callgrind_control -d`), so the last dump holds exactly `--invocations`
//! invocations: divide by it. `--wrap 'perf record -g -o FILE'` runs any other wrapper.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};
use hookline_bench::ingest::{Profile, profile};
use hookline_bench::{bench_provider, payloads};

fn main() -> Result<()> {
    let (mut bins, mut fixtures, mut scratch) = (None, None, None);
    let mut variant = "ingest_canned".to_owned();
    let (mut warm, mut invocations) = (20u64, 200u64);
    let mut callgrind: Option<PathBuf> = None;
    let mut wrapper: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().context("missing value");
        match arg.as_str() {
            "--bins" => bins = Some(PathBuf::from(value()?)),
            "--fixtures" => fixtures = Some(PathBuf::from(value()?)),
            "--scratch" => scratch = Some(PathBuf::from(value()?)),
            "--variant" => variant = value()?,
            "--warm" => warm = value()?.parse()?,
            "--invocations" => invocations = value()?.parse()?,
            "--callgrind" => callgrind = Some(PathBuf::from(value()?)),
            "--wrap" => wrapper = value()?.split_whitespace().map(str::to_owned).collect(),
            other => bail!("unknown argument {other}"),
        }
    }
    let bins = std::path::absolute(bins.context("--bins is required")?)?;
    let scratch = scratch.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("profile-ingest-{}", std::process::id()))
    });
    if let Some(out) = &callgrind {
        let out = std::path::absolute(out)?;
        wrapper = [
            "/usr/bin/valgrind",
            "--tool=callgrind",
            "--collect-atstart=yes",
            &format!("--callgrind-out-file={}", out.display()),
        ]
        .map(str::to_owned)
        .to_vec();
    }
    let payloads = payloads(&fixtures.context("--fixtures is required")?)?;
    // The largest fixture, as section 1 uses.
    let body = payloads
        .iter()
        .max_by_key(|p| p.len())
        .context("no payload")?;
    let provider = bench_provider()?;
    let before_cpu = std::cell::Cell::new(Usage::default());
    let after_cpu = std::cell::Cell::new(Usage::default());
    let control = |flag: &'static str, slot: &'static str| {
        let enabled = callgrind.is_some();
        let (before_cpu, after_cpu) = (&before_cpu, &after_cpu);
        move |pid: u32| -> Result<()> {
            let usage = Usage::of(pid);
            if slot == "before" {
                before_cpu.set(usage);
            } else {
                after_cpu.set(usage);
            }
            if enabled {
                let status = Command::new("callgrind_control")
                    .arg(flag)
                    .arg(pid.to_string())
                    .stdout(std::process::Stdio::null())
                    .status()
                    .context("running callgrind_control")?;
                if !status.success() {
                    bail!("callgrind_control {flag} {pid} failed");
                }
            }
            Ok(())
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let wall = runtime.block_on(profile(
        Profile {
            bins: &bins,
            scratch: &scratch,
            provider: &provider,
            body,
            variant: &variant,
            wrapper: &wrapper,
            warm,
            invocations,
        },
        control("-z", "before"),
        control("-d", "after"),
    ));
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    let _ = std::fs::remove_dir_all(&scratch);
    let wall = wall?;
    let (b, a) = (before_cpu.get(), after_cpu.get());
    let per = |x: u64, y: u64| y.saturating_sub(x) as f64 / invocations.max(1) as f64;
    eprintln!(
        "profile-ingest: {variant}: {invocations} invocations in {:.3} s ({:.1} µs each, wall); \
         instance CPU {:.1} µs each (schedstat), {:.2} context switches each",
        wall.as_secs_f64(),
        wall.as_secs_f64() * 1e6 / invocations.max(1) as f64,
        per(b.cpu_ns, a.cpu_ns) / 1000.0,
        per(b.switches, a.switches),
    );
    Ok(())
}

/// CPU time (ns, `/proc/<pid>/task/*/schedstat`) and context switches of every thread of a
/// process.
#[derive(Debug, Default, Clone, Copy)]
struct Usage {
    cpu_ns: u64,
    switches: u64,
}

impl Usage {
    fn of(pid: u32) -> Usage {
        let mut usage = Usage::default();
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return usage;
        };
        for task in tasks.flatten() {
            let path = task.path();
            if let Ok(stat) = std::fs::read_to_string(path.join("schedstat")) {
                usage.cpu_ns += stat
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
            if let Ok(status) = std::fs::read_to_string(path.join("status")) {
                for line in status.lines() {
                    if line.starts_with("voluntary_ctxt_switches")
                        || line.starts_with("nonvoluntary_ctxt_switches")
                    {
                        usage.switches += line
                            .split_whitespace()
                            .nth(1)
                            .and_then(|v| v.parse::<u64>().ok())
                            .unwrap_or(0);
                    }
                }
            }
        }
        usage
    }
}
