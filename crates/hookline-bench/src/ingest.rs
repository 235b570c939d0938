//! Section 1: one function in the Runtime API emulator (`hookline_local::lambda::Function`),
//! invoked directly: cold start (spawn → first `next`), latency and CPU per warm invocation
//! (utime + stime of the instance process over many sequential invocations), for the no-op
//! floor, the ingest writing to a queue that answers at once, and the ingest writing to the
//! local SQS endpoint (durable: the commit is on disk before the answer); then the Python
//! baseline (`crate::python`) against the same endpoint. For each: the lines and bytes it logs
//! per invocation and its peak memory (the cost model's inputs).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use hookline_local::lambda::{Function, FunctionSpec, InvokeError};
use hookline_local::logs::LogSink;
use hookline_local::sqs::SqsServer;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

use crate::{
    Ctx, LogCounter, Metrics, Server, cpu_ticks, load::quantile, peak_rss_mb, signed_headers,
};

/// The variants, floor first.
pub(crate) const VARIANTS: [&str; 3] = ["noop", "ingest_canned", "ingest_sqs"];

/// An API Gateway payload-2.0 event for a signed Stripe delivery, as the gateway makes it.
pub(crate) fn event(body: &[u8]) -> Result<Bytes> {
    let mut headers = HeaderMap::new();
    for (name, value) in signed_headers(body)?
        .into_iter()
        .chain([("host".to_owned(), "127.0.0.1:3000".to_owned())])
    {
        headers.insert(
            HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())?,
            HeaderValue::from_str(&value)?,
        );
    }
    let uri: Uri = "/webhooks/stripe".parse()?;
    let event = hookline_local::gateway::event(
        &Method::POST,
        &uri,
        &headers,
        body,
        "127.0.0.1:40000".parse()?,
    );
    Ok(Bytes::from(event.to_string()))
}

/// Fails unless the invocation answered a `200` (the delivery was queued).
pub(crate) fn expect_accepted(variant: &str, answer: Result<Bytes, InvokeError>) -> Result<()> {
    let answer = answer.map_err(|e| anyhow::anyhow!("{variant}: {e}"))?;
    let status = serde_json::from_slice::<serde_json::Value>(&answer)
        .ok()
        .and_then(|v| v.get("statusCode").and_then(|s| s.as_u64()));
    if status != Some(200) {
        bail!("{variant} answered {}", String::from_utf8_lossy(&answer));
    }
    Ok(())
}

pub(crate) async fn create_queue(sqs: &SqsServer, name: &str) -> Result<String> {
    let name = name.to_owned();
    let now = chrono::Utc::now().timestamp_millis();
    sqs.store()
        .call(move |s| s.create_queue(&name, &BTreeMap::new(), &BTreeMap::new(), now))
        .await
        .map_err(|e| anyhow::anyhow!("creating the queue: {e}"))
}

pub(crate) fn spec(
    name: &str,
    binary: std::path::PathBuf,
    env: BTreeMap<String, String>,
    max_instances: usize,
) -> FunctionSpec {
    FunctionSpec {
        name: name.to_owned(),
        binary,
        env,
        timeout: Duration::from_secs(10),
        max_instances,
    }
}

pub(crate) async fn measure(ctx: &Ctx, run: usize, m: &mut Metrics) -> Result<()> {
    let data = ctx.scratch.join(format!("ingest-{run}"));
    let sqs = SqsServer::start("127.0.0.1:0".parse()?, &data).await?;
    let queue_url = create_queue(&sqs, "stripe").await?;
    let canned = Server::spawn(&ctx.bins.join("canned-sqs")).await?;
    let bodies = crate::bodies(&sqs.endpoint())?;
    let local_env = hookline_local::stack::ingest_env(
        &ctx.provider,
        &queue_url,
        crate::SECRET,
        &sqs.endpoint(),
        &bodies,
    );
    let canned_env = hookline_local::stack::ingest_env(
        &ctx.provider,
        &queue_url,
        crate::SECRET,
        &format!("http://{}", canned.addr),
        &bodies,
    );
    // A 3-4 KB delivery (invoice.paid), the common size.
    let body = ctx
        .payloads
        .iter()
        .max_by_key(|p| p.len())
        .context("no payload")?;
    let result = async {
        for variant in VARIANTS {
            let (binary, env) = match variant {
                "noop" => (ctx.bins.join("noop-lambda"), local_env.clone()),
                "ingest_canned" => (ctx.bins.join("stripe-ingest"), canned_env.clone()),
                _ => (ctx.bins.join("stripe-ingest"), local_env.clone()),
            };
            measure_variant(ctx, m, variant, &binary, &env, body).await?;
        }
        let python = ctx.python.executable(&ctx.scratch)?;
        let python_env = crate::python::env(&local_env, &queue_url, crate::SECRET);
        measure_variant(ctx, m, "python", &python, &python_env, body).await?;
        anyhow::Ok(())
    }
    .await;
    canned.stop().await;
    sqs.shutdown().await;
    result?;
    // What the cost model meters this delivery by: its HTTP request (API Gateway) and the
    // message hookline's ingest makes of it (SQS).
    m.push(
        "webhook.request_bytes",
        crate::deliveries::request_bytes(body)? as f64,
    );
    let message = crate::deliveries::queue_messages(&ctx.provider, std::slice::from_ref(body))
        .await?
        .into_iter()
        .next()
        .context("no message")?;
    m.push("webhook.message_bytes", message.size() as f64);
    // Ratios to the floor, from this run.
    let last = |m: &Metrics, k: &str| m.values.get(k).and_then(|v| v.last().copied());
    for variant in ["ingest_canned", "ingest_sqs", "python"] {
        for what in ["cpu_us", "p50_ms", "cold_start_ms"] {
            if let (Some(a), Some(b)) = (
                last(m, &format!("ingest.{variant}.{what}")),
                last(m, &format!("ingest.noop.{what}")),
            ) && b > 0.0
            {
                m.push(format!("ingest.{variant}.{what}_ratio"), a / b);
            }
        }
    }
    Ok(())
}

async fn measure_variant(
    ctx: &Ctx,
    m: &mut Metrics,
    variant: &str,
    binary: &std::path::Path,
    env: &BTreeMap<String, String>,
    body: &[u8],
) -> Result<()> {
    let event = event(body)?;
    // Cold starts: a fresh function each time, one invocation.
    let mut colds = Vec::new();
    let mut firsts = Vec::new();
    for _ in 0..ctx.settings.cold_starts {
        let function = Function::new(
            spec(variant, binary.to_owned(), env.clone(), 1),
            LogSink::Discard,
        );
        let started = Instant::now();
        let answer = function.invoke(event.clone()).await;
        let first = started.elapsed();
        let cold = function.instances().first().and_then(|i| i.cold_start);
        function.shutdown(Duration::from_secs(2)).await;
        expect_accepted(variant, answer)?;
        colds.push(cold.context("no cold start recorded")?.as_micros() as u64);
        firsts.push(first.as_micros() as u64);
    }
    colds.sort_unstable();
    firsts.sort_unstable();
    m.push(
        format!("ingest.{variant}.cold_start_ms"),
        quantile(&colds, 0.5) as f64 / 1000.0,
    );
    m.push(
        format!("ingest.{variant}.first_invoke_ms"),
        quantile(&firsts, 0.5) as f64 / 1000.0,
    );

    // Warm invocations, one at a time, on one instance.
    let logs = LogCounter::default();
    let function = Function::new(
        spec(variant, binary.to_owned(), env.clone(), 1),
        logs.sink(),
    );
    let result = async {
        for _ in 0..50 {
            expect_accepted(variant, function.invoke(event.clone()).await)?;
        }
        let pid = function
            .instances()
            .first()
            .and_then(|i| i.pid)
            .context("no instance pid")?;
        let n = ctx.settings.invocations;
        let mut latencies = Vec::with_capacity(n as usize);
        let (lines_before, bytes_before) = logs.settled().await;
        let cpu_before = cpu_ticks(pid)?;
        let began = Instant::now();
        for _ in 0..n {
            let t = Instant::now();
            let answer = function.invoke(event.clone()).await;
            latencies.push(t.elapsed().as_micros() as u64);
            expect_accepted(variant, answer)?;
        }
        let wall = began.elapsed();
        let cpu = cpu_ticks(pid)? - cpu_before;
        m.push(format!("ingest.{variant}.rss_mb"), peak_rss_mb(pid)?);
        let (lines_after, bytes_after) = logs.settled().await;
        m.push(
            format!("ingest.{variant}.log_lines"),
            (lines_after - lines_before) as f64 / n as f64,
        );
        m.push(
            format!("ingest.{variant}.log_bytes"),
            (bytes_after - bytes_before) as f64 / n as f64,
        );
        latencies.sort_unstable();
        m.push(
            format!("ingest.{variant}.p50_ms"),
            quantile(&latencies, 0.5) as f64 / 1000.0,
        );
        m.push(
            format!("ingest.{variant}.p99_ms"),
            quantile(&latencies, 0.99) as f64 / 1000.0,
        );
        m.push(
            format!("ingest.{variant}.cpu_us"),
            cpu as f64 * 1e6 / ctx.clk_tck / n as f64,
        );
        m.push(
            format!("ingest.{variant}.invocations_per_sec"),
            n as f64 / wall.as_secs_f64(),
        );
        anyhow::Ok(())
    }
    .await;
    function.shutdown(Duration::from_secs(2)).await;
    result
}

/// What [`profile`] runs: one variant of section 1, its instance started through `wrapper`
/// (e.g. `valgrind --tool=callgrind`), `warm` invocations, then `invocations` more between the
/// `before` and `after` hooks (which get the instance's pid: `callgrind_control -z` / `-d`).
#[allow(missing_docs)]
pub struct Profile<'a> {
    pub bins: &'a std::path::Path,
    pub scratch: &'a std::path::Path,
    pub provider: &'a hookline_manifest::Provider,
    pub body: &'a [u8],
    pub variant: &'a str,
    pub wrapper: &'a [String],
    pub warm: u64,
    pub invocations: u64,
}

/// Drives one instance of a section-1 variant for a profiler; returns the measured
/// invocations' wall time.
pub async fn profile(
    p: Profile<'_>,
    before: impl FnOnce(u32) -> Result<()>,
    after: impl FnOnce(u32) -> Result<()>,
) -> Result<Duration> {
    std::fs::create_dir_all(p.scratch)?;
    let sqs = SqsServer::start("127.0.0.1:0".parse()?, &p.scratch.join("sqs")).await?;
    let queue_url = create_queue(&sqs, "stripe").await?;
    let canned = Server::spawn(&p.bins.join("canned-sqs")).await?;
    let endpoint = match p.variant {
        "ingest_canned" => format!("http://{}", canned.addr),
        _ => sqs.endpoint(),
    };
    let bodies = crate::bodies(&sqs.endpoint())?;
    let env = hookline_local::stack::ingest_env(
        p.provider,
        &queue_url,
        crate::SECRET,
        &endpoint,
        &bodies,
    );
    let real = match p.variant {
        "noop" => p.bins.join("noop-lambda"),
        "ingest_canned" | "ingest_sqs" => p.bins.join("stripe-ingest"),
        other => bail!("unknown variant {other}: one of {VARIANTS:?}"),
    };
    // The emulator clears the environment and runs one path: a script that execs the wrapper.
    let binary = if p.wrapper.is_empty() {
        real
    } else {
        let script = p.scratch.join(format!("{}-wrapped", p.variant));
        let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
        let words: Vec<String> = p
            .wrapper
            .iter()
            .map(|w| quote(w))
            .chain([quote(&real.to_string_lossy())])
            .collect();
        std::fs::write(
            &script,
            format!("#!/bin/sh\nexec {} \"$@\"\n", words.join(" ")),
        )?;
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
        script
    };
    let mut function_spec = spec(p.variant, binary, env, 1);
    function_spec.timeout = Duration::from_secs(120);
    let function = Function::new(function_spec, LogSink::Discard);
    let event = event(p.body)?;
    let result = async {
        for _ in 0..p.warm.max(1) {
            expect_accepted(p.variant, function.invoke(event.clone()).await)?;
        }
        let pid = function
            .instances()
            .first()
            .and_then(|i| i.pid)
            .context("no instance pid")?;
        before(pid)?;
        let began = Instant::now();
        for _ in 0..p.invocations {
            expect_accepted(p.variant, function.invoke(event.clone()).await)?;
        }
        let wall = began.elapsed();
        after(pid)?;
        anyhow::Ok(wall)
    }
    .await;
    function.shutdown(Duration::from_secs(5)).await;
    canned.stop().await;
    sqs.shutdown().await;
    result
}
