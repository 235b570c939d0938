//! Deliveries bigger than a queue message: the claim check.
//!
//! An SQS message holds at most 1 MiB ([`crate::queue::SQS_MAX_MESSAGE_BYTES`]), an ingest
//! function can be given almost 6 MB ([`crate::ingest::MAX_BODY_BYTES`]). When a delivery's
//! envelope does not fit one message, ingest writes the raw body to the stage's body bucket
//! first, under [`object_key`], then queues an envelope that points at it ([`BodyRef`]: bucket,
//! key, size, SHA-256). The processor fetches the body when the delivery is handled (never for a
//! duplicate the idempotency store already saw), checks size and hash, and deletes the object
//! once the handler succeeded; a message that fails keeps its object for the dead-letter queue
//! and `dlq redrive`. A lifecycle rule on the bucket removes what is left: objects of messages
//! that expired, and the rare object whose message was never queued (the put succeeded, the
//! send did not: ingest answered 503 and the provider sends again; ingest may only put).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

#[cfg(feature = "aws")]
mod s3;
#[cfg(feature = "aws")]
pub use s3::S3Bodies;

/// The key prefix of a provider's bodies: each function is granted only its provider's.
pub fn key_prefix(provider: &str) -> String {
    format!("{provider}/")
}

/// Where a body is stored: `<provider>/<yyyy>/<mm>/<dd>/<envelope id>`, so keys sort by day and,
/// within a day, by arrival (envelope ids are UUIDv7).
pub fn object_key(provider: &str, received_at: DateTime<Utc>, envelope_id: &str) -> String {
    format!(
        "{}{}/{envelope_id}",
        key_prefix(provider),
        received_at.format("%Y/%m/%d")
    )
}

/// Where an envelope's body is, when it is not in the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyRef {
    /// The S3 bucket.
    pub bucket: String,
    /// The object's key ([`object_key`]).
    pub key: String,
    /// The body's size in bytes.
    pub size: u64,
    /// The body's SHA-256, lowercase hex.
    pub sha256: String,
}

impl BodyRef {
    /// The reference to `body` stored in `bucket` under `key`.
    pub fn to(bucket: &str, key: String, body: &[u8]) -> BodyRef {
        BodyRef {
            bucket: bucket.to_owned(),
            key,
            size: body.len() as u64,
            sha256: hex::encode(sha2::Sha256::digest(body)),
        }
    }

    /// `body` if it is the one referred to (size and SHA-256), else why not.
    pub fn check(&self, body: Vec<u8>) -> Result<Vec<u8>, BodyStoreError> {
        let sha256 = hex::encode(sha2::Sha256::digest(&body));
        if body.len() as u64 == self.size && sha256 == self.sha256 {
            Ok(body)
        } else {
            Err(BodyStoreError::Mismatch {
                key: self.key.clone(),
                size: body.len() as u64,
                expected: self.size,
            })
        }
    }
}

/// Why the body store did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyStoreError {
    /// The object is not there: deleted after its delivery was processed, or expired.
    #[error(
        "the body `{key}` is not in the bucket: its delivery was processed already (the body is deleted then) or it expired"
    )]
    Missing {
        /// The object's key.
        key: String,
    },
    /// The object is not the body the envelope names.
    #[error(
        "the body `{key}` is not the one queued: {size} bytes where {expected} were stored, or another SHA-256"
    )]
    Mismatch {
        /// The object's key.
        key: String,
        /// The size read.
        size: u64,
        /// The size stored.
        expected: u64,
    },
    /// The store could not be reached or refused the request.
    #[error("the body bucket could not be used: {0}")]
    Unavailable(String),
}

/// A boxed future, for the object-safe [`BodyStore`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where bodies too large for a queue message are kept: [`S3Bodies`] on AWS and the local stack,
/// [`MemoryBodies`] in unit tests. A put must return only once the body is durably stored:
/// ingest answers 2xx only after the put and the send both succeeded.
pub trait BodyStore: Send + Sync + std::fmt::Debug {
    /// The bucket's name, written into the [`BodyRef`].
    fn bucket(&self) -> &str;
    /// Stores `body` under `key`; `body_ref` carries its size and SHA-256 (the store checks them).
    fn put<'a>(
        &'a self,
        body_ref: &'a BodyRef,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<(), BodyStoreError>>;
    /// The body `body_ref` names, checked against its size and SHA-256.
    fn get<'a>(&'a self, body_ref: &'a BodyRef) -> BoxFuture<'a, Result<Vec<u8>, BodyStoreError>>;
    /// Deletes the object (deleting a missing one succeeds, as on S3).
    fn delete<'a>(&'a self, body_ref: &'a BodyRef) -> BoxFuture<'a, Result<(), BodyStoreError>>;
}

/// An in-process body store for unit tests; set it to fail to exercise the 503 path.
#[derive(Debug, Clone)]
pub struct MemoryBodies {
    bucket: String,
    inner: Arc<Mutex<MemoryState>>,
}

#[derive(Debug, Default)]
struct MemoryState {
    objects: BTreeMap<String, Vec<u8>>,
    failing: bool,
}

impl MemoryBodies {
    /// An empty store named `bucket`.
    pub fn new(bucket: impl Into<String>) -> MemoryBodies {
        MemoryBodies {
            bucket: bucket.into(),
            inner: Arc::default(),
        }
    }

    /// Makes every call fail (or succeed again).
    pub fn set_failing(&self, failing: bool) {
        self.lock().failing = failing;
    }

    /// The stored objects by key.
    pub fn objects(&self) -> BTreeMap<String, Vec<u8>> {
        self.lock().objects.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        // A poisoned lock only means another test thread panicked; the data is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn check(&self) -> Result<std::sync::MutexGuard<'_, MemoryState>, BodyStoreError> {
        let state = self.lock();
        if state.failing {
            return Err(BodyStoreError::Unavailable(
                "memory body store set to fail".into(),
            ));
        }
        Ok(state)
    }
}

impl BodyStore for MemoryBodies {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    fn put<'a>(
        &'a self,
        body_ref: &'a BodyRef,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<(), BodyStoreError>> {
        Box::pin(async move {
            let body = body_ref.check(body.to_vec())?;
            self.check()?.objects.insert(body_ref.key.clone(), body);
            Ok(())
        })
    }

    fn get<'a>(&'a self, body_ref: &'a BodyRef) -> BoxFuture<'a, Result<Vec<u8>, BodyStoreError>> {
        Box::pin(async move {
            let body = self.check()?.objects.get(&body_ref.key).cloned();
            let body = body.ok_or_else(|| BodyStoreError::Missing {
                key: body_ref.key.clone(),
            })?;
            body_ref.check(body)
        })
    }

    fn delete<'a>(&'a self, body_ref: &'a BodyRef) -> BoxFuture<'a, Result<(), BodyStoreError>> {
        Box::pin(async move {
            self.check()?.objects.remove(&body_ref.key);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_the_provider_the_day_and_the_envelope_id() {
        let at = DateTime::parse_from_rfc3339("2026-12-02T23:59:59Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            object_key("stripe", at, "0193-abc"),
            "stripe/2026/12/02/0193-abc"
        );
        assert!(object_key("stripe", at, "x").starts_with(&key_prefix("stripe")));
    }

    #[test]
    fn a_body_is_checked_by_size_and_hash() {
        let r = BodyRef::to("b", "k".into(), b"hello");
        assert_eq!(
            r.sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(r.check(b"hello".to_vec()), Ok(b"hello".to_vec()));
        assert!(matches!(
            r.check(b"hellO".to_vec()),
            Err(BodyStoreError::Mismatch { size: 5, .. })
        ));
        assert!(matches!(
            r.check(b"hello!".to_vec()),
            Err(BodyStoreError::Mismatch {
                size: 6,
                expected: 5,
                ..
            })
        ));
    }

    #[tokio::test]
    async fn memory_store_puts_gets_deletes_and_fails_on_demand() {
        let store = MemoryBodies::new("bodies");
        let r = BodyRef::to("bodies", "stripe/k".into(), b"{}");
        store.put(&r, b"{}").await.unwrap();
        assert_eq!(store.get(&r).await, Ok(b"{}".to_vec()));
        store.delete(&r).await.unwrap();
        assert!(matches!(
            store.get(&r).await,
            Err(BodyStoreError::Missing { .. })
        ));
        store.set_failing(true);
        assert!(matches!(
            store.put(&r, b"{}").await,
            Err(BodyStoreError::Unavailable(_))
        ));
    }
}
