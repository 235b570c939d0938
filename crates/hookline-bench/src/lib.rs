//! `cargo xtask bench`'s measurements, built in release with the functions so that the local
//! stack (gateway, Runtime API emulator, SQS endpoint) and the load generator run optimised, as
//! the floors do. `xtask bench` builds this crate, runs the `hookline-bench` driver and writes
//! the report. The other binaries are the floors:
//!
//! - `noop-lambda`: a lambda_runtime function that ignores its event and answers a fixed API
//!   Gateway proxy response (the floor of an ingest invocation);
//! - `noop-process`: hookline's processor with a handler that does nothing;
//! - `bare-axum`: an axum server answering `200` to every request (the floor of the gateway);
//! - `canned-sqs`: an SQS JSON-protocol endpoint that answers every `SendMessage` at once without
//!   storing anything (separates the ingest's own cost from the queue's).
//!
//! The servers print `listening on <addr>` as their first line of standard output. Beside the
//! floors, `python/stripe_ingest.py` is the Python baseline of section 1 (see `python`).

pub mod deliveries;
pub mod ingest;
pub mod large;
pub mod load;
pub mod processor;
pub mod python;
pub mod sqs;
pub mod stack;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use hookline_local::logs::LogSink;
use tokio::io::AsyncBufReadExt;

/// Binds `addr` (from the first argument, default `127.0.0.1:0`) and prints the bound address.
pub async fn bind_from_args() -> std::io::Result<tokio::net::TcpListener> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .as_deref()
        .unwrap_or("127.0.0.1:0")
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{e}")))?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    Ok(listener)
}

/// The signing secret of the benchmark's Stripe provider.
pub const SECRET: &str = "whsec_bench0123456789abcdef0123456789abcdef";

/// Sizes of the phases.
#[derive(Debug, Clone, serde::Serialize)]
#[allow(missing_docs)]
pub struct Settings {
    pub quick: bool,
    pub runs: usize,
    pub cold_starts: usize,
    pub invocations: u64,
    pub rates: Vec<f64>,
    pub phase: Duration,
    pub drain: Duration,
    pub sqs_phase: Duration,
    pub connections: usize,
    /// Measured processor batches per variant (section 5).
    pub batches: usize,
    /// Measured invocations per variant with a 3 MB delivery (section 7).
    pub large_invocations: u64,
}

impl Settings {
    /// Phase sizes for a full or a quick run.
    pub fn new(quick: bool, runs: Option<usize>) -> Settings {
        if quick {
            Settings {
                quick: true,
                runs: runs.unwrap_or(2).max(1),
                cold_starts: 3,
                invocations: 600,
                rates: vec![500.0, 2000.0, 5000.0],
                phase: Duration::from_millis(2500),
                drain: Duration::from_secs(3),
                sqs_phase: Duration::from_millis(1500),
                connections: 64,
                batches: 40,
                large_invocations: 10,
            }
        } else {
            Settings {
                quick: false,
                runs: runs.unwrap_or(3).max(1),
                cold_starts: 10,
                invocations: 4000,
                rates: vec![500.0, 2000.0, 5000.0],
                phase: Duration::from_secs(10),
                drain: Duration::from_secs(10),
                sqs_phase: Duration::from_secs(5),
                connections: 64,
                batches: 300,
                large_invocations: 60,
            }
        }
    }
}

/// What every section shares: binaries, scratch space, the provider, the payloads.
#[allow(missing_docs)]
pub struct Ctx {
    pub settings: Settings,
    pub bins: PathBuf,
    pub scratch: PathBuf,
    pub provider: hookline_manifest::Provider,
    /// Signed-later Stripe fixtures, 1-4 KB.
    pub payloads: Vec<Vec<u8>>,
    pub clk_tck: f64,
    /// The Python baseline: an interpreter with awslambdaric and boto3, and the function's file.
    pub python: python::Baseline,
}

/// Every figure of every run, by name; the report takes medians.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    /// Key → one value per run.
    pub values: BTreeMap<String, Vec<f64>>,
}

impl Metrics {
    /// Adds one run's value.
    pub fn push(&mut self, key: impl Into<String>, value: f64) {
        self.values.entry(key.into()).or_default().push(value);
    }
}

/// Stripe signature headers for `body`, signed now.
pub fn signed_headers(body: &[u8]) -> Result<Vec<(String, String)>> {
    let signer = hookline::sign::Signer::new(
        "stripe".parse().map_err(|e| anyhow::anyhow!("{e:?}"))?,
        SECRET,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut headers = signer.headers(
        body,
        chrono::Utc::now().timestamp(),
        &format!("msg_{}", uuid::Uuid::new_v4().simple()),
    )?;
    headers.push(("content-type".into(), "application/json".into()));
    Ok(headers)
}

/// Clock ticks per second of /proc/<pid>/stat.
pub fn clk_tck() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// utime + stime of a process, in clock ticks (every thread included).
pub fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("malformed /proc/<pid>/stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields
        .get(11)
        .and_then(|v| v.parse().ok())
        .context("utime")?;
    let stime: u64 = fields
        .get(12)
        .and_then(|v| v.parse().ok())
        .context("stime")?;
    Ok(utime + stime)
}

/// A floor server (`bare-axum`, `canned-sqs`): the child and the address it printed.
#[allow(missing_docs)]
pub struct Server {
    pub child: tokio::process::Child,
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `binary 127.0.0.1:0` and reads the address it prints.
    pub async fn spawn(binary: &Path) -> Result<Server> {
        let mut child = tokio::process::Command::new(binary)
            .arg("127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .context("the server did not print its address")??
            .unwrap_or_default();
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|a| a.trim().parse().ok())
            .with_context(|| format!("{}: unexpected first line {line:?}", binary.display()))?;
        Ok(Server { child, addr })
    }

    /// Kills it.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// The benchmark's manifest: project `bench`, one Stripe provider, every default. `extra` is
/// appended to the provider's table (e.g. `[providers.processor]` settings).
pub fn bench_manifest(extra: &str) -> Result<hookline_manifest::Manifest> {
    hookline_manifest::parse(
        &format!(
            "[project]\nname = \"bench\"\n\n[[providers]]\nname = \"stripe\"\ntemplate = \"stripe\"\n{extra}"
        ),
        "bench.toml",
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
}

/// The bench stack's body bucket at `endpoint` (where bodies too large for a queue message go).
pub fn bodies(endpoint: &str) -> Result<hookline_local::stack::LocalBodies> {
    Ok(hookline_local::stack::LocalBodies::of(
        &bench_manifest("")?,
        endpoint,
    ))
}

/// The Stripe provider with the manifest's defaults.
pub fn bench_provider() -> Result<hookline_manifest::Provider> {
    bench_manifest("")?
        .providers
        .into_iter()
        .next()
        .context("the bench manifest has no provider")
}

/// Counts the lines a function writes and their bytes (what CloudWatch Logs would ingest from
/// it), without keeping them.
#[derive(Clone, Default)]
pub struct LogCounter {
    lines: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
}

impl LogCounter {
    /// A sink for `Function::new` that counts every line, its newline included.
    pub fn sink(&self) -> LogSink {
        let counter = self.clone();
        LogSink::Discard.tapped(Arc::new(move |_, line| {
            counter.lines.fetch_add(1, Ordering::Relaxed);
            counter
                .bytes
                .fetch_add(line.len() as u64 + 1, Ordering::Relaxed);
        }))
    }

    /// Lines and bytes so far, once no line came for 50 ms (the emulator forwards a function's
    /// output asynchronously; at most 2 s).
    pub async fn settled(&self) -> (u64, u64) {
        let read = || {
            (
                self.lines.load(Ordering::Relaxed),
                self.bytes.load(Ordering::Relaxed),
            )
        };
        let mut last = read();
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let now = read();
            if now == last {
                break;
            }
            last = now;
        }
        last
    }
}

/// The peak resident set size of a process in MB (`VmHWM` of `/proc/<pid>/status`): what
/// Lambda's REPORT line calls "Max Memory Used".
pub fn peak_rss_mb(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .context("no VmHWM in /proc/<pid>/status")?;
    Ok(kb / 1024.0)
}

/// The Stripe fixtures (realistic events, 1-4 KB) of `dir`.
pub fn payloads(dir: &Path) -> Result<Vec<Vec<u8>>> {
    let mut payloads = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            payloads.push(std::fs::read(&path)?);
        }
    }
    payloads.sort();
    if payloads.is_empty() {
        bail!("no fixtures in {}", dir.display());
    }
    Ok(payloads)
}

/// Every section, `settings.runs` times.
pub async fn measure_all(ctx: &Ctx) -> Result<Metrics> {
    let mut metrics = Metrics::default();
    for run in 0..ctx.settings.runs {
        eprintln!("bench: run {}/{}", run + 1, ctx.settings.runs);
        eprintln!("bench:   ingest in the Runtime API emulator");
        ingest::measure(ctx, run, &mut metrics).await?;
        eprintln!("bench:   local stack end to end");
        stack::measure(ctx, run, &mut metrics).await?;
        eprintln!("bench:   local SQS endpoint");
        sqs::measure(ctx, run, &mut metrics).await?;
        eprintln!("bench:   processor with and without idempotency");
        processor::measure(ctx, run, &mut metrics).await?;
        eprintln!("bench:   ingest of a 3 MB delivery through the body bucket");
        large::measure(ctx, run, &mut metrics).await?;
    }
    Ok(metrics)
}
