//! The SQS event source mapping: polls a queue, invokes the processor with batches, deletes what
//! succeeded and honours `batchItemFailures` exactly as AWS documents it. Failed messages come
//! back after their visibility timeout, and after `maxReceiveCount` receives the queue moves
//! them to its DLQ.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use axum::body::Bytes;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::lambda::Function;
use crate::logs::LogSink;
use crate::sqs::StoreHandle;
use crate::sqs::store::Received;

/// How a queue feeds its processor.
#[derive(Debug, Clone)]
pub struct EventSourceSpec {
    /// Queue name.
    pub queue: String,
    /// Queue ARN (in each record's `eventSourceARN`).
    pub queue_arn: String,
    /// Most messages per invocation.
    pub batch_size: u32,
    /// How long to gather a batch.
    pub window: Duration,
    /// Concurrent pollers (each runs one batch at a time).
    pub pollers: usize,
}

/// What a processor's answer means for its batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Delete everything.
    Succeeded,
    /// Delete everything but these message ids.
    PartiallyFailed(Vec<String>),
    /// Delete nothing.
    Failed(String),
}

/// Reads a processor's response as Lambda does with `ReportBatchItemFailures`: empty, null or
/// an empty list is success; an unknown, empty or missing `itemIdentifier`, or a response that
/// is not JSON, fails the whole batch.
pub fn interpret(response: &[u8], batch_ids: &[String]) -> BatchOutcome {
    let text = String::from_utf8_lossy(response);
    if text.trim().is_empty() {
        return BatchOutcome::Succeeded;
    }
    let value: Value = match serde_json::from_str(&text) {
        Ok(value) => value,
        Err(_) => return BatchOutcome::Failed("the response is not valid JSON".into()),
    };
    let failures = match value.get("batchItemFailures") {
        None | Some(Value::Null) => return BatchOutcome::Succeeded,
        Some(Value::Array(items)) if items.is_empty() => return BatchOutcome::Succeeded,
        Some(Value::Array(items)) => items,
        Some(_) => return BatchOutcome::Failed("batchItemFailures is not a list".into()),
    };
    let known: HashSet<&str> = batch_ids.iter().map(String::as_str).collect();
    let mut failed = Vec::new();
    for item in failures {
        match item.get("itemIdentifier").and_then(Value::as_str) {
            Some(id) if !id.is_empty() && known.contains(id) => failed.push(id.to_owned()),
            Some(id) if !id.is_empty() => {
                return BatchOutcome::Failed(format!("itemIdentifier {id} is not in the batch"));
            }
            _ => return BatchOutcome::Failed("an itemIdentifier is empty, null or missing".into()),
        }
    }
    BatchOutcome::PartiallyFailed(failed)
}

/// A running event source mapping.
pub struct EventSource {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl EventSource {
    /// Starts polling.
    pub fn start(
        store: StoreHandle,
        function: Function,
        spec: EventSourceSpec,
        logs: LogSink,
    ) -> EventSource {
        let (stop, stopped) = watch::channel(false);
        let tasks = (0..spec.pollers.max(1))
            .map(|_| {
                let poller = Poller {
                    store: store.clone(),
                    function: function.clone(),
                    spec: spec.clone(),
                    logs: logs.clone(),
                    stopped: stopped.clone(),
                };
                tokio::spawn(poller.run())
            })
            .collect();
        EventSource { stop, tasks }
    }

    /// Stops polling; batches being processed finish first.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

struct Poller {
    store: StoreHandle,
    function: Function,
    spec: EventSourceSpec,
    logs: LogSink,
    stopped: watch::Receiver<bool>,
}

impl Poller {
    async fn run(mut self) {
        while !*self.stopped.borrow() {
            let batch = self.gather().await;
            if batch.is_empty() {
                continue;
            }
            self.process(batch).await;
        }
    }

    /// Receives up to a batch, waiting up to the batching window (or for the first message).
    async fn gather(&mut self) -> Vec<Received> {
        let started = tokio::time::Instant::now();
        let mut batch: Vec<Received> = Vec::new();
        loop {
            let changed = self.store.changed().notified();
            let want = (self.spec.batch_size as usize - batch.len()).min(10) as u32;
            let queue = self.spec.queue.clone();
            match self
                .store
                .call(move |s| s.receive(&queue, want, None, chrono::Utc::now().timestamp_millis()))
                .await
            {
                Ok(got) => batch.extend(got),
                Err(err) => self.logs.line(
                    &self.function_name(),
                    &format!("[hookline] receive failed: {err}"),
                ),
            }
            let full = batch.len() >= self.spec.batch_size as usize;
            let window_over = started.elapsed() >= self.spec.window;
            if full || (window_over && !batch.is_empty()) || *self.stopped.borrow() {
                return batch;
            }
            // Wait for a send, a visibility expiry (polled), or the stop signal.
            let nap = if batch.is_empty() {
                Duration::from_millis(200)
            } else {
                self.spec
                    .window
                    .saturating_sub(started.elapsed())
                    .min(Duration::from_millis(50))
            };
            tokio::select! {
                _ = tokio::time::timeout(nap, changed) => {}
                _ = self.stopped.changed() => {}
            }
        }
    }

    fn function_name(&self) -> String {
        self.function.name().to_owned()
    }

    async fn process(&self, batch: Vec<Received>) {
        let ids: Vec<String> = batch.iter().map(|m| m.message_id.clone()).collect();
        let event = json!({ "Records": batch.iter().map(|m| self.record(m)).collect::<Vec<_>>() });
        let outcome = match self.function.invoke(Bytes::from(event.to_string())).await {
            Ok(response) => interpret(&response, &ids),
            Err(err) => BatchOutcome::Failed(err.to_string()),
        };
        let failed: HashSet<String> = match &outcome {
            BatchOutcome::Succeeded => HashSet::new(),
            BatchOutcome::PartiallyFailed(ids) => ids.iter().cloned().collect(),
            BatchOutcome::Failed(reason) => {
                self.logs.line(&self.function_name(), &format!("[hookline] batch of {} failed: {reason}; its messages return after the visibility timeout", ids.len()));
                return;
            }
        };
        let receipts: Vec<String> = batch
            .iter()
            .filter(|m| !failed.contains(&m.message_id))
            .map(|m| m.receipt_handle.clone())
            .collect();
        let queue = self.spec.queue.clone();
        let deleted = self
            .store
            .call(move |s| {
                for receipt in &receipts {
                    s.delete(&queue, receipt)?;
                }
                Ok(())
            })
            .await;
        if let Err(err) = deleted {
            self.logs.line(
                &self.function_name(),
                &format!("[hookline] deleting processed messages failed: {err}"),
            );
        }
    }

    fn record(&self, m: &Received) -> Value {
        let attributes: BTreeMap<String, Value> = m
            .attributes
            .iter()
            .map(|(name, v)| {
                use base64::Engine as _;
                let mut out = json!({ "dataType": v.data_type, "stringListValues": [], "binaryListValues": [] });
                if let Some(s) = &v.string_value {
                    out["stringValue"] = s.clone().into();
                }
                if let Some(b) = &v.binary_value {
                    out["binaryValue"] = base64::engine::general_purpose::STANDARD.encode(b).into();
                }
                (name.clone(), out)
            })
            .collect();
        json!({
            "messageId": m.message_id,
            "receiptHandle": m.receipt_handle,
            "body": m.body,
            "attributes": m.system,
            "messageAttributes": attributes,
            "md5OfBody": crate::sqs::md5::of_body(&m.body),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.spec.queue_arn,
            "awsRegion": crate::sqs::store::REGION,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        vec!["m1".into(), "m2".into()]
    }

    #[test]
    fn success_shapes() {
        for response in [
            "",
            "null",
            "{}",
            r#"{"batchItemFailures":[]}"#,
            r#"{"batchItemFailures":null}"#,
        ] {
            assert_eq!(
                interpret(response.as_bytes(), &ids()),
                BatchOutcome::Succeeded,
                "{response}"
            );
        }
    }

    #[test]
    fn partial_failures_name_their_messages() {
        let response = br#"{"batchItemFailures":[{"itemIdentifier":"m2"}]}"#;
        assert_eq!(
            interpret(response, &ids()),
            BatchOutcome::PartiallyFailed(vec!["m2".into()])
        );
    }

    #[test]
    fn invalid_responses_fail_the_whole_batch() {
        for response in [
            "not json",
            r#"{"batchItemFailures":[{"itemIdentifier":""}]}"#,
            r#"{"batchItemFailures":[{"itemIdentifier":null}]}"#,
            r#"{"batchItemFailures":[{"itemId":"m1"}]}"#,
            r#"{"batchItemFailures":[{"itemIdentifier":"m9"}]}"#,
            r#"{"batchItemFailures":"m1"}"#,
        ] {
            assert!(
                matches!(
                    interpret(response.as_bytes(), &ids()),
                    BatchOutcome::Failed(_)
                ),
                "{response}"
            );
        }
    }
}
