//! The local SQS event source mapping cuts a batch where AWS does: at the batch size, at the end
//! of the batching window, or before its event would go over Lambda's 6 MB (hookline-local's
//! `event_source`), through a real processor binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::BTreeSet;
use std::time::Duration;

use hookline_e2e::*;
use hookline_manifest::limits::LAMBDA_MAX_REQUEST_PAYLOAD_BYTES;
use serde_json::Value;

const BATCHES_OF_TEN: &str = r#"
[project]
name = "e2e"

[[providers]]
name = "acme"
template = "github"
[providers.queue]
batch_size = 10
max_batching_window_secs = 2
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_stops_before_its_event_goes_over_6_mb() {
    let h = harness(BATCHES_OF_TEN);
    let mut config = h.config();
    // One poller gathers every message (several would split them between their batches).
    config.max_instances = 1;
    config
        .processor_overrides
        .insert("acme".into(), binaries().join("batch-recorder-process"));
    let stack = hookline_local::DevStack::start(config).await.unwrap();
    let client = sqs(&stack.sqs_endpoint()).await;
    let queue = stack.providers()[0].queue_url.clone();
    // Ten messages of 900 KB: one batch of ten would be a 9 MB event.
    let body = "m".repeat(900_000);
    let mut sent = BTreeSet::new();
    for _ in 0..10 {
        let out = client
            .send_message()
            .queue_url(&queue)
            .message_body(&body)
            .send()
            .await
            .unwrap();
        sent.insert(out.message_id.unwrap());
    }
    let path = h.recorder.join("batches.jsonl");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let batches: Vec<Value> = loop {
        let batches: Vec<Value> = std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let records: usize = batches
            .iter()
            .map(|b| b["message_ids"].as_array().unwrap().len())
            .sum();
        if records >= sent.len() || tokio::time::Instant::now() > deadline {
            break batches;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let processed: BTreeSet<String> = batches
        .iter()
        .flat_map(|b| b["message_ids"].as_array().unwrap().clone())
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(processed, sent, "every message was processed: {batches:?}");
    for batch in &batches {
        let bytes = batch["event_bytes"].as_u64().unwrap() as usize;
        assert!(
            bytes <= LAMBDA_MAX_REQUEST_PAYLOAD_BYTES,
            "an event of {bytes} bytes"
        );
    }
    assert!(batches.len() >= 2, "{} batches", batches.len());
    // The last batch's messages are deleted once its invocation has returned.
    assert_eq!(
        wait_empty(&client, &queue, Duration::from_secs(30)).await,
        0
    );
    stack.shutdown().await;
}
