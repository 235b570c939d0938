//! Writing deliveries to a queue: the [`Queue`] trait and [`SqsQueue`] on aws-sdk-sqs.

use std::future::Future;
use std::sync::{Arc, Mutex};

use sha2::Digest as _;

pub mod group;
#[cfg(feature = "aws")]
mod sqs;
pub use group::{GroupBy, GroupByError};
#[cfg(feature = "aws")]
pub use sqs::SqsQueue;

/// SQS's maximum message size in bytes (body plus message attributes).
pub const SQS_MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// A message ready for the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    /// The envelope JSON.
    pub body: String,
    /// Provider name, sent as the `provider` message attribute.
    pub provider: String,
    /// The FIFO message group ([`GroupBy::group_id`]); standard queues ignore it.
    pub group_id: String,
    /// Event type, sent as the `event_type` message attribute when known.
    pub event_type: Option<String>,
    /// The delivery's deduplication id (from signed bytes): the FIFO deduplication id.
    pub dedup_id: Option<String>,
    /// The X-Ray trace header of the ingest invocation, sent as the `AWSTraceHeader` system
    /// attribute: Lambda continues that trace in the processor (X-Ray developer guide, "Amazon
    /// SQS and AWS X-Ray"). SQS counts it against neither the size nor the attribute quotas.
    pub trace_header: Option<String>,
}

impl QueueMessage {
    /// The size SQS counts against its limit: body, and each attribute's name, type and value.
    pub fn size(&self) -> usize {
        let attribute = |name: &str, value: &str| name.len() + "String".len() + value.len();
        self.body.len()
            + attribute("provider", &self.provider)
            + self
                .event_type
                .as_deref()
                .map_or(0, |v| attribute("event_type", v))
    }

    /// The FIFO deduplication id: the delivery's dedup id when SQS accepts it as one, its
    /// SHA-256 otherwise, and the message's SHA-256 when there is none (as SQS's content-based
    /// deduplication would).
    pub fn deduplication_id(&self) -> String {
        match &self.dedup_id {
            Some(id) if is_valid_deduplication_id(id) => id.clone(),
            Some(id) => hex::encode(sha2::Sha256::digest(id.as_bytes())),
            None => hex::encode(sha2::Sha256::digest(self.body.as_bytes())),
        }
    }
}

/// SQS allows 1–128 characters of alphanumerics and ASCII punctuation.
fn is_valid_deduplication_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// Why the queue did not accept a message. Ingest answers 503 so that the provider retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// The queue does not exist (or is not visible to these credentials).
    #[error("the queue does not exist")]
    QueueDoesNotExist,
    /// The request did not complete (connection refused, timeout, ...).
    #[error("the queue could not be reached: {0}")]
    Unreachable(String),
    /// The queue answered with an error.
    #[error("the queue rejected the message: {0}")]
    Rejected(String),
}

/// Somewhere deliveries are written. Implementations must return only after the message is
/// durably accepted: ingest answers 2xx on `Ok`.
pub trait Queue: Send + Sync {
    /// Sends one message; returns the queue's message id.
    fn send(
        &self,
        message: QueueMessage,
    ) -> impl Future<Output = Result<String, QueueError>> + Send;
}

/// An in-process queue that records what it is sent, for unit tests of handlers and examples.
/// Set it to fail to exercise the 503 path.
#[derive(Debug, Clone, Default)]
pub struct MemoryQueue {
    inner: Arc<Mutex<MemoryQueueState>>,
}

#[derive(Debug, Default)]
struct MemoryQueueState {
    messages: Vec<QueueMessage>,
    failing: bool,
}

impl MemoryQueue {
    /// An empty queue that accepts messages.
    pub fn new() -> MemoryQueue {
        MemoryQueue::default()
    }

    /// A queue whose sends fail with [`QueueError::Unreachable`].
    pub fn failing() -> MemoryQueue {
        let queue = MemoryQueue::default();
        queue.set_failing(true);
        queue
    }

    /// Makes sends fail (or succeed again).
    pub fn set_failing(&self, failing: bool) {
        self.lock().failing = failing;
    }

    /// Everything accepted so far.
    pub fn messages(&self) -> Vec<QueueMessage> {
        self.lock().messages.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryQueueState> {
        // A poisoned lock only means another test thread panicked; the data is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Queue for MemoryQueue {
    async fn send(&self, message: QueueMessage) -> Result<String, QueueError> {
        let mut state = self.lock();
        if state.failing {
            return Err(QueueError::Unreachable(
                "memory queue set to fail".to_owned(),
            ));
        }
        state.messages.push(message);
        Ok(format!("memory-{}", state.messages.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(dedup_id: Option<&str>) -> QueueMessage {
        QueueMessage {
            body: "{}".into(),
            provider: "stripe".into(),
            group_id: "stripe".into(),
            event_type: Some("invoice.paid".into()),
            dedup_id: dedup_id.map(str::to_owned),
            trace_header: None,
        }
    }

    #[test]
    fn size_counts_body_and_attributes() {
        let m = message(None);
        assert_eq!(
            m.size(),
            2 + ("provider".len() + 6 + 6) + ("event_type".len() + 6 + 12)
        );
    }

    #[test]
    fn deduplication_id_is_the_dedup_id_when_sqs_accepts_it() {
        assert_eq!(message(Some("evt_1")).deduplication_id(), "evt_1");
        let hashed = message(Some("id with spaces")).deduplication_id();
        assert_eq!(hashed.len(), 64);
        assert_ne!(hashed, message(Some("other id")).deduplication_id());
        assert_eq!(message(Some(&"x".repeat(129))).deduplication_id().len(), 64);
        assert_eq!(
            message(None).deduplication_id(),
            hex::encode(sha2::Sha256::digest(b"{}"))
        );
    }

    #[tokio::test]
    async fn memory_queue_records_and_fails_on_demand() {
        let q = MemoryQueue::new();
        assert_eq!(q.send(message(None)).await, Ok("memory-1".into()));
        q.set_failing(true);
        assert!(matches!(
            q.send(message(None)).await,
            Err(QueueError::Unreachable(_))
        ));
        assert_eq!(q.messages().len(), 1);
    }
}
