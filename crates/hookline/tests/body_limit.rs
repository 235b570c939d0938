//! A body over the limit is refused with a message that names the setting to change and both
//! numbers (issue 14, item 5): `max_body_bytes`, not "the limit".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use hookline::queue::MemoryQueue;
use hookline::{Ingest, SigningSecret, Verifier};
use serde_json::{Value, json};

#[tokio::test]
async fn a_body_over_max_body_bytes_is_refused_naming_the_setting() {
    let verifier = Verifier::new(
        "github".parse().unwrap(),
        &[SigningSecret::new("It's a Secret to Everybody")],
        Duration::from_secs(300),
    )
    .unwrap();
    let ingest = Ingest::new("github", verifier, MemoryQueue::new()).with_max_body_bytes(10);
    let request = serde_json::from_value(json!({
        "version": "2.0",
        "rawPath": "/webhooks/github",
        "headers": { "content-type": "application/json" },
        "requestContext": { "http": { "method": "POST", "path": "/webhooks/github" }, "requestId": "r1", "timeEpoch": 0 },
        "body": "{\"zen\":\"Keep it logically awesome.\"}",
        "isBase64Encoded": false
    }))
    .unwrap();
    let response = ingest.handle(request).await;
    assert_eq!(response.status_code, 413);
    let Some(aws_lambda_events::encodings::Body::Text(text)) = response.body else {
        panic!("no body");
    };
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"], "payload_too_large");
    assert_eq!(
        body["message"],
        "the body is 36 bytes, over the provider's max_body_bytes (10 bytes)"
    );
    assert!(ingest.queue().messages().is_empty());
}
