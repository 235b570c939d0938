//! The one thread that owns the queue database ([`crate::sqlite::Writer`]: group commit, each
//! request answered after the commit that holds it reached the disk), the long polls'
//! wake-ups, and the read-only connection beside it that lets an idle poll look without a
//! transaction.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use tokio::sync::Notify;

use super::SqsError;
use super::observe::{Observer, ObserverSlot, QueueEvent};
use super::store::Store;
use crate::sqlite::Writer;

/// A handle to the writer thread. Cloning is cheap; the thread stops when every handle is gone.
#[derive(Clone)]
pub struct StoreHandle {
    writer: Writer<Store>,
    changed: Arc<Notify>,
    observer: ObserverSlot,
    /// Where [`StoreHandle::may_receive`] reads.
    reader: Arc<Mutex<Connection>>,
}

impl StoreHandle {
    /// Opens the database and starts the writer thread.
    pub fn start(path: &Path, host: &str) -> Result<StoreHandle, SqsError> {
        let store = Store::open(path, host)?;
        let reader = crate::sqlite::open_reader(path)
            .map_err(|e| SqsError::internal(format!("storage error: {e}")))?;
        let changed = Arc::new(Notify::new());
        let notify = Arc::clone(&changed);
        let observer = ObserverSlot::default();
        let observing = observer.clone();
        let writer = Writer::start(store, "hookline-sqs-store", move |store, committed| {
            // What the transaction did to messages, once it is on disk.
            let events = store.take_events();
            if committed {
                observing.tell(events);
            }
            // Only a change that can make a message receivable wakes the long polls: woken by
            // every commit, an idle poller's empty receive woke the others.
            if store.take_receivable() && committed {
                notify.notify_waiters();
            }
        })?;
        Ok(StoreHandle {
            writer,
            changed,
            observer,
            reader: Arc::new(Mutex::new(reader)),
        })
    }

    /// Tells `observer` about every committed send made over the endpoint and every move of a
    /// message between queues, from now on.
    pub fn observe(&self, observer: Observer) {
        self.observer.set(observer);
    }

    /// Whether someone observes the queues.
    pub(crate) fn observed(&self) -> bool {
        self.observer.is_set()
    }

    /// Tells the observer about events that happened outside the storage thread.
    pub(crate) fn tell(&self, events: Vec<QueueEvent>) {
        self.observer.tell(events);
    }

    /// Runs `f` on the store in the next transaction; resolves after that transaction committed.
    pub async fn call<T, F>(&self, f: F) -> Result<T, SqsError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, SqsError> + Send + 'static,
    {
        self.writer.call(f).await
    }

    /// Notified after a commit that may have made messages receivable (long polling waits on
    /// it, and wakes on its own too, for messages whose visibility timeout or delay ran out).
    pub fn changed(&self) -> &Notify {
        &self.changed
    }

    /// Whether a receive on `queue` now can find anything ([`super::store::may_receive`]),
    /// read without a write transaction: a long poll asks this before each receive, so an idle
    /// one commits nothing. When the read fails, yes: the receive then runs and reports it.
    pub async fn may_receive(&self, queue: &str) -> bool {
        let reader = Arc::clone(&self.reader);
        let queue = queue.to_owned();
        let now_ms = chrono::Utc::now().timestamp_millis();
        tokio::task::spawn_blocking(move || {
            let reader = reader
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            super::store::may_receive(&reader, &queue, now_ms).unwrap_or(true)
        })
        .await
        .unwrap_or(true)
    }

    /// How many transactions the writer has committed.
    pub fn commits(&self) -> u64 {
        self.writer.commits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Idle long polls (as an idle `cargo xtask dev` runs them, several per queue) neither wake
    /// each other in a loop nor commit an empty receive: each request commits only its lookup
    /// of the queue's default wait, and its polls read beside the writer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn idle_long_polls_do_not_wake_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let store = StoreHandle::start(&dir.path().join("sqs.db"), "127.0.0.1:9324").unwrap();
        for queue in ["a", "b"] {
            let body = serde_json::json!({ "QueueName": queue }).to_string();
            super::super::dispatch(&store, "CreateQueue", body.as_bytes())
                .await
                .unwrap();
        }
        let before = store.commits();
        let polls: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let queue = if i % 2 == 0 { "a" } else { "b" };
                    let body = serde_json::json!({
                        "QueueUrl": format!("http://127.0.0.1:9324/000000000000/{queue}"),
                        "WaitTimeSeconds": 2,
                    })
                    .to_string();
                    super::super::dispatch(&store, "ReceiveMessage", body.as_bytes())
                        .await
                        .unwrap()
                })
            })
            .collect();
        for poll in polls {
            let answer = poll.await.unwrap();
            // SQS leaves an empty list out of the answer.
            assert_eq!(answer, serde_json::json!({}));
        }
        let commits = store.commits() - before;
        // One lookup per request (fewer when the writer groups them); polling every 100 ms and
        // committing each empty receive, the same 2 s took up to 160 commits, and waking each
        // other on every commit, thousands.
        assert!(commits <= 8, "{commits} commits while idle");
    }
}
