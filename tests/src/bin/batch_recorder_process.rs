//! A processor for the batch tests: appends one line per invocation to
//! `$RECORDER_DIR/batches.jsonl` (the event's size as JSON and its records' message ids) and
//! reports every message processed.

use std::io::Write as _;
use std::path::PathBuf;

use hookline::lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn record(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let dir = PathBuf::from(std::env::var("RECORDER_DIR")?);
    let ids: Vec<Value> = event.payload["Records"]
        .as_array()
        .map(|records| records.iter().map(|r| r["messageId"].clone()).collect())
        .unwrap_or_default();
    let line = json!({
        "event_bytes": serde_json::to_vec(&event.payload)?.len(),
        "message_ids": ids,
    });
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("batches.jsonl"))?;
    // One write per line: appends from concurrent instances do not interleave.
    file.write_all(format!("{line}\n").as_bytes())?;
    Ok(json!({ "batchItemFailures": [] }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    hookline::lambda_runtime::run(service_fn(record)).await
}
