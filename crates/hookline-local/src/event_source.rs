//! The SQS event source mapping: polls a queue, invokes the processor with batches, deletes what
//! succeeded and honours `batchItemFailures` exactly as AWS documents it. Failed messages come
//! back after their visibility timeout, and after `maxReceiveCount` receives the queue moves
//! them to its DLQ.

use std::collections::HashSet;
use std::time::Duration;

use aws_lambda_events::encodings::Base64Data;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use axum::body::Bytes;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::aws_local;
use crate::lambda::Function;
use crate::logs::LogSink;
use crate::sqs::StoreHandle;
use crate::sqs::message::Received;

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
        let outcome = match lambda_payload(&sqs_event(&batch, &self.spec.queue_arn)) {
            Err(err) => BatchOutcome::Failed(format!("the event did not serialise: {err}")),
            Ok(payload) => match self.function.invoke(Bytes::from(payload)).await {
                Ok(response) => interpret(&response, &ids),
                Err(err) => BatchOutcome::Failed(err.to_string()),
            },
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
        // Each delete on its own: one refused handle (a FIFO handle whose visibility timeout ran
        // out while the function ran) must not undo the others.
        let deleted = self
            .store
            .call(move |s| {
                let now = chrono::Utc::now().timestamp_millis();
                Ok(receipts
                    .iter()
                    .filter_map(|receipt| s.savepoint(|s| s.delete(&queue, receipt, now)).err())
                    .collect::<Vec<_>>())
            })
            .await;
        let failures = match deleted {
            Ok(failures) => failures,
            Err(err) => vec![err],
        };
        for err in failures {
            self.logs.line(
                &self.function_name(),
                &format!("[hookline] deleting a processed message failed (it will be received again): {err}"),
            );
        }
    }
}

/// The event Lambda invokes a processor with for `batch`, received from the queue `queue_arn`.
fn sqs_event(batch: &[Received], queue_arn: &str) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = batch
        .iter()
        .map(|received| {
            let mut message = SqsMessage::default();
            message.message_id = Some(received.message_id.clone());
            message.receipt_handle = Some(received.receipt_handle.clone());
            message.body = Some(received.body.clone());
            message.md5_of_body = Some(crate::sqs::md5::of_body(&received.body));
            message.attributes = received.system.clone().into_iter().collect();
            message.message_attributes = received
                .attributes
                .iter()
                .map(|(name, value)| {
                    let mut attribute = SqsMessageAttribute::default();
                    attribute.data_type = Some(value.data_type.clone());
                    attribute.string_value = value.string_value.clone();
                    attribute.binary_value = value.binary_value.clone().map(|bytes| {
                        let mut data = Base64Data::default();
                        data.0 = bytes;
                        data
                    });
                    (name.clone(), attribute)
                })
                .collect();
            message.event_source = Some("aws:sqs".to_owned());
            message.event_source_arn = Some(queue_arn.to_owned());
            message.aws_region = Some(aws_local::REGION.to_owned());
            message
        })
        .collect();
    event
}

/// `event` as Lambda sends it. `SqsMessage` writes every unset field as `null`; the documented
/// event leaves out `md5OfMessageAttributes` (which this endpoint never sets) and the value
/// field an attribute does not use (`stringValue` or `binaryValue`).
fn lambda_payload(event: &SqsEvent) -> serde_json::Result<String> {
    let mut payload = serde_json::to_value(event)?;
    let records = payload
        .get_mut("Records")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten();
    for record in records.filter_map(Value::as_object_mut) {
        if record.get("md5OfMessageAttributes") == Some(&Value::Null) {
            record.remove("md5OfMessageAttributes");
        }
        let attributes = record
            .get_mut("messageAttributes")
            .and_then(Value::as_object_mut)
            .into_iter()
            .flat_map(|attributes| attributes.values_mut());
        for attribute in attributes.filter_map(Value::as_object_mut) {
            attribute.retain(|_, value| !value.is_null());
        }
    }
    serde_json::to_string(&payload)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: failing loudly is the point

    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::json;

    use super::*;
    use crate::sqs::message::AttributeValue;

    /// The first record of the example event of "Using Lambda with Amazon SQS".
    const DOCUMENTED_RECORD: &str = r#"{
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
        "body": "Test message.",
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1545082649183",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1545082649185"
        },
        "messageAttributes": {
            "myAttribute": {
                "stringValue": "myValue",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String"
            }
        },
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
        "awsRegion": "us-east-2"
    }"#;

    fn keys(value: &Value) -> BTreeSet<String> {
        value.as_object().unwrap().keys().cloned().collect()
    }

    fn received() -> Received {
        Received {
            message_id: "m1".into(),
            receipt_handle: "hlr-1-x".into(),
            body: "Test message.".into(),
            attributes: BTreeMap::from([
                (
                    "myAttribute".to_owned(),
                    AttributeValue {
                        data_type: "String".into(),
                        string_value: Some("myValue".into()),
                        binary_value: None,
                    },
                ),
                (
                    "blob".to_owned(),
                    AttributeValue {
                        data_type: "Binary".into(),
                        string_value: None,
                        binary_value: Some(vec![0xff, 0x00]),
                    },
                ),
            ]),
            system: BTreeMap::from([
                ("ApproximateReceiveCount".to_owned(), "1".to_owned()),
                ("SentTimestamp".to_owned(), "1545082649183".to_owned()),
            ]),
        }
    }

    fn payload(batch: &[Received]) -> Value {
        let arn = aws_local::sqs_queue_arn("my-queue");
        serde_json::from_str(&lambda_payload(&sqs_event(batch, &arn)).unwrap()).unwrap()
    }

    #[test]
    fn records_have_the_documented_keys() {
        let documented: Value = serde_json::from_str(DOCUMENTED_RECORD).unwrap();
        let event = payload(&[received()]);
        assert_eq!(keys(&event), BTreeSet::from(["Records".to_owned()]));
        let record = &event["Records"][0];
        assert_eq!(keys(record), keys(&documented));
        assert_eq!(
            record["messageAttributes"]["myAttribute"],
            documented["messageAttributes"]["myAttribute"]
        );
        assert_eq!(
            record["messageAttributes"]["blob"],
            json!({
                "binaryValue": "/wA=",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "Binary",
            })
        );
    }

    #[test]
    fn records_carry_the_messages() {
        let mut second = received();
        second.message_id = "m2".into();
        second.attributes.clear();
        let event = payload(&[received(), second]);
        let record = &event["Records"][0];
        assert_eq!(record["messageId"], "m1");
        assert_eq!(record["receiptHandle"], "hlr-1-x");
        assert_eq!(record["body"], "Test message.");
        assert_eq!(
            record["attributes"],
            json!({ "ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183" })
        );
        assert_eq!(
            record["md5OfBody"],
            crate::sqs::md5::of_body("Test message.")
        );
        assert_eq!(record["eventSource"], "aws:sqs");
        assert_eq!(
            record["eventSourceARN"],
            aws_local::sqs_queue_arn("my-queue")
        );
        assert_eq!(record["awsRegion"], aws_local::REGION);
        assert_eq!(event["Records"][1]["messageId"], "m2");
        assert_eq!(event["Records"][1]["messageAttributes"], json!({}));
    }

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
