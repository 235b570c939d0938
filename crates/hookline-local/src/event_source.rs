//! The SQS event source mapping: polls a queue, invokes the processor with batches, deletes what
//! succeeded and honours `batchItemFailures` exactly as AWS documents it. Failed messages come
//! back after their visibility timeout, and after `maxReceiveCount` receives the queue moves
//! them to its DLQ. A batch is sent when it is full, when the batching window is over, or when
//! one more message would take its event over Lambda's 6 MB ("Lambda event source mappings",
//! batching behavior: "The payload size reaches 6 MB. You cannot modify this limit."); a message
//! that did not fit starts the next batch, without being received again.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use hookline_manifest::limits::LAMBDA_MAX_REQUEST_PAYLOAD_BYTES;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::lambda::Function;
use crate::logs::LogSink;
use crate::sqs::StoreHandle;
use crate::sqs::message::Received;

mod event;
mod response;

use event::{EMPTY_EVENT_BYTES, lambda_payload, record_bytes, sqs_event};
pub use response::{BatchOutcome, interpret};

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

/// How one processing attempt of a message ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The processor succeeded with it: deleted.
    Succeeded,
    /// The processor named it in `batchItemFailures`: back after the visibility timeout.
    Failed,
    /// The whole batch failed (the invocation's error, or an invalid response).
    BatchFailed(String),
}

/// One processing attempt of a message: what the event source mapping saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// The queue.
    pub queue: String,
    /// The message.
    pub message_id: String,
    /// `ApproximateReceiveCount` of this receive.
    pub receive_count: u32,
    /// When the invocation started (ms).
    pub started_ms: i64,
    /// How long the invocation took.
    pub duration: Duration,
    /// How it ended.
    pub outcome: AttemptOutcome,
}

/// Told about every batch's attempts; must return at once.
pub type AttemptObserver = Arc<dyn Fn(Vec<Attempt>) + Send + Sync>;

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
        Self::start_observed(store, function, spec, logs, None)
    }

    /// Starts polling, telling `observer` about every attempt.
    pub fn start_observed(
        store: StoreHandle,
        function: Function,
        spec: EventSourceSpec,
        logs: LogSink,
        observer: Option<AttemptObserver>,
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
                    carried: Vec::new(),
                    observer: observer.clone(),
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
    /// Received messages that did not fit the last batch's event: the next batch's first.
    carried: Vec<Received>,
    observer: Option<AttemptObserver>,
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

    /// Adds `messages` to `batch` while its event stays within Lambda's limit (`event_bytes` is
    /// its size so far); the first one that does not fit, and all after it, go to `carried`,
    /// for the next batch. True when the batch is full that way.
    fn fill(
        carried: &mut Vec<Received>,
        queue_arn: &str,
        batch: &mut Vec<Received>,
        event_bytes: &mut usize,
        messages: Vec<Received>,
    ) -> bool {
        for message in messages {
            let grown =
                *event_bytes + record_bytes(&message, queue_arn) + usize::from(!batch.is_empty());
            // A batch always takes its first message: SQS's 1 MiB keeps one within the limit.
            if !carried.is_empty()
                || (!batch.is_empty() && grown > LAMBDA_MAX_REQUEST_PAYLOAD_BYTES)
            {
                carried.push(message);
            } else {
                *event_bytes = grown;
                batch.push(message);
            }
        }
        !carried.is_empty()
    }

    /// Receives up to a batch, waiting up to the batching window (or for the first message).
    async fn gather(&mut self) -> Vec<Received> {
        let started = tokio::time::Instant::now();
        let mut batch: Vec<Received> = Vec::new();
        let mut event_bytes = EMPTY_EVENT_BYTES;
        let carried = std::mem::take(&mut self.carried);
        if Self::fill(
            &mut self.carried,
            &self.spec.queue_arn,
            &mut batch,
            &mut event_bytes,
            carried,
        ) {
            return batch;
        }
        loop {
            let changed = self.store.changed().notified();
            let want = (self.spec.batch_size as usize - batch.len()).min(10) as u32;
            let queue = self.spec.queue.clone();
            // An idle poll looks without a write transaction (the store's `may_receive`).
            let received = match self.store.may_receive(&queue).await {
                true => {
                    self.store
                        .call(move |s| {
                            s.receive(&queue, want, None, chrono::Utc::now().timestamp_millis())
                        })
                        .await
                }
                false => Ok(Vec::new()),
            };
            match received {
                Ok(got) => {
                    let full = Self::fill(
                        &mut self.carried,
                        &self.spec.queue_arn,
                        &mut batch,
                        &mut event_bytes,
                        got,
                    );
                    if full {
                        return batch;
                    }
                }
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

    /// Tells the observer how each message of the batch fared.
    fn observe(
        &self,
        batch: &[Received],
        started_ms: i64,
        duration: Duration,
        outcome: &BatchOutcome,
    ) {
        let Some(observer) = &self.observer else {
            return;
        };
        let attempts = batch
            .iter()
            .map(|message| Attempt {
                queue: self.spec.queue.clone(),
                message_id: message.message_id.clone(),
                receive_count: message
                    .system
                    .get("ApproximateReceiveCount")
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0),
                started_ms,
                duration,
                outcome: match outcome {
                    BatchOutcome::Succeeded => AttemptOutcome::Succeeded,
                    BatchOutcome::PartiallyFailed(ids) if ids.contains(&message.message_id) => {
                        AttemptOutcome::Failed
                    }
                    BatchOutcome::PartiallyFailed(_) => AttemptOutcome::Succeeded,
                    BatchOutcome::Failed(reason) => AttemptOutcome::BatchFailed(reason.clone()),
                },
            })
            .collect();
        observer(attempts);
    }

    async fn process(&self, batch: Vec<Received>) {
        let ids: Vec<String> = batch.iter().map(|m| m.message_id.clone()).collect();
        let started_ms = chrono::Utc::now().timestamp_millis();
        let started = std::time::Instant::now();
        let outcome = match lambda_payload(&sqs_event(&batch, &self.spec.queue_arn)) {
            Err(err) => BatchOutcome::Failed(format!("the event did not serialise: {err}")),
            Ok(payload) => match self.function.invoke(Bytes::from(payload)).await {
                Ok(response) => interpret(&response, &ids),
                Err(err) => BatchOutcome::Failed(err.to_string()),
            },
        };
        self.observe(&batch, started_ms, started.elapsed(), &outcome);
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
