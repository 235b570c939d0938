//! Deliveries whose body is in the body bucket ([`crate::claim_check`]): the handler gets the
//! body as if it had been in the message.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use super::tests::{FIFO, STANDARD, event, failed};
use super::*;
use crate::claim_check::{BodyRef, BodyStoreError, BoxFuture, MemoryBodies, object_key};
use crate::envelope::Envelope;
use crate::idempotency::{Begin, StoreError};

/// A body store that counts its gets, over [`MemoryBodies`].
#[derive(Debug)]
struct Counting {
    inner: MemoryBodies,
    gets: AtomicUsize,
}

impl BodyStore for Counting {
    fn bucket(&self) -> &str {
        self.inner.bucket()
    }
    fn put<'a>(
        &'a self,
        r: &'a BodyRef,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<(), BodyStoreError>> {
        self.inner.put(r, body)
    }
    fn get<'a>(&'a self, r: &'a BodyRef) -> BoxFuture<'a, Result<Vec<u8>, BodyStoreError>> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(r)
    }
    fn delete<'a>(&'a self, r: &'a BodyRef) -> BoxFuture<'a, Result<(), BodyStoreError>> {
        self.inner.delete(r)
    }
}

fn store() -> Counting {
    Counting {
        inner: MemoryBodies::new("bodies"),
        gets: AtomicUsize::new(0),
    }
}

/// Stores `body` and returns the queue JSON of an envelope that points at it.
async fn stored(bodies: &Counting, id: &str, body: &[u8]) -> String {
    let mut envelope = Envelope::new("stripe", body.to_vec()).with_dedup_id(id);
    envelope.id = id.to_owned();
    let key = object_key("stripe", envelope.received_at, id);
    let body_ref = BodyRef::to("bodies", key, body);
    bodies.put(&body_ref, body).await.unwrap();
    envelope.body_ref = Some(body_ref);
    envelope.to_json()
}

/// Records the bodies it was given; fails on `fail`.
#[derive(Default)]
struct Seen(Mutex<Vec<Vec<u8>>>);

impl Seen {
    async fn handle(&self, delivery: Delivery) -> Result<(), String> {
        self.0.lock().unwrap().push(delivery.body().to_vec());
        match delivery.body() {
            b"fail" => Err("refused".into()),
            _ => Ok(()),
        }
    }
}

#[tokio::test]
async fn the_handler_gets_the_stored_body_and_it_is_deleted_once_processed() {
    let bodies = store();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let batch = event(
        STANDARD,
        &[
            ("m1", stored(&bodies, "d1", &big).await),
            ("m2", stored(&bodies, "d2", b"fail").await),
        ],
    );
    let seen = Seen::default();
    let handler = |d| seen.handle(d);
    let (response, _) = Processing::new(2)
        .with_bodies(&bodies)
        .run(batch, &handler)
        .await;
    assert_eq!(failed(&response), ["m2"]);
    let mut got = seen.0.lock().unwrap().clone();
    got.sort_by_key(Vec::len);
    // Compared without printing 3 MB on failure.
    let sizes: Vec<usize> = got.iter().map(Vec::len).collect();
    assert!(got[0] == b"fail" && got[1] == big, "sizes {sizes:?}");
    // The processed body is gone; the failed one stays for its retries and the DLQ.
    let keys: Vec<_> = bodies.inner.objects().into_keys().collect();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].ends_with("/d2"), "{keys:?}");
}

#[tokio::test]
async fn a_missing_or_altered_body_fails_its_message_without_running_the_handler() {
    let bodies = store();
    let missing = stored(&bodies, "d1", b"{}").await;
    let altered = stored(&bodies, "d2", b"{\"a\":1}").await;
    // Delete the first; replace the second with other bytes of the same size.
    let objects = bodies.inner.objects();
    let keys: Vec<_> = objects.keys().cloned().collect();
    let d1 = BodyRef::to("bodies", keys[0].clone(), b"{}");
    bodies.delete(&d1).await.unwrap();
    let forged = BodyRef::to("bodies", keys[1].clone(), b"{\"a\":2}");
    bodies.put(&forged, b"{\"a\":2}").await.unwrap();
    let batch = event(STANDARD, &[("m1", missing), ("m2", altered)]);
    let seen = Seen::default();
    let handler = |d| seen.handle(d);
    let processing = Processing::new(1).with_bodies(&bodies);
    let (response, _) = processing.run(batch.clone(), &handler).await;
    assert_eq!(failed(&response), ["m1", "m2"]);
    assert!(seen.0.lock().unwrap().is_empty());
    // Without a body store, the message says what the processor lacks.
    let record = &batch.records[0];
    let outcome = handle_record(record, &handler, &Processing::new(1)).await;
    assert!(
        matches!(&outcome, Err(ItemError::NoBodyStore { bucket }) if bucket == "bodies"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn an_unreachable_bucket_fails_the_message_and_a_fifo_batch_stops_there() {
    let bodies = store();
    let first = stored(&bodies, "d1", b"{}").await;
    let second = stored(&bodies, "d2", b"{}").await;
    bodies.inner.set_failing(true);
    let seen = Seen::default();
    let handler = |d| seen.handle(d);
    let batch = event(FIFO, &[("m1", first), ("m2", second)]);
    let (response, _) = Processing::new(1)
        .with_bodies(&bodies)
        .run(batch, &handler)
        .await;
    assert_eq!(failed(&response), ["m1", "m2"]);
    assert!(seen.0.lock().unwrap().is_empty());
}

/// Completed keys, in memory.
#[derive(Default)]
struct Completed(Mutex<HashSet<String>>);

impl Store for Completed {
    async fn begin(&self, key: &str, _: SystemTime) -> Result<Begin, StoreError> {
        Ok(if self.0.lock().unwrap().contains(key) {
            Begin::Completed { data: None }
        } else {
            Begin::Started
        })
    }
    async fn complete(&self, key: &str, _: Option<&str>) -> Result<(), StoreError> {
        self.0.lock().unwrap().insert(key.to_owned());
        Ok(())
    }
    async fn abandon(&self, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_duplicate_never_downloads_its_body() {
    let bodies = store();
    let message = stored(&bodies, "d1", b"{\"big\":true}").await;
    let completed = Completed::default();
    let guard = Guard {
        store: &completed,
        deadline: SystemTime::now() + Duration::from_secs(60),
    };
    let seen = Seen::default();
    let handler = |d| seen.handle(d);
    let processing = Processing::new(1).with_bodies(&bodies).with_guard(&guard);
    for _ in 0..2 {
        let batch = event(STANDARD, &[("m1", message.clone())]);
        let (response, _) = processing.run(batch, &handler).await;
        assert!(failed(&response).is_empty());
    }
    assert_eq!(seen.0.lock().unwrap().len(), 1);
    assert_eq!(bodies.gets.load(Ordering::SeqCst), 1);
}
