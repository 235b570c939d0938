//! Section 2: the local stack end to end. The bare axum floor first (closed loop), then the
//! gateway → ingest (release binary, as many instances as `cargo xtask dev` allows) → local
//! SQS path: open loop at fixed rates, then closed loop at maximum. Nothing consumes the queue
//! meanwhile, so its depth at the end must equal the number of `200`s exactly (durability).
//! Then the processor with a no-op handler drains the queue through the event source mapping:
//! processed per second.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use hookline_local::event_source::{EventSource, EventSourceSpec};
use hookline_local::gateway::{Gateway, GatewayLimits};
use hookline_local::lambda::Function;
use hookline_local::logs::LogSink;
use hookline_local::sqs::{SqsServer, StoreHandle};

use crate::ingest::{create_queue, spec};
use crate::load::{self, Outcome, Pace, Plan, Request};
use crate::{Ctx, Metrics, Server, signed_headers};

/// Instances per function, as `cargo xtask dev` runs them.
pub const MAX_INSTANCES: usize = hookline_local::stack::DEFAULT_MAX_INSTANCES;

/// Connections of the open-loop phases: enough that a due request never waits for one.
pub const OPEN_LOOP_CONNECTIONS: usize = 256;

fn webhook_requests(ctx: &Ctx, addr: std::net::SocketAddr) -> Result<Arc<Vec<Request>>> {
    let mut requests = Vec::new();
    // Signed once per run: well within Stripe's 300 s tolerance.
    for _ in 0..4 {
        for body in &ctx.payloads {
            requests.push(Request::post(
                addr,
                "/webhooks/stripe",
                &signed_headers(body)?,
                body,
            ));
        }
    }
    Ok(Arc::new(requests))
}

fn received(body: &[u8]) -> bool {
    body.windows(10).any(|w| w == b"\"received\"")
}

fn record(m: &mut Metrics, key: &str, out: &Outcome) {
    m.push(format!("{key}.ok_per_sec"), out.ok_per_sec());
    m.push(format!("{key}.p50_ms"), out.quantile_ms(0.5));
    m.push(format!("{key}.p99_ms"), out.quantile_ms(0.99));
    m.push(format!("{key}.p999_ms"), out.quantile_ms(0.999));
    m.push(format!("{key}.failed"), out.failed as f64);
    m.push(format!("{key}.not_sent"), out.not_sent as f64);
}

fn closed(ctx: &Ctx) -> Plan {
    Plan {
        pace: Pace::Closed,
        connections: ctx.settings.connections,
        count: 10_000_000,
        duration: ctx.settings.phase,
        timeout: Duration::from_secs(10),
    }
}

pub(crate) async fn depth(store: &StoreHandle, queue: &str) -> Result<u64> {
    let queue = queue.to_owned();
    let now = chrono::Utc::now().timestamp_millis();
    let counts = store
        .call(move |s| s.counts(&queue, now))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(counts.visible + counts.in_flight + counts.delayed)
}

pub(crate) async fn measure(ctx: &Ctx, run: usize, m: &mut Metrics) -> Result<()> {
    // The floor: the same requests to a server that only answers 200.
    let bare = Server::spawn(&ctx.bins.join("bare-axum")).await?;
    let requests = webhook_requests(ctx, bare.addr)?;
    let floor = load::run(bare.addr, requests, closed(ctx), received).await;
    bare.stop().await;
    let floor = floor?;
    record(m, "stack.bare_axum", &floor);

    let data = ctx.scratch.join(format!("stack-{run}"));
    let sqs = SqsServer::start("127.0.0.1:0".parse()?, &data).await?;
    let queue_url = create_queue(&sqs, "stripe").await?;
    let env = hookline_local::stack::ingest_env(
        &ctx.provider,
        &queue_url,
        crate::SECRET,
        &sqs.endpoint(),
        &crate::bodies(&sqs.endpoint())?,
    );
    let ingest = Function::new(
        spec(
            "stripe-ingest",
            ctx.bins.join("stripe-ingest"),
            env.clone(),
            MAX_INSTANCES,
        ),
        LogSink::Discard,
    );
    let routes = BTreeMap::from([("/webhooks/stripe".to_owned(), ingest.clone())]);
    let gateway = Gateway::start("127.0.0.1:0".parse()?, routes, GatewayLimits::default()).await?;
    let addr: std::net::SocketAddr = gateway.url().trim_start_matches("http://").parse()?;
    let requests = webhook_requests(ctx, addr)?;
    let mut acked = 0u64;
    let result = async {
        // Warm-up: start the instances.
        let warm = Plan {
            connections: MAX_INSTANCES * 2,
            count: 200,
            ..closed(ctx)
        };
        acked += load::run(addr, Arc::clone(&requests), warm, received)
            .await?
            .ok;
        for &rate in &ctx.settings.rates {
            let plan = Plan {
                pace: Pace::Open { rate },
                connections: OPEN_LOOP_CONNECTIONS,
                count: (rate * ctx.settings.phase.as_secs_f64()) as u64,
                duration: ctx.settings.phase,
                timeout: Duration::from_secs(10),
            };
            let out = load::run(addr, Arc::clone(&requests), plan, received).await?;
            acked += out.ok;
            record(m, &format!("stack.open_{rate}"), &out);
        }
        let out = load::run(addr, Arc::clone(&requests), closed(ctx), received).await?;
        acked += out.ok;
        record(m, "stack.closed", &out);
        if floor.ok_per_sec() > 0.0 {
            m.push(
                "stack.closed_vs_bare_axum",
                out.ok_per_sec() / floor.ok_per_sec(),
            );
        }
        anyhow::Ok(())
    }
    .await;
    gateway.shutdown().await;
    ingest.shutdown(Duration::from_secs(10)).await;
    result?;
    let queued = depth(sqs.store(), "stripe").await?;
    m.push("stack.acked", acked as f64);
    m.push("stack.queued", queued as f64);
    m.push("stack.lost", acked.saturating_sub(queued) as f64);

    // The processor (no-op handler) drains what was queued, for a bounded time.
    let processor = Function::new(
        spec(
            "stripe-process",
            ctx.bins.join("noop-process"),
            env,
            MAX_INSTANCES,
        ),
        LogSink::Discard,
    );
    let source = EventSource::start(
        sqs.store().clone(),
        processor.clone(),
        EventSourceSpec {
            queue: "stripe".into(),
            queue_arn: hookline_local::aws_local::sqs_queue_arn("stripe"),
            batch_size: ctx.provider.queue.batch_size,
            window: Duration::from_secs(u64::from(ctx.provider.queue.max_batching_window_secs)),
            pollers: MAX_INSTANCES,
        },
        LogSink::Discard,
    );
    let began = Instant::now();
    let mut left = queued;
    while left > 0 && began.elapsed() < ctx.settings.drain {
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = depth(sqs.store(), "stripe").await?;
    }
    let elapsed = began.elapsed();
    source.shutdown().await;
    processor.shutdown(Duration::from_secs(10)).await;
    sqs.shutdown().await;
    // Includes the processors' cold start, as the event source would on a fresh queue.
    m.push(
        "stack.processed_per_sec",
        queued.saturating_sub(left) as f64 / elapsed.as_secs_f64(),
    );
    Ok(())
}
