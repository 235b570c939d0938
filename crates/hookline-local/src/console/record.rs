//! From what the stack's parts tell (the gateway's exchanges, the event source's attempts, the
//! queues' events, the processors' log lines) to history records.

use axum::http::HeaderMap;
use serde_json::Value;

use super::history::{DeliveryRecord, Record, TimelineRecord};
use crate::event_source::{Attempt, AttemptOutcome};
use crate::gateway::Exchange;
use crate::sqs::observe::{MoveReason, QueueEvent};

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// The record of an exchange; `provider` is the route's provider.
pub fn delivery(exchange: Exchange, provider: Option<String>) -> Record {
    let answer: Option<Value> = serde_json::from_slice(&exchange.response_body).ok();
    let field = |name: &str| {
        answer
            .as_ref()
            .and_then(|a| a.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let refused = !exchange.status.is_success();
    // Ingest's refusals say `{"error": code, "message": ...}`; the HTTP API's own errors only
    // `{"message": ...}`.
    let (error_code, error_message) = match (refused, field("error"), field("message")) {
        (false, _, _) => (None, None),
        (true, Some(code), message) => (Some(code), message),
        (true, None, Some(message)) => (Some("gateway".to_owned()), Some(message)),
        (true, None, None) => (None, None),
    };
    Record::Delivery(Box::new(DeliveryRecord {
        id: exchange.id,
        received_ms: exchange.received_ms,
        provider,
        method: exchange.method.to_string(),
        target: exchange
            .uri
            .path_and_query()
            .map_or_else(|| exchange.uri.path().to_owned(), |p| p.as_str().to_owned()),
        headers: header_pairs(&exchange.headers),
        body: exchange.body.to_vec(),
        status: exchange.status.as_u16(),
        error_code,
        error_message,
        response_headers: header_pairs(&exchange.response_headers),
        response_body: exchange.response_body.to_vec(),
        latency_ms: exchange.latency.as_secs_f64() * 1000.0,
        trace_id: exchange.trace_id,
        message_id: (!refused).then(|| field("message_id")).flatten(),
        replay_of: exchange.replay_of,
    }))
}

/// The records of a batch's attempts.
pub fn attempts(attempts: Vec<Attempt>) -> impl Iterator<Item = Record> {
    attempts.into_iter().map(|attempt| {
        let (outcome, error) = match attempt.outcome {
            AttemptOutcome::Succeeded => ("succeeded", None),
            AttemptOutcome::Failed => ("failed", None),
            AttemptOutcome::BatchFailed(reason) => ("batch_failed", Some(reason)),
        };
        Record::Timeline(TimelineRecord {
            message_id: attempt.message_id,
            at_ms: attempt.started_ms,
            kind: "attempt",
            queue: attempt.queue,
            receive_count: Some(attempt.receive_count),
            outcome: Some(outcome),
            error,
            duration_ms: Some(attempt.duration.as_secs_f64() * 1000.0),
            other_message_id: None,
        })
    })
}

/// The records of queue events; sends to queues other than `watched` (the providers' queues)
/// are not deliveries and are left out.
pub fn queue_events(
    events: Vec<QueueEvent>,
    watched: &dyn Fn(&str) -> bool,
) -> impl Iterator<Item = Record> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut records = Vec::new();
    for event in events {
        match event {
            QueueEvent::Sent {
                queue,
                message_id,
                body,
                trace_id,
            } if watched(&queue) => {
                let envelope = hookline::Envelope::from_json(&body).ok();
                records.push(Record::Sent {
                    queue,
                    message_id,
                    trace_id,
                    event_type: envelope.as_ref().and_then(|e| e.event_type.clone()),
                    delivery_id: envelope.and_then(|e| e.delivery_id),
                    body,
                    at_ms: now,
                });
            }
            QueueEvent::Sent { .. } => {}
            QueueEvent::Moved {
                to,
                message_id,
                new_message_id,
                reason: MoveReason::DeadLetter,
                ..
            } => records.push(Record::Timeline(TimelineRecord {
                message_id: new_message_id.clone(),
                at_ms: now,
                kind: "dead_lettered",
                queue: to,
                other_message_id: (new_message_id != message_id).then_some(message_id),
                ..TimelineRecord::default()
            })),
            QueueEvent::Moved {
                to,
                message_id,
                new_message_id,
                reason: MoveReason::Redrive,
                ..
            } => records.push(Record::Redriven {
                from_id: message_id,
                to_id: new_message_id,
                queue: to,
                at_ms: now,
            }),
            QueueEvent::Removed { queue, message_id } => {
                records.push(Record::Timeline(TimelineRecord {
                    message_id,
                    at_ms: now,
                    kind: "deleted",
                    queue,
                    ..TimelineRecord::default()
                }));
            }
        }
    }
    records.into_iter()
}

/// What a processor built on hookline logs when a handler fails a message (`process::report`:
/// `{"level":"ERROR","fields":{"message":"message failed","message_id":..,"error":..}}`).
pub fn handler_error(line: &str) -> Option<Record> {
    use hookline::logline::{FIELDS, MESSAGE, MESSAGE_FAILED};
    if !line.contains(MESSAGE_FAILED) {
        return None;
    }
    let value: Value = serde_json::from_str(line).ok()?;
    let fields = value.get(FIELDS)?;
    if fields.get(MESSAGE)?.as_str()? != MESSAGE_FAILED {
        return None;
    }
    Some(Record::HandlerError {
        message_id: fields.get("message_id")?.as_str()?.to_owned(),
        error: fields.get("error")?.as_str()?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic)] // test code: failing loudly is the point

    use super::*;

    #[test]
    fn handler_errors_are_read_from_hooklines_log_line() {
        let line = r#"{"timestamp":"2025-01-01T00:00:00Z","level":"ERROR","fields":{"message":"message failed","message_id":"m1","error":"handler error: poison message refused"}}"#;
        match handler_error(line) {
            Some(Record::HandlerError { message_id, error }) => {
                assert_eq!(message_id, "m1");
                assert_eq!(error, "handler error: poison message refused");
            }
            other => panic!("{other:?}"),
        }
        for other in [
            "plain text: message failed",
            r#"{"fields":{"message":"webhook queued"}}"#,
            r#"{"fields":{"message":"message failed"}}"#,
        ] {
            assert!(handler_error(other).is_none(), "{other}");
        }
    }
}
