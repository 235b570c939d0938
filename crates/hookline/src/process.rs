//! From an SQS event batch to an `SqsBatchResponse`: each envelope goes to the user's handler,
//! and exactly the messages that failed are reported in `batchItemFailures`, so that only they
//! are retried (and, after `maxReceiveCount`, moved to the DLQ).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures_util::FutureExt as _;
use futures_util::stream::{self, StreamExt as _};

use crate::claim_check::BodyStore;
use crate::idempotency::{Guard, NoStore, Store};
use crate::logline::{MESSAGE_FAILED, MESSAGE_PROCESSED};
use crate::metrics::ItemOutcome;

mod delivery;
mod error;

pub use delivery::{AWS_TRACE_HEADER, Delivery, delivery_from_record};
pub use error::ItemError;

/// The error type handlers may return (anything that converts into a boxed error: `anyhow`,
/// `String`, your own error types).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How many messages of a standard queue's batch are handled at once. FIFO batches are always
/// handled one at a time, in order.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// What a batch is processed with besides its handler: how many messages at once, the
/// idempotency guard and the body store, each optional.
#[derive(Debug)]
pub struct Processing<'a, S: Store = NoStore> {
    concurrency: usize,
    guard: Option<&'a Guard<'a, S>>,
    bodies: Option<&'a dyn BodyStore>,
}

impl<'a> Processing<'a, NoStore> {
    /// `concurrency` messages of a standard batch at once, no idempotency, no body store.
    pub fn new(concurrency: usize) -> Self {
        Processing {
            concurrency,
            guard: None,
            bodies: None,
        }
    }
}

impl<'a, S: Store> Processing<'a, S> {
    /// Runs each delivery's handler at most once to completion ([`crate::idempotency`]).
    pub fn with_guard<T: Store>(self, guard: &'a Guard<'a, T>) -> Processing<'a, T> {
        Processing {
            concurrency: self.concurrency,
            guard: Some(guard),
            bodies: self.bodies,
        }
    }

    /// Fetches bodies kept in the body bucket from `bodies` ([`crate::claim_check`]).
    pub fn with_bodies(mut self, bodies: &'a dyn BodyStore) -> Self {
        self.bodies = Some(bodies);
        self
    }

    /// Handles a batch and reports exactly the failed message ids, with each message's metrics
    /// ([`process_batch_measured`]).
    pub async fn run<H, Fut, E>(
        &self,
        event: SqsEvent,
        handler: &H,
    ) -> (SqsBatchResponse, Vec<ItemOutcome>)
    where
        H: Fn(Delivery) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Into<BoxError>,
    {
        process_measured(event, handler, self).await
    }
}

/// Handles a batch and reports exactly the failed message ids.
///
/// A message that is not an envelope fails (it must reach the DLQ, never be dropped); a handler
/// panic fails that message only. On a FIFO queue (its ARN ends in `.fifo`) messages are handled
/// in order and, as AWS documents, processing stops at the first failure: that message and every
/// later one are reported failed, so their order is kept.
pub async fn process_batch<H, Fut, E>(event: SqsEvent, handler: &H) -> SqsBatchResponse
where
    H: Fn(Delivery) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Into<BoxError>,
{
    process_batch_with(event, handler, DEFAULT_CONCURRENCY).await
}

/// [`process_batch`] with a chosen concurrency for standard queues.
pub async fn process_batch_with<H, Fut, E>(
    event: SqsEvent,
    handler: &H,
    concurrency: usize,
) -> SqsBatchResponse
where
    H: Fn(Delivery) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Into<BoxError>,
{
    process_batch_measured(event, handler, concurrency).await.0
}

/// [`process_batch_with`], also returning what each message's metrics count, in batch order:
/// whether it succeeded, how long its handling took and how long it had waited in the queue
/// (from its `SentTimestamp`).
pub async fn process_batch_measured<H, Fut, E>(
    event: SqsEvent,
    handler: &H,
    concurrency: usize,
) -> (SqsBatchResponse, Vec<ItemOutcome>)
where
    H: Fn(Delivery) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Into<BoxError>,
{
    Processing::new(concurrency).run(event, handler).await
}

/// [`process_batch_with`], running the handler at most once to completion per delivery
/// (`crate::idempotency`): `guard` holds the store and the invocation's deadline.
pub async fn process_batch_once<H, Fut, E, S>(
    event: SqsEvent,
    handler: &H,
    concurrency: usize,
    guard: &Guard<'_, S>,
) -> SqsBatchResponse
where
    H: Fn(Delivery) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Into<BoxError>,
    S: Store,
{
    process_batch_once_measured(event, handler, concurrency, guard)
        .await
        .0
}

/// [`process_batch_once`] with [`process_batch_measured`]'s metrics.
pub async fn process_batch_once_measured<H, Fut, E, S>(
    event: SqsEvent,
    handler: &H,
    concurrency: usize,
    guard: &Guard<'_, S>,
) -> (SqsBatchResponse, Vec<ItemOutcome>)
where
    H: Fn(Delivery) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Into<BoxError>,
    S: Store,
{
    Processing::new(concurrency)
        .with_guard(guard)
        .run(event, handler)
        .await
}

async fn process_measured<H, Fut, E, S>(
    event: SqsEvent,
    handler: &H,
    processing: &Processing<'_, S>,
) -> (SqsBatchResponse, Vec<ItemOutcome>)
where
    H: Fn(Delivery) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Into<BoxError>,
    S: Store,
{
    let fifo = event
        .records
        .first()
        .and_then(|r| r.event_source_arn.as_deref())
        .is_some_and(|arn| arn.ends_with(".fifo"));
    let mut failed_ids = Vec::new();
    let mut items = Vec::with_capacity(event.records.len());
    if fifo {
        let mut failed = false;
        for record in &event.records {
            let (outcome, item) = if failed {
                (Err(ItemError::Skipped), ItemOutcome::not_attempted())
            } else {
                measured(record, handler, processing).await
            };
            failed |= outcome.is_err();
            if let Err(err) = outcome {
                failed_ids.push(report(record, &err));
            }
            items.push(item);
        }
    } else {
        let outcomes: Vec<_> = stream::iter(&event.records)
            .map(|record| async move { (record, measured(record, handler, processing).await) })
            .buffered(processing.concurrency.max(1))
            .collect()
            .await;
        for (record, (outcome, item)) in outcomes {
            if let Err(err) = outcome {
                failed_ids.push(report(record, &err));
            }
            items.push(item);
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed_ids
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    (response, items)
}

/// Handles one record and measures it: its queue age when handling began, its duration.
async fn measured<H, Fut, E, S>(
    record: &SqsMessage,
    handler: &H,
    processing: &Processing<'_, S>,
) -> (Result<(), ItemError>, ItemOutcome)
where
    H: Fn(Delivery) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Into<BoxError>,
    S: Store,
{
    let queue_age_ms = record
        .attributes
        .get("SentTimestamp")
        .and_then(|sent| sent.parse::<i64>().ok())
        .map(|sent| (chrono::Utc::now().timestamp_millis() - sent).max(0) as f64);
    let started = Instant::now();
    let outcome = handle_record(record, handler, processing).await;
    let item = ItemOutcome {
        ok: outcome.is_ok(),
        duration_ms: Some(started.elapsed().as_secs_f64() * 1000.0),
        queue_age_ms,
    };
    (outcome, item)
}

async fn handle_record<H, Fut, E, S>(
    record: &SqsMessage,
    handler: &H,
    processing: &Processing<'_, S>,
) -> Result<(), ItemError>
where
    H: Fn(Delivery) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Into<BoxError>,
    S: Store,
{
    let delivery = delivery_from_record(record)?;
    let stored = delivery.envelope.body_ref.clone();
    let bodies = processing.bodies;
    // The body is fetched inside the guard: a duplicate never downloads it.
    let outcome = match processing.guard {
        None => run_fetched(handler, delivery, bodies).await,
        Some(guard) => {
            guard
                .run(delivery, |d| run_fetched(handler, d, bodies))
                .await
        }
    };
    // Processed (or a duplicate of a processed one): its body is needed no more. A message that
    // failed keeps its body, for its retries, the DLQ and `dlq redrive`.
    if let (Ok(()), Some(body_ref), Some(bodies)) = (&outcome, &stored, bodies)
        && let Err(err) = bodies.delete(body_ref).await
    {
        tracing::warn!(
            message_id = record.message_id.as_deref(),
            key = %body_ref.key,
            error = %err,
            "processed body not deleted (the bucket's lifecycle rule removes it)"
        );
    }
    outcome
}

/// Fetches the body from the body bucket when it is there, then runs the handler.
async fn run_fetched<H, Fut, E>(
    handler: &H,
    mut delivery: Delivery,
    bodies: Option<&dyn BodyStore>,
) -> Result<(), ItemError>
where
    H: Fn(Delivery) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Into<BoxError>,
{
    if let Some(body_ref) = delivery
        .envelope
        .body_ref
        .as_ref()
        .filter(|_| delivery.envelope.body_pending())
    {
        let bodies = bodies.ok_or_else(|| ItemError::NoBodyStore {
            bucket: body_ref.bucket.clone(),
        })?;
        delivery.envelope.body = bodies.get(body_ref).await?;
    }
    run_handler(handler, delivery).await
}

async fn run_handler<H, Fut, E>(handler: &H, delivery: Delivery) -> Result<(), ItemError>
where
    H: Fn(Delivery) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Into<BoxError>,
{
    // For the line that says it was processed (`cargo xtask send --stage --wait` looks for it).
    let message_id = delivery.message_id.clone();
    let delivery_id = delivery.envelope.delivery_id.clone();
    // A handler may panic while it makes its future, before any await: catch that too, or the
    // panic takes the whole batch down with it.
    let future = match std::panic::catch_unwind(AssertUnwindSafe(|| handler(delivery))) {
        Ok(future) => future,
        Err(panic) => return Err(ItemError::Panic(panic_message(panic.as_ref()))),
    };
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(Ok(())) => {
            tracing::info!(
                message_id = %message_id,
                delivery_id = delivery_id.as_deref(),
                "{MESSAGE_PROCESSED}"
            );
            Ok(())
        }
        Ok(Err(err)) => Err(ItemError::Handler(err.into())),
        Err(panic) => Err(ItemError::Panic(panic_message(panic.as_ref()))),
    }
}

/// Logs a failure and returns the id to report. A record without an id is reported with an
/// empty id, which Lambda treats as an invalid response and so retries the whole batch: the
/// one safe choice when a message cannot be named.
fn report(record: &SqsMessage, err: &ItemError) -> String {
    let message_id = record.message_id.clone().unwrap_or_default();
    // The trace header finds the delivery's trace (ingest, queue, processor) in X-Ray.
    let trace_header = record.attributes.get(AWS_TRACE_HEADER).map(String::as_str);
    tracing::error!(
        message_id = %message_id,
        trace_header,
        code = err.code(),
        error = %err,
        "{MESSAGE_FAILED}"
    );
    message_id
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

#[cfg(test)]
mod claim_check_tests;
#[cfg(test)]
mod tests;
