//! Metrics as CloudWatch Embedded Metric Format (EMF) log lines: CloudWatch Logs extracts them
//! from the function's output, so measuring costs no call to CloudWatch (CloudWatch user guide,
//! "Specification: Embedded metric format").
//!
//! Every line is one JSON object: the `_aws` metadata (`Timestamp` in milliseconds since the
//! epoch, `CloudWatchMetrics`: directives of a `Namespace`, `Dimensions` as sets of member names
//! and `Metrics` as `{Name, Unit}`), and, as top-level members, the value of every dimension and
//! every metric a directive names. A metric's value is a number or an array of up to
//! [`MAX_VALUES`] numbers. The namespace, dimension and metric names below are the ones the
//! stack's dashboard and alarms read (through the resolved manifest).

use std::io::Write as _;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The namespace of every metric.
pub const NAMESPACE: &str = "hookline";

/// Dimension names.
pub mod dimensions {
    /// The provider's name from the manifest.
    pub const PROVIDER: &str = "provider";
    /// The stage (`HOOKLINE_STAGE`).
    pub const STAGE: &str = "stage";
    /// An ingest rejection's error code (`invalid_signature`, `queue_unavailable`, ...).
    pub const CODE: &str = "code";
}

/// Metric names.
pub mod names {
    /// Ingest: requests received (1 per request).
    pub const RECEIVED: &str = "Received";
    /// Ingest: deliveries the queue accepted.
    pub const ENQUEUED: &str = "Enqueued";
    /// Ingest: requests answered with an error (4xx or 5xx), also by `code`.
    pub const REJECTED: &str = "Rejected";
    /// Ingest: how long the queue took to accept (or refuse) a delivery, in milliseconds.
    pub const ENQUEUE_LATENCY: &str = "EnqueueLatency";
    /// Processor: messages handled successfully.
    pub const PROCESSED: &str = "Processed";
    /// Processor: messages reported failed (retried, then moved to the DLQ).
    pub const FAILED: &str = "Failed";
    /// Processor: how long one message took to handle, in milliseconds.
    pub const PROCESSING_DURATION: &str = "ProcessingDuration";
    /// Processor: how long a message waited in the queue before it was handled, in
    /// milliseconds (from its `SentTimestamp`).
    pub const QUEUE_AGE: &str = "QueueAge";
}

/// The most values one metric may carry in one line (EMF specification).
pub const MAX_VALUES: usize = 100;

const COUNT: &str = "Count";
const MILLISECONDS: &str = "Milliseconds";

/// What one ingest request came to, for its metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestOutcome<'a> {
    /// The error code of a rejected request; `None` when it was queued or a handshake.
    pub code: Option<&'a str>,
    /// Whether the queue accepted the delivery.
    pub enqueued: bool,
    /// How long the send to the queue took, when one was made.
    pub enqueue_latency_ms: Option<f64>,
}

/// One message of a processed batch, for its metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ItemOutcome {
    /// Handled successfully.
    pub ok: bool,
    /// How long handling took (`None` when it was not attempted: a FIFO batch after a failure).
    pub duration_ms: Option<f64>,
    /// How long it had waited in the queue when handling began.
    pub queue_age_ms: Option<f64>,
}

impl ItemOutcome {
    /// A message not attempted (a FIFO batch after a failure): failed, without a duration.
    pub fn not_attempted() -> ItemOutcome {
        ItemOutcome {
            ok: false,
            duration_ms: None,
            queue_age_ms: None,
        }
    }
}

/// Writes a function's EMF lines, with its provider and stage as dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metrics<'a> {
    provider: &'a str,
    stage: &'a str,
}

impl<'a> Metrics<'a> {
    /// Metrics of `provider`'s functions in `stage`.
    pub fn new(provider: &'a str, stage: &'a str) -> Metrics<'a> {
        Metrics { provider, stage }
    }

    /// The EMF line of one ingest request.
    pub fn ingest_line(&self, at: DateTime<Utc>, outcome: &IngestOutcome<'_>) -> String {
        let mut metrics = vec![
            (names::RECEIVED, COUNT, json!(1)),
            (names::ENQUEUED, COUNT, json!(u8::from(outcome.enqueued))),
            (
                names::REJECTED,
                COUNT,
                json!(u8::from(outcome.code.is_some())),
            ),
        ];
        if let Some(ms) = outcome.enqueue_latency_ms {
            metrics.push((names::ENQUEUE_LATENCY, MILLISECONDS, json!(ms)));
        }
        let mut line = self.line(&metrics);
        if let Some(code) = outcome.code {
            // The rejections again, by code: a second directive over the same members.
            line.members
                .insert(dimensions::CODE.into(), Value::String(code.into()));
            line.directives.push(directive(
                &[dimensions::PROVIDER, dimensions::STAGE, dimensions::CODE],
                &[(names::REJECTED, COUNT)],
            ));
        }
        line.render(at)
    }

    /// The EMF lines of one processed batch: counts, and each message's duration and queue
    /// age, [`MAX_VALUES`] messages per line.
    pub fn batch_lines(&self, at: DateTime<Utc>, items: &[ItemOutcome]) -> Vec<String> {
        items
            .chunks(MAX_VALUES)
            .map(|chunk| {
                let ok = chunk.iter().filter(|i| i.ok).count();
                let mut metrics = vec![
                    (names::PROCESSED, COUNT, json!(ok)),
                    (names::FAILED, COUNT, json!(chunk.len() - ok)),
                ];
                let durations: Vec<f64> = chunk.iter().filter_map(|i| i.duration_ms).collect();
                if !durations.is_empty() {
                    metrics.push((names::PROCESSING_DURATION, MILLISECONDS, json!(durations)));
                }
                let ages: Vec<f64> = chunk.iter().filter_map(|i| i.queue_age_ms).collect();
                if !ages.is_empty() {
                    metrics.push((names::QUEUE_AGE, MILLISECONDS, json!(ages)));
                }
                self.line(&metrics).render(at)
            })
            .collect()
    }

    /// Writes lines to standard output, where Lambda sends them to CloudWatch Logs. A failed
    /// write loses a metric, never the request.
    pub fn write(lines: &[String]) {
        let mut out = std::io::stdout().lock();
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }

    fn line(&self, metrics: &[(&str, &str, Value)]) -> Line {
        let mut members = Map::new();
        members.insert(dimensions::PROVIDER.into(), json!(self.provider));
        members.insert(dimensions::STAGE.into(), json!(self.stage));
        for (name, _, value) in metrics {
            members.insert((*name).into(), value.clone());
        }
        let definitions: Vec<(&str, &str)> = metrics.iter().map(|(n, u, _)| (*n, *u)).collect();
        Line {
            directives: vec![directive(
                &[dimensions::PROVIDER, dimensions::STAGE],
                &definitions,
            )],
            members,
        }
    }
}

/// One line being built: its directives and its top-level members.
struct Line {
    directives: Vec<Value>,
    members: Map<String, Value>,
}

impl Line {
    fn render(mut self, at: DateTime<Utc>) -> String {
        self.members.insert(
            "_aws".into(),
            json!({ "Timestamp": at.timestamp_millis(), "CloudWatchMetrics": self.directives }),
        );
        Value::Object(self.members).to_string()
    }
}

fn directive(dimension_set: &[&str], metrics: &[(&str, &str)]) -> Value {
    json!({
        "Namespace": NAMESPACE,
        "Dimensions": [dimension_set],
        "Metrics": metrics
            .iter()
            .map(|(name, unit)| json!({ "Name": name, "Unit": unit }))
            .collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests;
