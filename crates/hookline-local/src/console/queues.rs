//! The providers' queues and dead-letter queues at a glance, and what can be done to the
//! dead letters: redrive them all (SQS's own `StartMessageMoveTask`, as `cargo xtask dlq
//! redrive` does), or redrive or delete one.

use serde::Serialize;
use serde_json::json;

use super::{Console, ConsoleError, ConsoleProvider, query};
use crate::aws_local::sqs_queue_arn;
use crate::sqs::store::{MoveTaskStatus, Overview};

/// Dead letters listed per provider.
pub const LISTED: u32 = 100;

/// A queue's counts.
#[derive(Debug, Clone, Serialize)]
pub struct QueueView {
    /// Its name.
    pub name: String,
    /// Visible.
    pub visible: u64,
    /// Received, not yet deleted or visible again.
    pub in_flight: u64,
    /// Delayed.
    pub delayed: u64,
    /// The age of its oldest message.
    pub oldest_age_ms: Option<i64>,
}

impl QueueView {
    fn new(name: &str, overview: Overview, now: i64) -> QueueView {
        QueueView {
            name: name.to_owned(),
            visible: overview.counts.visible,
            in_flight: overview.counts.in_flight,
            delayed: overview.counts.delayed,
            oldest_age_ms: overview.oldest_sent_ms.map(|sent| now - sent),
        }
    }

    /// Every message it holds.
    pub fn depth(&self) -> u64 {
        self.visible + self.in_flight + self.delayed
    }
}

/// A message in a dead-letter queue.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    /// Its id.
    pub message_id: String,
    /// When it was first sent (ms).
    pub sent_ms: i64,
    /// The envelope's event type.
    pub event_type: Option<String>,
    /// The envelope's provider delivery id.
    pub delivery_id: Option<String>,
    /// The console's delivery it carries, when the history has it.
    pub delivery: Option<String>,
    /// The body's size.
    pub bytes: usize,
}

/// The last redrive of a dead-letter queue.
#[derive(Debug, Clone, Serialize)]
pub struct Redrive {
    /// `RUNNING`, `COMPLETED`, ...
    pub status: &'static str,
    /// Moved so far.
    pub moved: u64,
    /// To move.
    pub to_move: u64,
    /// Why it failed.
    pub failure: Option<String>,
}

/// A provider's queues.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderQueues {
    /// The provider.
    pub provider: String,
    /// Its queue.
    pub queue: QueueView,
    /// Its dead-letter queue.
    pub dlq: QueueView,
    /// The first [`LISTED`] dead letters, oldest first.
    pub dead_letters: Vec<DeadLetter>,
    /// Its last redrive.
    pub redrive: Option<Redrive>,
}

/// Every provider's queues.
pub async fn overview(console: &Console) -> Result<Vec<ProviderQueues>, ConsoleError> {
    let mut all = Vec::new();
    for provider in console.providers() {
        let (queue, dlq) = (provider.queue.clone(), provider.dlq.clone());
        let (queue_overview, dlq_overview, peeked, tasks) = console
            .store
            .call(move |s| {
                let now = chrono::Utc::now().timestamp_millis();
                Ok((
                    s.overview(&queue, now)?,
                    s.overview(&dlq, now)?,
                    s.peek(&dlq, LISTED)?,
                    s.move_tasks(&sqs_queue_arn(&dlq), 1)?,
                ))
            })
            .await?;
        let now = chrono::Utc::now().timestamp_millis();
        let ids: Vec<String> = peeked.iter().map(|m| m.message_id.clone()).collect();
        let deliveries = console
            .history()
            .read(move |conn| {
                ids.iter()
                    .map(|id| query::delivery_of_message(conn, id))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .await
            .map_err(ConsoleError::Internal)?;
        let dead_letters = peeked
            .into_iter()
            .zip(deliveries)
            .map(|(message, delivery)| {
                let envelope = hookline::Envelope::from_json(&message.body).ok();
                DeadLetter {
                    message_id: message.message_id,
                    sent_ms: message.sent_ms,
                    event_type: envelope.as_ref().and_then(|e| e.event_type.clone()),
                    delivery_id: envelope.and_then(|e| e.delivery_id),
                    delivery,
                    bytes: message.body.len(),
                }
            })
            .collect();
        all.push(ProviderQueues {
            provider: provider.name.clone(),
            queue: QueueView::new(&provider.queue, queue_overview, now),
            dlq: QueueView::new(&provider.dlq, dlq_overview, now),
            dead_letters,
            redrive: tasks.into_iter().next().map(|task| Redrive {
                status: task.status.as_str(),
                moved: task.moved,
                to_move: task.to_move,
                failure: task.failure,
            }),
        });
    }
    Ok(all)
}

fn provider<'a>(console: &'a Console, name: &str) -> Result<&'a ConsoleProvider, ConsoleError> {
    console.provider(name).ok_or_else(|| {
        let names: Vec<&str> = console
            .providers()
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        ConsoleError::NotFound(format!(
            "no provider `{name}`: the providers are {}",
            names.join(", ")
        ))
    })
}

/// Moves every dead letter of `name` back to its queue with a message move task; how many it
/// is to move.
pub async fn redrive_all(console: &Console, name: &str) -> Result<u64, ConsoleError> {
    let provider = provider(console, name)?;
    let dlq = provider.dlq.clone();
    let arn = sqs_queue_arn(&dlq);
    let (depth, running) = console
        .store
        .call(move |s| {
            let now = chrono::Utc::now().timestamp_millis();
            let counts = s.counts(&dlq, now)?;
            let running = s
                .move_tasks(&arn, 1)?
                .first()
                .is_some_and(|t| t.status == MoveTaskStatus::Running);
            Ok((counts.visible, running))
        })
        .await?;
    if running {
        return Err(ConsoleError::Conflict(format!(
            "a redrive of {} is already running",
            provider.dlq
        )));
    }
    if depth == 0 {
        return Err(ConsoleError::Conflict(format!(
            "{} has no message to redrive",
            provider.dlq
        )));
    }
    let request = json!({
        "SourceArn": sqs_queue_arn(&provider.dlq),
        "DestinationArn": sqs_queue_arn(&provider.queue),
    });
    crate::sqs::dispatch(
        &console.store,
        "StartMessageMoveTask",
        request.to_string().as_bytes(),
    )
    .await
    .map_err(|e| ConsoleError::Conflict(format!("the redrive did not start: {}", e.message)))?;
    Ok(depth)
}

/// Moves one dead letter back to its queue; its new message id.
pub async fn redrive_one(
    console: &Console,
    name: &str,
    message_id: &str,
) -> Result<String, ConsoleError> {
    let provider = provider(console, name)?;
    let (dlq, id) = (provider.dlq.clone(), message_id.to_owned());
    let moved = console
        .store
        .call(move |s| s.redrive_message(&dlq, &id, chrono::Utc::now().timestamp_millis()))
        .await
        .map_err(|e| ConsoleError::Conflict(e.message))?;
    moved.ok_or_else(|| no_message(provider, message_id))
}

/// Deletes one dead letter.
pub async fn delete_one(
    console: &Console,
    name: &str,
    message_id: &str,
) -> Result<(), ConsoleError> {
    let provider = provider(console, name)?;
    let (dlq, id) = (provider.dlq.clone(), message_id.to_owned());
    let deleted = console
        .store
        .call(move |s| s.remove_message(&dlq, &id))
        .await?;
    if deleted {
        Ok(())
    } else {
        Err(no_message(provider, message_id))
    }
}

fn no_message(provider: &ConsoleProvider, message_id: &str) -> ConsoleError {
    ConsoleError::NotFound(format!(
        "{} holds no message `{message_id}` (redriven or deleted already?)",
        provider.dlq
    ))
}
