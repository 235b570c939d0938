//! Section 3: the local SQS endpoint alone, over HTTP (JSON protocol): durable SendMessage
//! (one message a request, then batches of ten), then ReceiveMessage (ten at a time) +
//! DeleteMessageBatch until the queue is empty or time is up. Messages are 2 KB, about an
//! envelope's size.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use hookline_local::sqs::SqsServer;
use serde_json::{Value, json};

use crate::ingest::create_queue;
use crate::load::{self, Conn, Pace, Plan, Request};
use crate::{Ctx, Metrics};

fn sqs_request(addr: std::net::SocketAddr, action: &str, body: &Value) -> Request {
    Request::post(
        addr,
        "/",
        &[
            ("x-amz-target".into(), format!("AmazonSQS.{action}")),
            ("content-type".into(), "application/x-amz-json-1.0".into()),
        ],
        body.to_string().as_bytes(),
    )
}

fn sent(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body).is_ok_and(|v| {
        v.get("MessageId").is_some()
            || (v
                .get("Successful")
                .and_then(Value::as_array)
                .is_some_and(|s| s.len() == 10)
                && v.get("Failed")
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty))
    })
}

pub(crate) async fn measure(ctx: &Ctx, run: usize, m: &mut Metrics) -> Result<()> {
    let data = ctx.scratch.join(format!("sqs-{run}"));
    let sqs = SqsServer::start("127.0.0.1:0".parse()?, &data).await?;
    let url = create_queue(&sqs, "bench").await?;
    let addr = sqs.addr();
    let message = "x".repeat(2048);
    let plan = Plan {
        pace: Pace::Closed,
        connections: 32,
        count: 10_000_000,
        duration: ctx.settings.sqs_phase,
        timeout: Duration::from_secs(10),
    };
    let result = async {
        let single = Arc::new(vec![sqs_request(
            addr,
            "SendMessage",
            &json!({ "QueueUrl": url, "MessageBody": message }),
        )]);
        let out = load::run(addr, single, plan, sent).await?;
        m.push("sqs.send.per_sec", out.ok_per_sec());
        m.push("sqs.send.p50_ms", out.quantile_ms(0.5));
        m.push("sqs.send.p99_ms", out.quantile_ms(0.99));
        let entries: Vec<Value> = (0..10)
            .map(|i| json!({ "Id": format!("m{i}"), "MessageBody": message }))
            .collect();
        let batch = Arc::new(vec![sqs_request(
            addr,
            "SendMessageBatch",
            &json!({ "QueueUrl": url, "Entries": entries }),
        )]);
        let out = load::run(addr, batch, plan, sent).await?;
        m.push("sqs.send_batch.messages_per_sec", out.ok_per_sec() * 10.0);
        m.push("sqs.send_batch.p50_ms", out.quantile_ms(0.5));
        m.push("sqs.send_batch.p99_ms", out.quantile_ms(0.99));
        let (done, elapsed) = receive_and_delete(addr, &url, ctx.settings.sqs_phase).await?;
        m.push(
            "sqs.receive_delete.messages_per_sec",
            done as f64 / elapsed.as_secs_f64(),
        );
        anyhow::Ok(())
    }
    .await;
    sqs.shutdown().await;
    result
}

/// Eight consumers: receive up to ten, delete them in one batch; until empty or `limit`.
async fn receive_and_delete(
    addr: std::net::SocketAddr,
    url: &str,
    limit: Duration,
) -> Result<(u64, Duration)> {
    let began = Instant::now();
    let receive = sqs_request(
        addr,
        "ReceiveMessage",
        &json!({ "QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 0 }),
    );
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let mut conn = Conn::new(addr)?;
        let receive = receive.clone();
        let url = url.to_owned();
        tasks.spawn(async move {
            let mut done = 0u64;
            while began.elapsed() < limit {
                let (status, body) = conn.send(&receive).await?;
                let answer: Value = serde_json::from_slice(&body)?;
                let messages = answer
                    .get("Messages")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if status != 200 || messages.is_empty() {
                    break;
                }
                let entries: Vec<Value> = messages
                    .iter()
                    .enumerate()
                    .map(|(i, m)| json!({ "Id": format!("d{i}"), "ReceiptHandle": m["ReceiptHandle"] }))
                    .collect();
                let delete = sqs_request(
                    addr,
                    "DeleteMessageBatch",
                    &json!({ "QueueUrl": url, "Entries": entries }),
                );
                let (status, body) = conn.send(&delete).await?;
                let answer: Value = serde_json::from_slice(&body)?;
                if status == 200 {
                    done += answer
                        .get("Successful")
                        .and_then(Value::as_array)
                        .map_or(0, |s| s.len() as u64);
                }
            }
            anyhow::Ok((done, Instant::now()))
        });
    }
    let mut done = 0;
    let mut last = began;
    while let Some(joined) = tasks.join_next().await {
        let (n, end) = joined??;
        done += n;
        last = last.max(end);
    }
    Ok((done, last.duration_since(began)))
}
