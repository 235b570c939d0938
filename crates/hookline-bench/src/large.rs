//! Section 7 (issue 17): a delivery too large for a queue message. The ingest writes the body
//! to the body bucket (the local S3 endpoint, durable like the queue), then queues a pointer to
//! it: its latency, CPU per invocation, peak memory and log lines, with the same event given to
//! the no-op floor (what carrying 3 MB through the Runtime API costs by itself, before the
//! ingest does anything).

use std::time::Instant;

use anyhow::{Context, Result, bail};
use hookline_local::lambda::Function;
use hookline_local::sqs::SqsServer;

use crate::ingest::{create_queue, event, expect_accepted, spec};
use crate::{Ctx, LogCounter, Metrics, cpu_ticks, load::quantile, peak_rss_mb};

/// The size of the delivery: 3 MB, as issue 17 asks, three times what one SQS message holds.
pub const LARGE_BODY_BYTES: usize = 3_000_000;

/// The variants, floor first.
pub(crate) const VARIANTS: [&str; 2] = ["noop", "ingest"];

/// Invocations before measuring (the instance's first connections and allocations).
const WARM_UP: u64 = 3;

/// A Stripe event of exactly `size` bytes: its object a list whose `data` holds the fixtures,
/// repeated (so that the gateway event escapes as much of it as a real body's), with JSON
/// whitespace before the last brace making up the rest.
pub fn large_body(payloads: &[Vec<u8>], size: usize) -> Result<Vec<u8>> {
    const HEAD: &[u8] = br#"{"id":"evt_bench_large_delivery","object":"event","type":"invoice.paid","data":{"object":{"object":"list","data":["#;
    const TAIL: &[u8] = b"]}}}";
    if payloads.is_empty() {
        bail!("no fixtures to build a large body from");
    }
    let mut body = HEAD.to_vec();
    let mut first = true;
    for payload in payloads.iter().cycle() {
        let separator = usize::from(!first);
        if body.len() + separator + payload.len() + TAIL.len() > size {
            break;
        }
        if !first {
            body.push(b',');
        }
        body.extend_from_slice(payload);
        first = false;
    }
    if first {
        bail!("{size} bytes cannot hold one fixture");
    }
    body.extend_from_slice(&TAIL[..TAIL.len() - 1]);
    body.resize(size - 1, b' ');
    body.push(b'}');
    Ok(body)
}

pub(crate) async fn measure(ctx: &Ctx, run: usize, m: &mut Metrics) -> Result<()> {
    let data = ctx.scratch.join(format!("large-{run}"));
    let endpoint = SqsServer::start("127.0.0.1:0".parse()?, &data).await?;
    let result = async {
        let queue_url = create_queue(&endpoint, "stripe").await?;
        let bodies = crate::bodies(&endpoint.endpoint())?;
        endpoint
            .objects()
            .create_bucket(&bodies.bucket)
            .await
            .map_err(|e| anyhow::anyhow!("creating the body bucket: {e}"))?;
        let env = hookline_local::stack::ingest_env(
            &ctx.provider,
            &queue_url,
            crate::SECRET,
            &endpoint.endpoint(),
            &bodies,
        );
        let body = large_body(&ctx.payloads, LARGE_BODY_BYTES)?;
        for variant in VARIANTS {
            let binary = match variant {
                "noop" => ctx.bins.join("noop-lambda"),
                _ => ctx.bins.join("stripe-ingest"),
            };
            measure_variant(
                ctx,
                m,
                variant,
                spec(variant, binary, env.clone(), 1),
                &body,
            )
            .await?;
        }
        // Every `200` is a body in the bucket and a pointer in the queue: nothing was refused
        // or kept only in memory.
        let answered = WARM_UP + ctx.settings.large_invocations;
        let queued = crate::stack::depth(endpoint.store(), "stripe").await?;
        if queued != answered {
            bail!("{answered} large deliveries were acknowledged, {queued} are queued");
        }
        m.push("large.body_bytes", body.len() as f64);
        m.push(
            "large.request_bytes",
            crate::deliveries::request_bytes(&body)? as f64,
        );
        // The message is the envelope with the body's pointer and hash, as ingest writes it.
        let message = crate::deliveries::queue_messages(&ctx.provider, std::slice::from_ref(&body))
            .await?
            .into_iter()
            .next()
            .context("no message")?;
        if !message.body.contains(r#""body_encoding":"s3""#) {
            bail!("a 3 MB delivery was queued without the body bucket");
        }
        m.push("large.message_bytes", message.size() as f64);
        anyhow::Ok(())
    }
    .await;
    endpoint.shutdown().await;
    result
}

async fn measure_variant(
    ctx: &Ctx,
    m: &mut Metrics,
    variant: &str,
    spec: hookline_local::lambda::FunctionSpec,
    body: &[u8],
) -> Result<()> {
    let logs = LogCounter::default();
    let function = Function::new(spec, logs.sink());
    let result = async {
        // Each invocation signs the body anew: the timestamp stays within Stripe's tolerance.
        for _ in 0..WARM_UP {
            expect_accepted(variant, function.invoke(event(body)?).await)?;
        }
        let pid = function
            .instances()
            .first()
            .and_then(|i| i.pid)
            .context("no instance pid")?;
        let n = ctx.settings.large_invocations;
        let events = (0..n).map(|_| event(body)).collect::<Result<Vec<_>>>()?;
        let mut latencies = Vec::with_capacity(events.len());
        let (lines_before, bytes_before) = logs.settled().await;
        let cpu_before = cpu_ticks(pid)?;
        for event in events {
            let t = Instant::now();
            let answer = function.invoke(event).await;
            latencies.push(t.elapsed().as_micros() as u64);
            expect_accepted(variant, answer)?;
        }
        let cpu = cpu_ticks(pid)? - cpu_before;
        m.push(format!("large.{variant}.rss_mb"), peak_rss_mb(pid)?);
        let (lines_after, bytes_after) = logs.settled().await;
        m.push(
            format!("large.{variant}.log_lines"),
            (lines_after - lines_before) as f64 / n as f64,
        );
        m.push(
            format!("large.{variant}.log_bytes"),
            (bytes_after - bytes_before) as f64 / n as f64,
        );
        latencies.sort_unstable();
        m.push(
            format!("large.{variant}.p50_ms"),
            quantile(&latencies, 0.5) as f64 / 1000.0,
        );
        m.push(
            format!("large.{variant}.p99_ms"),
            quantile(&latencies, 0.99) as f64 / 1000.0,
        );
        m.push(
            format!("large.{variant}.cpu_us"),
            cpu as f64 * 1e6 / ctx.clk_tck / n as f64,
        );
        anyhow::Ok(())
    }
    .await;
    function.shutdown(std::time::Duration::from_secs(2)).await;
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_large_body_is_json_of_exactly_the_size_made_of_the_fixtures() {
        let fixtures = vec![
            br#"{"id":"evt_1","type":"invoice.paid","data":{"note":"a \"quoted\" word"}}"#.to_vec(),
            br#"{"id":"evt_2","type":"charge.succeeded"}"#.to_vec(),
        ];
        for size in [300, 1000, 4097] {
            let body = large_body(&fixtures, size).unwrap();
            assert_eq!(body.len(), size);
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(json["type"], "invoice.paid");
            let data = json["data"]["object"]["data"].as_array().unwrap();
            assert!(!data.is_empty());
            for (i, item) in data.iter().enumerate() {
                let fixture: serde_json::Value =
                    serde_json::from_slice(&fixtures[i % fixtures.len()]).unwrap();
                assert_eq!(item, &fixture, "{size}: item {i}");
            }
        }
        let err = large_body(&fixtures, 150).unwrap_err().to_string();
        assert_eq!(err, "150 bytes cannot hold one fixture");
        assert!(large_body(&[], 1000).is_err());
    }
}
