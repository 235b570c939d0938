//! A processor for the end-to-end tests: appends every delivery (with its raw body) to
//! `$RECORDER_DIR/<provider>.jsonl`, and refuses bodies containing `poison` until the file
//! `$RECORDER_DIR/cured` exists. A body containing `crash-once` kills the instance the first
//! time it is seen (as if the process were killed mid-batch).

use std::io::Write as _;
use std::path::PathBuf;

use base64::Engine as _;
use hookline::{BoxError, Delivery};

async fn handle(delivery: Delivery) -> Result<(), BoxError> {
    let dir = PathBuf::from(std::env::var("RECORDER_DIR")?);
    let body = delivery.body();
    let crash_marker = dir.join(format!("crashed-{}", delivery.message_id));
    if body.windows(10).any(|w| w == b"crash-once") && !crash_marker.exists() {
        std::fs::write(&crash_marker, "")?;
        std::process::abort();
    }
    if body.windows(6).any(|w| w == b"poison") && !dir.join("cured").exists() {
        return Err("poison message refused".into());
    }
    let line = serde_json::json!({
        "message_id": delivery.message_id,
        "delivery_id": delivery.delivery_id(),
        "dedup_id": delivery.dedup_id(),
        "receive_count": delivery.receive_count,
        "provider": delivery.envelope.provider,
        "body": base64::engine::general_purpose::STANDARD.encode(body),
    });
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{}.jsonl", delivery.envelope.provider)))?;
    // One write per line: appends from concurrent instances do not interleave.
    file.write_all(format!("{line}\n").as_bytes())?;
    file.sync_data()?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), hookline::lambda_runtime::Error> {
    hookline::lambda::run_processor(handle).await
}
