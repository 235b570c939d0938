//! Deliveries bigger than an SQS message on the local stack, through the real binaries (issue
//! 17): ingest keeps the body in the stack's body bucket (its S3-compatible endpoint) and queues
//! a reference; the processor's handler gets the body byte for byte, and the object is deleted
//! once processed. A bucket or a queue that refuses means 503 and nothing a processor can see; a
//! failed large delivery keeps its body through the DLQ and a redrive.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hookline::Scheme;
use hookline::sign::Signer;
use hookline_e2e::*;

/// GitHub signs any bytes; failed messages come back after 6 s and go to the DLQ after one.
const MANIFEST: &str = r#"
[project]
name = "e2e"

[[providers]]
name = "github"
template = "github"
[providers.queue]
visibility_timeout_secs = 6
max_receive_count = 1
[providers.processor]
timeout_secs = 1
"#;

/// Room for a cold debug processor to fetch, hash and record megabytes within its timeout
/// (the local Lambda counts the cold start in it), and for a message caught by a kill -9 to be
/// retried rather than dead-lettered: in-flight messages come back after 30 s.
const ROOMY_MANIFEST: &str = r#"
[project]
name = "e2e"

[[providers]]
name = "github"
template = "github"
[providers.queue]
visibility_timeout_secs = 30
[providers.processor]
timeout_secs = 5
"#;

/// A JSON body of exactly `size` bytes, different for each `tag`.
fn json(size: usize, tag: &str) -> Vec<u8> {
    let mut body = format!(r#"{{"tag":"{tag}","pad":""#).into_bytes();
    body.resize(size - 2, b'x');
    body.extend_from_slice(b"\"}");
    body
}

/// Signature headers, with `content_type` instead of the JSON one.
fn headers_as(
    stack: &hookline_local::DevStack,
    body: &[u8],
    content_type: &str,
) -> Vec<(String, String)> {
    let mut headers = signed(stack, "github", body);
    headers.retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
    headers.push(("content-type".into(), content_type.into()));
    headers.push(("x-github-event".into(), "push".into()));
    headers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_json_and_binary_deliveries_reach_the_handler_byte_for_byte() {
    let h = harness(ROOMY_MANIFEST);
    let stack = h.start().await;
    let info = stack.providers()[0].clone();
    let s3 = s3(&stack.bodies().endpoint).await;
    // 5.5 MB of JSON travels in the event as text; 3 MB of binary as base64 (API Gateway
    // encodes it by content type), both far over one SQS message.
    let text = json(5_500_000, "text");
    let binary: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    for (body, content_type) in [
        (&text, "application/json"),
        (&binary, "application/octet-stream"),
    ] {
        let headers = headers_as(&stack, body, content_type);
        let (status, _, answer) = post(&info.webhook_url, &headers, body).await.unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    }
    let recorded = h.wait_recorded("github", 2, Duration::from_secs(60)).await;
    let mut bodies: Vec<Vec<u8>> = recorded.iter().map(recorded_body).collect();
    bodies.sort_by_key(Vec::len);
    let sizes: Vec<usize> = bodies.iter().map(Vec::len).collect();
    assert!(
        bodies.len() == 2 && bodies[0] == binary && bodies[1] == text,
        "recorded sizes {sizes:?}"
    );
    // Processed: the bodies are deleted (give the processor's delete a moment after its log).
    for _ in 0..100 {
        if keys(&s3, &stack.bodies().bucket).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        keys(&s3, &stack.bodies().bucket).await,
        Vec::<String>::new()
    );

    // Over the largest body an ingest can be given: 413, naming the limit; nothing stored.
    let over = json(hookline::ingest::MAX_BODY_BYTES + 1, "over");
    let headers = headers_as(&stack, &over, "application/json");
    let (status, _, answer) = post(&info.webhook_url, &headers, &over).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert_eq!(status, 413, "{answer}");
    assert!(
        answer.contains(&hookline::ingest::MAX_BODY_BYTES.to_string()),
        "{answer}"
    );
    assert_eq!(
        keys(&s3, &stack.bodies().bucket).await,
        Vec::<String>::new()
    );
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_that_cannot_be_reached_is_503_and_nothing_is_queued() {
    let h = harness(MANIFEST);
    let mut config = h.config();
    config.ingest_s3_endpoint = Some(format!("http://127.0.0.1:{}", free_port()));
    let stack = hookline_local::DevStack::start(config).await.unwrap();
    let info = stack.providers()[0].clone();
    let body = json(2_000_000, "unreachable bucket");
    let headers = headers_as(&stack, &body, "application/json");
    let (status, _, answer) = post(&info.webhook_url, &headers, &body).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert_eq!(status, 503, "{answer}");
    assert!(
        answer.contains(hookline::ingest::BODY_STORE_UNAVAILABLE),
        "{answer}"
    );
    let sqs = sqs(&stack.sqs_endpoint()).await;
    assert_eq!(depth(&sqs, &info.queue_url).await, 0);
    // A body that fits its message needs no bucket.
    let small = json(10_000, "small");
    let headers = headers_as(&stack, &small, "application/json");
    let (status, _, _) = post(&info.webhook_url, &headers, &small).await.unwrap();
    assert_eq!(status, 200);
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_that_refuses_after_the_put_is_503_and_leaves_an_orphan_body_only() {
    let h = harness(MANIFEST);
    let mut config = h.config();
    config.ingest_sqs_endpoint = Some(format!("http://127.0.0.1:{}", free_port()));
    let stack = hookline_local::DevStack::start(config).await.unwrap();
    let info = stack.providers()[0].clone();
    let body = json(2_000_000, "unreachable queue");
    let headers = headers_as(&stack, &body, "application/json");
    let (status, _, answer) = post(&info.webhook_url, &headers, &body).await.unwrap();
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&answer));
    let sqs = sqs(&stack.sqs_endpoint()).await;
    assert_eq!(depth(&sqs, &info.queue_url).await, 0);
    // Ingest may only put: the orphan is left to the bucket's lifecycle rule on AWS. No message
    // names it, so no processor ever sees it.
    let s3 = s3(&stack.bodies().endpoint).await;
    let orphans = keys(&s3, &stack.bodies().bucket).await;
    assert_eq!(orphans.len(), 1, "{orphans:?}");
    assert!(orphans[0].starts_with("github/"), "{orphans:?}");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_delivery_that_fails_keeps_its_body_through_the_dlq_and_a_redrive() {
    let h = harness(MANIFEST);
    let stack = h.start().await;
    let info = stack.providers()[0].clone();
    let (sqs, s3) = (
        sqs(&stack.sqs_endpoint()).await,
        s3(&stack.bodies().endpoint).await,
    );
    // The recorder refuses bodies containing "poison" until it is cured.
    let body = json(2_500_000, "poison");
    let headers = headers_as(&stack, &body, "application/json");
    let (status, _, _) = post(&info.webhook_url, &headers, &body).await.unwrap();
    assert_eq!(status, 200);
    let mut in_dlq = 0;
    for _ in 0..300 {
        in_dlq = depth(&sqs, &info.dlq_url).await;
        if in_dlq == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(in_dlq, 1, "the failed delivery should be in the DLQ");
    let kept = keys(&s3, &stack.bodies().bucket).await;
    assert_eq!(kept.len(), 1, "a dead letter keeps its body: {kept:?}");

    std::fs::write(h.recorder.join("cured"), "").unwrap();
    // `dlq redrive` does this: SQS's own redrive, from the DLQ back to its source.
    sqs.start_message_move_task()
        .source_arn(queue_arn(&sqs, &info.dlq_url).await)
        .destination_arn(queue_arn(&sqs, &info.queue_url).await)
        .send()
        .await
        .unwrap();
    let recorded = h.wait_recorded("github", 1, Duration::from_secs(60)).await;
    assert_eq!(recorded.len(), 1);
    assert!(
        recorded_body(&recorded[0]) == body,
        "the redriven body differs"
    );
    for _ in 0..100 {
        if keys(&s3, &stack.bodies().bucket).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        keys(&s3, &stack.bodies().bucket).await,
        Vec::<String>::new()
    );
    stack.shutdown().await;
}

/// A burst of 1.5 MB deliveries from 3 senders, the stack killed with SIGKILL once 12 are under
/// way; returns the tags answered 200.
async fn large_burst_then_kill(
    h: &Harness,
    stack: &mut std::process::Child,
    port: u16,
) -> BTreeSet<String> {
    let secret = std::fs::read_to_string(h.data.join("secrets/github")).unwrap();
    let signer = Signer::new("github".parse::<Scheme>().unwrap(), secret.trim()).unwrap();
    let url = format!("http://127.0.0.1:{port}/webhooks/github");
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut senders = Vec::new();
    for worker in 0..3 {
        let (signer, url, acked, sent) = (
            signer.clone(),
            url.clone(),
            Arc::clone(&acked),
            Arc::clone(&sent),
        );
        senders.push(tokio::spawn(async move {
            for n in 0..10 {
                let tag = format!("w{worker}n{n}");
                let body = json(1_500_000, &tag);
                let mut headers = signer
                    .headers(&body, chrono::Utc::now().timestamp(), "")
                    .unwrap();
                headers.push(("content-type".into(), "application/json".into()));
                headers.push(("x-github-event".into(), "push".into()));
                sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                match post(&url, &headers, &body).await {
                    Ok((200, _, _)) => {
                        acked.lock().unwrap().insert(tag);
                    }
                    Ok(_) => {}
                    Err(_) => return, // the stack is gone
                }
            }
        }));
    }
    while sent.load(std::sync::atomic::Ordering::SeqCst) < 12 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stack.kill().unwrap();
    stack.wait().unwrap();
    for sender in senders {
        sender.await.unwrap();
    }
    acked.lock().unwrap().clone()
}

/// The tag of a recorded delivery (its body starts `{"tag":"<tag>"`), checked whole.
fn tag(line: &serde_json::Value) -> String {
    let body = recorded_body(line);
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let tag = value["tag"].as_str().unwrap().to_owned();
    assert!(body == json(1_500_000, &tag), "{tag}: the body differs");
    tag
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_burst_of_large_deliveries_loses_no_acknowledged_one() {
    let h = harness(ROOMY_MANIFEST);
    let (port, sqs_port) = (free_port(), free_port());
    let mut stack = dev(&h, port, sqs_port);
    wait_ready(port).await;
    let acked = large_burst_then_kill(&h, &mut stack, port).await;
    assert!(
        !acked.is_empty(),
        "part of the burst should be acknowledged before the kill"
    );

    let mut stack = dev(&h, port, sqs_port);
    wait_ready(port).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let missing = loop {
        let processed: BTreeSet<String> = h.recorded("github").iter().map(tag).collect();
        let missing: Vec<&String> = acked.difference(&processed).collect();
        if missing.is_empty() || tokio::time::Instant::now() > deadline {
            break missing.len();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let _ = Command::new("kill")
        .arg("-INT")
        .arg(stack.id().to_string())
        .status();
    let _ = stack.wait();
    assert_eq!(
        missing,
        0,
        "{missing} of {} acknowledged large deliveries were never processed",
        acked.len()
    );
}
