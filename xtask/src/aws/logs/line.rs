//! One log line, readable. The functions log one JSON object per line (tracing-subscriber's JSON
//! format, `crates/hookline/src/lambda.rs`): `timestamp`, `level` and the event's `fields`
//! (`message`, and `status`, `code`, `delivery_id`, `message_id`, ... where the runtime logs
//! them: `crates/hookline/src/ingest.rs`, `process.rs`). Lambda's own lines (`START`, `END`,
//! `REPORT`) are text.

use serde_json::Value;

use super::Event;

/// The fields shown after the message, in this order, when a line has them.
const SHOWN: [&str; 8] = [
    "status",
    "code",
    "delivery_id",
    "message_id",
    "handshake",
    "reason",
    "error",
    "cause",
];

/// The `fields` object of a JSON line; `None` for a text line.
pub fn fields(message: &str) -> Option<serde_json::Map<String, Value>> {
    let line: Value = serde_json::from_str(message).ok()?;
    line.get("fields")?.as_object().cloned()
}

/// A field as text: strings without quotes.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `2026-12-02T10:00:01.123Z`.
fn time(timestamp_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(timestamp_ms).map_or_else(
        || timestamp_ms.to_string(),
        |t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
    )
}

/// The line to print for `event`: `None` when `status` is given and the line has another (or
/// none). `raw`: the line as written.
pub fn render(event: &Event, status: Option<u16>, raw: bool) -> Option<String> {
    let fields = fields(&event.message);
    if let Some(wanted) = status {
        let found = fields.as_ref()?.get("status")?.as_u64()?;
        if found != u64::from(wanted) {
            return None;
        }
    }
    if raw {
        return Some(event.message.clone());
    }
    let time = time(event.timestamp_ms);
    let function = event.function.as_str();
    let Some(fields) = fields else {
        return Some(format!(
            "{time}  {function:<7}  {:<5}  {}",
            "-", event.message
        ));
    };
    let level = serde_json::from_str::<Value>(&event.message)
        .ok()
        .and_then(|line| line.get("level").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "-".to_owned());
    let mut out = format!(
        "{time}  {function:<7}  {level:<5}  {}",
        fields.get("message").map(text).unwrap_or_default()
    );
    for name in SHOWN {
        if let Some(value) = fields.get(name).filter(|v| !v.is_null()) {
            out.push_str(&format!("  {name}={}", text(value)));
        }
    }
    Some(out)
}
