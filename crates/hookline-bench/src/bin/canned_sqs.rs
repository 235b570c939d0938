//! An SQS JSON-protocol endpoint that answers every `SendMessage` at once, storing nothing: the
//! queue call of an ingest function without the queue's own cost. Usage: `canned-sqs [addr]`.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use md5::{Digest, Md5};

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

async fn answer(body: Bytes) -> ([(&'static str, &'static str); 1], String) {
    let digest = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("MessageBody")?
                .as_str()
                .map(|b| Md5::digest(b.as_bytes()))
        })
        .map(|d| d.iter().map(|b| format!("{b:02x}")).collect::<String>())
        .unwrap_or_default();
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    (
        [("content-type", "application/x-amz-json-1.0")],
        serde_json::json!({
            "MessageId": format!("00000000-0000-4000-8000-{id:012x}"),
            "MD5OfMessageBody": digest,
        })
        .to_string(),
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = hookline_bench::bind_from_args().await?;
    let app = axum::Router::new().fallback(answer);
    axum::serve(listener, app).await
}
