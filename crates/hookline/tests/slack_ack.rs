//! Slack's plain acknowledgement, as Slack's own SDK gives it: Bolt's `ack()` without arguments.
//! The ingest function must answer a slash command (and an interaction) the same way, or Slack
//! posts its body as a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::path::PathBuf;
use std::time::Duration;

use hookline::queue::MemoryQueue;
use hookline::sign::Signer;
use hookline::{Ingest, Scheme, SigningSecret, Verifier};
use serde_json::{Value, json};

/// Bolt's plain `ack()`: its status and body, from the venv `cargo xtask test` creates.
fn bolt_ack() -> (i64, String) {
    let python = std::env::var_os("HOOKLINE_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/venv/bin/python")
        });
    let out = std::process::Command::new(&python)
        .args([
            "-c",
            "import json; from slack_bolt.context.ack import Ack; r = Ack()(); print(json.dumps([r.status, r.body]))",
        ])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e}; run `cargo xtask test` (it installs slack-bolt into .tools/venv)",
                python.display()
            )
        });
    assert!(
        out.status.success(),
        "slack-bolt is required: run `cargo xtask test` (it installs it into .tools/venv)\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        answer[0].as_i64().unwrap(),
        answer[1].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_slash_command_is_acknowledged_as_bolt_acknowledges_it() {
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    let verifier = Verifier::new(
        "slack".parse::<Scheme>().unwrap(),
        &[SigningSecret::new(secret)],
        Duration::from_secs(300),
    )
    .unwrap();
    let ingest = Ingest::new("slack", verifier, MemoryQueue::new());
    let body = "token=x&team_id=T1&command=%2Fdeploy&text=prod&trigger_id=1.2.3&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1";
    let now = chrono::Utc::now().timestamp();
    let mut headers = serde_json::Map::new();
    for (name, value) in Signer::new("slack".parse().unwrap(), secret)
        .unwrap()
        .headers(body.as_bytes(), now, "")
        .unwrap()
    {
        headers.insert(name.to_ascii_lowercase(), Value::String(value));
    }
    headers.insert(
        "content-type".into(),
        "application/x-www-form-urlencoded".into(),
    );
    let request = serde_json::from_value(json!({
        "version": "2.0",
        "rawPath": "/webhooks/slack",
        "headers": headers,
        "requestContext": { "http": { "method": "POST", "path": "/webhooks/slack" }, "requestId": "r1", "timeEpoch": 0 },
        "body": body,
        "isBase64Encoded": false
    }))
    .unwrap();
    let response = ingest.handle(request).await;
    let ours = (
        response.status_code,
        match response.body {
            None => String::new(),
            Some(aws_lambda_events::encodings::Body::Text(text)) => text,
            Some(other) => panic!("{other:?}"),
        },
    );
    assert_eq!(ours, bolt_ack());
    assert_eq!(ingest.queue().messages().len(), 1);
}
