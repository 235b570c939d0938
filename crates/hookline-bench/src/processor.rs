//! Section 5 (issue 16): the processor per message, with the idempotency store off and on.
//!
//! The release `noop-process` (hookline's `run_processor` with a handler that does nothing)
//! runs in the Runtime API emulator and is invoked directly, as section 1 invokes ingest, with
//! SQS events of the manifest's default batch size built from the messages hookline's ingest
//! writes. The binary rather than `process_batch_measured` / `process_batch_once_measured`
//! in-process: it is what users deploy — the store made from the environment the stack gives
//! (`HOOKLINE_IDEMPOTENCY_TABLE` present or not), aws-sdk-dynamodb's client with its signing and
//! HTTP stack, the batch's metrics line, the Runtime API round trip — and its CPU is its own
//! process's, apart from the endpoint's.
//!
//! Three passes: **off** (a provider with `idempotency = false`: no table in its environment),
//! **on** (the default: every message a new delivery, so a conditional put and an update per
//! message), **duplicate** (the same deliveries again, as a provider's retry or a redrive brings
//! them: the put refused, the record read). The DynamoDB side is the local endpoint's own
//! protocol (`hookline_local::dynamodb::respond` on a `Tables` store) behind a front that counts
//! each action, so the requests per message are counted, not assumed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use bytes::Bytes;
use hookline::queue::QueueMessage;
use hookline_local::dynamodb::{TARGET_PREFIX, Tables};
use hookline_local::lambda::Function;

use crate::deliveries::{queue_messages, sqs_event, unique_events};
use crate::ingest::spec;
use crate::load::quantile;
use crate::{Ctx, LogCounter, Metrics, bench_manifest, cpu_ticks, peak_rss_mb};

/// Batches before each measured pass (instance started, connections open).
const WARM_BATCHES: usize = 5;

/// The DynamoDB actions the store uses, as the report lists them.
pub const ACTIONS: [&str; 4] = ["PutItem", "UpdateItem", "GetItem", "DeleteItem"];

/// The local DynamoDB protocol on `tables`, counting requests by action.
struct CountingDynamoDb {
    addr: std::net::SocketAddr,
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Front {
    tables: Tables,
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

async fn answer(
    State(front): State<Front>,
    headers: HeaderMap,
    body: Body,
) -> axum::response::Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let action = target.strip_prefix(TARGET_PREFIX).unwrap_or(target);
    if let Ok(mut counts) = front.counts.lock() {
        *counts.entry(action.to_owned()).or_default() += 1;
    }
    hookline_local::dynamodb::respond(&front.tables, action, body).await
}

impl CountingDynamoDb {
    async fn start(tables: Tables) -> Result<CountingDynamoDb> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let counts = Arc::new(Mutex::new(BTreeMap::new()));
        let app = axum::Router::new().fallback(answer).with_state(Front {
            tables,
            counts: Arc::clone(&counts),
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(CountingDynamoDb { addr, counts, task })
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn counts(&self) -> BTreeMap<String, u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// What one pass measured.
struct Pass {
    messages: usize,
    cpu_ticks: u64,
    wall: Duration,
    batch_us: Vec<u64>,
    requests: BTreeMap<String, u64>,
    log: (u64, u64),
}

/// Fails unless the processor answered a batch response with no failed message.
fn expect_all_processed(answer: &[u8]) -> Result<()> {
    let json: serde_json::Value = serde_json::from_slice(answer)
        .with_context(|| format!("not JSON: {}", String::from_utf8_lossy(answer)))?;
    match json.get("batchItemFailures").and_then(|f| f.as_array()) {
        Some(failures) if failures.is_empty() => Ok(()),
        _ => bail!(
            "the processor failed messages: {}",
            String::from_utf8_lossy(answer)
        ),
    }
}

async fn pass(
    function: &Function,
    logs: &LogCounter,
    front: &CountingDynamoDb,
    batches: &[Vec<QueueMessage>],
    queue: &str,
) -> Result<Pass> {
    // Events made before the clock starts: the event source's work, not the processor's.
    let events: Vec<Bytes> = batches
        .iter()
        .map(|b| sqs_event(b, queue))
        .collect::<Result<_>>()?;
    let pid = function
        .instances()
        .first()
        .and_then(|i| i.pid)
        .context("no instance pid")?;
    let requests_before = front.counts();
    let log_before = logs.settled().await;
    let cpu_before = cpu_ticks(pid)?;
    let mut batch_us = Vec::with_capacity(events.len());
    let began = Instant::now();
    for event in events {
        let t = Instant::now();
        let answer = function
            .invoke(event)
            .await
            .map_err(|e| anyhow::anyhow!("noop-process: {e}"))?;
        batch_us.push(t.elapsed().as_micros() as u64);
        expect_all_processed(&answer)?;
    }
    let wall = began.elapsed();
    let cpu_ticks = cpu_ticks(pid)? - cpu_before;
    let log_after = logs.settled().await;
    let mut requests = front.counts();
    for (action, count) in &mut requests {
        *count -= requests_before.get(action).copied().unwrap_or(0);
    }
    Ok(Pass {
        messages: batches.iter().map(Vec::len).sum(),
        cpu_ticks,
        wall,
        batch_us,
        requests,
        log: (log_after.0 - log_before.0, log_after.1 - log_before.1),
    })
}

fn record(ctx: &Ctx, m: &mut Metrics, variant: &str, mut p: Pass) {
    let n = p.messages.max(1) as f64;
    let batches = p.batch_us.len().max(1) as f64;
    let key = |what: &str| format!("processor.{variant}.{what}");
    m.push(
        key("cpu_us_per_message"),
        p.cpu_ticks as f64 * 1e6 / ctx.clk_tck / n,
    );
    m.push(key("wall_ms_per_message"), p.wall.as_secs_f64() * 1e3 / n);
    p.batch_us.sort_unstable();
    m.push(
        key("batch_p50_ms"),
        quantile(&p.batch_us, 0.5) as f64 / 1000.0,
    );
    m.push(
        key("batch_p99_ms"),
        quantile(&p.batch_us, 0.99) as f64 / 1000.0,
    );
    for action in ACTIONS {
        let count = p.requests.get(action).copied().unwrap_or(0);
        m.push(key(&format!("dynamodb.{action}")), count as f64 / n);
    }
    m.push(key("log_lines_per_batch"), p.log.0 as f64 / batches);
    m.push(key("log_bytes_per_batch"), p.log.1 as f64 / batches);
}

/// The size DynamoDB counts for the record of `key` (names and values, "Item sizes and
/// formats"), read from the table.
async fn record_bytes(tables: &Tables, table: &str, key: &str) -> Result<f64> {
    let request = serde_json::json!({
        "TableName": table,
        "Key": {"id": {"S": key}},
        "ConsistentRead": true,
    });
    let answer = tables
        .dispatch("GetItem", request.to_string().as_bytes())
        .await
        .map_err(|e| anyhow::anyhow!("reading a record back: {e}"))?;
    let item = hookline_local::dynamodb::value::item_from_json(&answer["Item"])
        .map_err(|e| anyhow::anyhow!("no record for {key}: {e}"))?;
    Ok(hookline_local::dynamodb::value::item_size(&item) as f64)
}

pub(crate) async fn measure(ctx: &Ctx, run: usize, m: &mut Metrics) -> Result<()> {
    let data = ctx.scratch.join(format!("processor-{run}"));
    std::fs::create_dir_all(&data)?;
    let manifest = bench_manifest("")?;
    let table = hookline_local::stack::local_idempotency_table(&manifest);
    let tables = Tables::start(&data.join("dynamodb.db"))
        .map_err(|e| anyhow::anyhow!("the DynamoDB store: {e}"))?;
    tables
        .ensure_table(
            &table.table_name,
            &table.partition_key,
            Some(&table.time_to_live_attribute),
        )
        .await
        .map_err(|e| anyhow::anyhow!("the idempotency table: {e}"))?;
    let front = CountingDynamoDb::start(tables.clone()).await?;
    let result = measure_passes(ctx, run, m, &front, &tables, &table).await;
    front.task.abort();
    result
}

async fn measure_passes(
    ctx: &Ctx,
    run: usize,
    m: &mut Metrics,
    front: &CountingDynamoDb,
    tables: &Tables,
    table: &hookline_manifest::ResolvedTable,
) -> Result<()> {
    let provider = &ctx.provider;
    let batch = provider.queue.batch_size.max(1) as usize;
    let body = ctx
        .payloads
        .iter()
        .max_by_key(|p| p.len())
        .context("no payload")?;
    // New deliveries for the two warm-ups and the measured passes, each its own event.
    let count = (2 * WARM_BATCHES + ctx.settings.batches) * batch;
    let events = unique_events(body, run as u32, count)?;
    let bodies: Vec<Vec<u8>> = events.iter().map(|(_, b)| b.clone()).collect();
    let messages = queue_messages(provider, &bodies).await?;
    let batches: Vec<Vec<QueueMessage>> = messages.chunks(batch).map(<[_]>::to_vec).collect();
    let (warm_off, rest) = batches.split_at(WARM_BATCHES);
    let (warm_on, measured) = rest.split_at(WARM_BATCHES);

    let off = bench_manifest("[providers.processor]\nidempotency = false\n")?
        .providers
        .into_iter()
        .next()
        .context("no provider")?;
    for (variant, env_provider) in [("off", &off), ("on", provider)] {
        let bodies = crate::bodies(&front.endpoint())?;
        let env =
            hookline_local::stack::processor_env(env_provider, &front.endpoint(), table, &bodies);
        let has_table = env.contains_key(&table.environment_variable);
        if has_table != (variant == "on") {
            bail!("the {variant} processor's environment does not match: {env:?}");
        }
        let logs = LogCounter::default();
        let function = Function::new(
            spec(
                &provider.process_binary(),
                ctx.bins.join("noop-process"),
                env,
                1,
            ),
            logs.sink(),
        );
        let warm = if variant == "off" { warm_off } else { warm_on };
        let result = async {
            for b in warm {
                let answer = function
                    .invoke(sqs_event(b, &provider.name)?)
                    .await
                    .map_err(|e| anyhow::anyhow!("noop-process: {e}"))?;
                expect_all_processed(&answer)?;
            }
            let pid = function.instances().first().and_then(|i| i.pid);
            let first = pass(&function, &logs, front, measured, &provider.name).await?;
            let puts = first.requests.get("PutItem").copied().unwrap_or(0);
            match variant {
                "off" if first.requests.values().sum::<u64>() > 0 => {
                    bail!(
                        "without idempotency the processor called DynamoDB: {:?}",
                        first.requests
                    )
                }
                "on" if puts != first.messages as u64 => {
                    bail!(
                        "with idempotency, {} messages made {puts} conditional puts",
                        first.messages
                    )
                }
                _ => {}
            }
            record(ctx, m, variant, first);
            if variant == "on" {
                // The same deliveries again, in new messages: every one a duplicate.
                let again = pass(&function, &logs, front, measured, &provider.name).await?;
                record(ctx, m, "duplicate", again);
            }
            if let Some(pid) = pid {
                m.push(format!("processor.{variant}.rss_mb"), peak_rss_mb(pid)?);
            }
            anyhow::Ok(())
        }
        .await;
        function.shutdown(Duration::from_secs(2)).await;
        result?;
    }
    let (first_id, _) = events
        .get(2 * WARM_BATCHES * batch)
        .context("no measured delivery")?;
    let key = hookline::idempotency::delivery_key(&provider.name, first_id);
    m.push(
        "processor.record_bytes",
        record_bytes(tables, &table.table_name, &key).await?,
    );
    Ok(())
}
