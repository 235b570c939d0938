//! The processor's log line per message: `message processed` or `message failed`, with its SQS
//! message id (what `cargo xtask send --stage --wait` and `cargo xtask logs` look for). A test
//! binary of its own: tracing caches whether a call site is enabled for the whole process, so
//! other tests hitting the same call sites without a subscriber, in parallel, could hide lines.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use hookline::aws_lambda_events::sqs::SqsEvent;
use hookline::{Delivery, Envelope, process_batch};
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn envelope(body: &str) -> String {
    Envelope {
        id: "id".into(),
        provider: "stripe".into(),
        event_type: Some("invoice.paid".into()),
        delivery_id: Some(format!("evt_{body}")),
        dedup_id: Some(format!("evt_{body}")),
        received_at: chrono::DateTime::from_timestamp(1_764_400_000, 0).unwrap(),
        content_type: None,
        headers: BTreeMap::new(),
        body: body.as_bytes().to_vec(),
        body_ref: None,
    }
    .to_json()
}

async fn handler(delivery: Delivery) -> Result<(), String> {
    match delivery.envelope.body_text() {
        Some("fail") => Err("refused".to_owned()),
        _ => Ok(()),
    }
}

#[tokio::test]
async fn each_message_logs_whether_it_was_processed_or_failed() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let records: Vec<Value> = [("m1", envelope("ok")), ("m2", envelope("fail"))]
        .iter()
        .map(|(id, body)| {
            json!({
                "messageId": id, "receiptHandle": format!("rh-{id}"), "body": body,
                "attributes": { "ApproximateReceiveCount": "1" }, "messageAttributes": {},
                "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:stripe",
                "awsRegion": "eu-west-1",
            })
        })
        .collect();
    let event: SqsEvent = serde_json::from_value(json!({ "Records": records })).unwrap();
    let response = process_batch(event, &handler).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let mut logged: Vec<[String; 4]> = text
        .lines()
        .map(|l| {
            let line: Value = serde_json::from_str(l).unwrap();
            let field = |name: &str| line["fields"][name].as_str().unwrap_or("-").to_owned();
            [
                field("message_id"),
                field("message"),
                field("delivery_id"),
                field("code"),
            ]
        })
        .collect();
    logged.sort();
    assert_eq!(
        logged,
        [
            ["m1", "message processed", "evt_ok", "-"].map(String::from),
            ["m2", "message failed", "-", "handler_error"].map(String::from),
        ],
        "{text}"
    );
}
