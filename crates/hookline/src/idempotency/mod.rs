//! Exactly-once effects: a processor runs its handler at most once to completion per
//! idempotency key within a window, whatever redelivers the message (a provider's retry, an SQS
//! redelivery, a timed-out batch, `dlq redrive`).
//!
//! The record protocol is the one of Powertools for AWS Lambda's idempotency utility
//! ("Idempotency", docs.powertools.aws.dev), on one DynamoDB item per key:
//!
//! 1. **Begin**: a conditional put writes the key `INPROGRESS`, with `in_progress_expiry` set to
//!    the invocation's deadline. The condition lets it through only when there is no live record:
//!    none, one whose `expiration` passed (DynamoDB's TTL deletes expired items only eventually,
//!    so the condition checks expiry itself), or one in progress whose invocation's deadline
//!    passed (that invocation crashed or timed out: nobody will finish it).
//! 2. The put refused, the record says why: `COMPLETED` makes this delivery a duplicate, a
//!    success without calling the handler; `INPROGRESS` means another invocation is at it now, so
//!    this message fails and comes back after its visibility timeout.
//! 3. **Complete**: after the handler succeeded, the record becomes `COMPLETED`, kept for the
//!    window (`expiration`, the table's TTL attribute), with the handler's small result if any.
//! 4. **Abandon**: after the handler failed, the record is deleted, so the retry runs it again.
//!
//! What breaks "once": a handler whose effect happened but whose completion could not be stored
//! (the table unavailable right then) runs again on a redelivery after its deadline; a duplicate
//! arriving after the window runs again. Both are logged.

use std::future::Future;
use std::time::SystemTime;

use sha2::Digest as _;

use crate::process::{Delivery, ItemError};

#[cfg(feature = "aws")]
mod dynamodb;
#[cfg(feature = "aws")]
pub use dynamodb::DynamoDbStore;

/// The record's status attribute: the handler runs now.
pub const IN_PROGRESS: &str = "INPROGRESS";
/// The record's status attribute: the handler completed.
pub const COMPLETED: &str = "COMPLETED";

/// The items' attribute names.
pub mod attributes {
    /// The key (the table's partition key).
    pub const ID: &str = "id";
    /// `INPROGRESS` or `COMPLETED`.
    pub const STATUS: &str = "status";
    /// When the record expires, in epoch seconds: the table's TTL attribute.
    pub const EXPIRATION: &str = "expiration";
    /// When an in-progress record is abandoned, in epoch milliseconds (the invocation's deadline).
    pub const IN_PROGRESS_EXPIRY: &str = "in_progress_expiry";
    /// The handler's result, when it has one.
    pub const DATA: &str = "data";
}

/// Longest key stored as it is; longer ones are stored as their SHA-256 (DynamoDB allows 2048
/// bytes for a partition key).
pub const MAX_PLAIN_KEY_BYTES: usize = 1024;

/// What beginning a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// The key is ours now: run the handler.
    Started,
    /// A handler completed for this key within the window: a duplicate.
    Completed {
        /// What that handler stored, if anything.
        data: Option<String>,
    },
    /// Another invocation is running a handler for this key.
    InProgress,
}

/// The store could not be used: the message fails and is retried, the handler does not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the idempotency store could not {action} (the message will be retried): {message}")]
pub struct StoreError {
    /// What was being done: `begin`, `complete`, `abandon`.
    pub action: &'static str,
    /// Why.
    pub message: String,
}

/// A place to keep idempotency records.
pub trait Store: Send + Sync {
    /// Claims `key` until `deadline`, or says who has it.
    fn begin(
        &self,
        key: &str,
        deadline: SystemTime,
    ) -> impl Future<Output = Result<Begin, StoreError>> + Send;

    /// Marks `key` completed for the window, with the handler's `data`.
    fn complete(
        &self,
        key: &str,
        data: Option<&str>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Forgets `key` after a failed handler, so that a retry runs it again.
    fn abandon(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What [`once`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Once<T> {
    /// `f` ran and completed.
    Ran(T),
    /// `f` had already completed for this key: it did not run again.
    AlreadyDone {
        /// What it stored.
        data: Option<String>,
    },
}

/// Why [`once`] did not complete.
#[derive(Debug, thiserror::Error)]
pub enum OnceError<E> {
    /// The store could not be used; `f` did not run.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another invocation is running `f` for this key now.
    #[error("another invocation is running the handler for this key now")]
    InProgress,
    /// `f` failed (and the key was released for a retry).
    #[error("the handler failed: {0}")]
    Failed(E),
}

/// Runs `f` at most once to completion for `key` (a handler's own key, e.g. one side effect
/// per Stripe `payment_intent`), claiming it until `deadline`. `f`'s result is stored as text
/// when `store_result` gives some.
pub async fn once<S, F, Fut, T, E>(
    store: &S,
    key: &str,
    deadline: SystemTime,
    store_result: impl Fn(&T) -> Option<String>,
    f: F,
) -> Result<Once<T>, OnceError<E>>
where
    S: Store,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let key = own_key(key);
    match store.begin(&key, deadline).await? {
        Begin::Completed { data } => return Ok(Once::AlreadyDone { data }),
        Begin::InProgress => return Err(OnceError::InProgress),
        Begin::Started => {}
    }
    match f().await {
        Ok(value) => {
            if let Err(err) = store.complete(&key, store_result(&value).as_deref()).await {
                // The effect happened: say so rather than fail, or a retry would repeat it.
                tracing::error!(error = %err, "handler completed, its completion was not stored");
            }
            Ok(Once::Ran(value))
        }
        Err(err) => {
            if let Err(store_err) = store.abandon(&key).await {
                tracing::warn!(error = %store_err, "the failed handler's record stays until its deadline");
            }
            Err(OnceError::Failed(err))
        }
    }
}

/// A store and the invocation's deadline: what a processor needs to run each delivery's handler
/// at most once to completion.
#[derive(Debug)]
pub struct Guard<'a, S> {
    /// Where the records are.
    pub store: &'a S,
    /// When the invocation times out: an in-progress record is abandoned after it.
    pub deadline: SystemTime,
}

impl<S: Store> Guard<'_, S> {
    /// Runs `run` for `delivery` unless its handler already completed within the window (a
    /// duplicate: success, not run) or runs elsewhere now (the message fails, to come back).
    pub(crate) async fn run<F, Fut>(&self, delivery: Delivery, run: F) -> Result<(), ItemError>
    where
        F: FnOnce(Delivery) -> Fut,
        Fut: Future<Output = Result<(), ItemError>>,
    {
        let key = delivery_key(&delivery.envelope.provider, delivery.dedup_id());
        match self.store.begin(&key, self.deadline).await? {
            Begin::Started => {}
            Begin::Completed { .. } => {
                // The line every processed message gets (`send --stage --wait` looks for it),
                // marked: its handler already completed for this delivery, and did not run.
                tracing::info!(
                    message_id = %delivery.message_id,
                    delivery_id = delivery.delivery_id(),
                    dedup_id = %delivery.dedup_id(),
                    duplicate = true,
                    "{}",
                    crate::logline::MESSAGE_PROCESSED
                );
                return Ok(());
            }
            Begin::InProgress => return Err(ItemError::InProgress),
        }
        let message_id = delivery.message_id.clone();
        let outcome = run(delivery).await;
        let stored = match &outcome {
            Ok(()) => self.store.complete(&key, None).await,
            Err(_) => self.store.abandon(&key).await,
        };
        if let Err(err) = stored {
            // Not a reason to fail the message: after a success that would repeat the effect;
            // after a failure the record expires at the deadline and the retry runs then.
            tracing::error!(message_id = %message_id, error = %err, "idempotency record not updated");
        }
        outcome
    }
}

/// A store that is never used: the type of "no idempotency" ([`crate::process::Processing`]
/// without a guard).
#[derive(Debug)]
pub struct NoStore;

impl Store for NoStore {
    async fn begin(&self, _: &str, _: SystemTime) -> Result<Begin, StoreError> {
        Ok(Begin::Started)
    }
    async fn complete(&self, _: &str, _: Option<&str>) -> Result<(), StoreError> {
        Ok(())
    }
    async fn abandon(&self, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The stored key for a key: itself, or `sha256:<hex>` when it is too long for DynamoDB.
pub fn record_key(key: &str) -> String {
    if key.len() <= MAX_PLAIN_KEY_BYTES {
        key.to_owned()
    } else {
        format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(key.as_bytes()))
        )
    }
}

/// The stored key of a handler's own key: `own:` before it, which no delivery key starts with
/// (those start with a provider name, which has no `:`).
pub fn own_key(key: &str) -> String {
    record_key(&format!("own:{key}"))
}

/// The idempotency key of a delivery: provider and dedup id (`Delivery::dedup_id`).
pub fn delivery_key(provider: &str, dedup_id: &str) -> String {
    record_key(&format!("{provider}#{dedup_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_keys_are_hashed_short_ones_kept() {
        assert_eq!(delivery_key("stripe", "evt_1"), "stripe#evt_1");
        assert_eq!(own_key("pi_1"), "own:pi_1");
        let long = "x".repeat(MAX_PLAIN_KEY_BYTES + 1);
        let key = record_key(&long);
        assert!(key.starts_with("sha256:") && key.len() == 7 + 64, "{key}");
        assert_eq!(
            record_key(&"y".repeat(MAX_PLAIN_KEY_BYTES)).len(),
            MAX_PLAIN_KEY_BYTES
        );
    }
}
