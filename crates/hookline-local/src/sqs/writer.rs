//! The one thread that owns the database: requests queue up while a transaction commits, then
//! run together in the next one (group commit). Each request runs in its own savepoint, so one
//! failing request does not undo the others, and each is answered only after the commit that
//! holds it reached the disk.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use tokio::sync::{Notify, oneshot};

use super::SqsError;
use super::observe::{Observer, ObserverSlot, QueueEvent};
use super::store::Store;

type Finisher = Box<dyn FnOnce(Result<(), SqsError>) + Send>;

trait Job: Send {
    fn run(self: Box<Self>, store: &mut Store) -> Finisher;
    fn fail(self: Box<Self>, err: SqsError);
}

struct TypedJob<T, F> {
    f: F,
    reply: oneshot::Sender<Result<T, SqsError>>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Send + 'static,
    F: FnOnce(&mut Store) -> Result<T, SqsError> + Send + 'static,
{
    fn run(self: Box<Self>, store: &mut Store) -> Finisher {
        let TypedJob { f, reply } = *self;
        let result = store.savepoint(f);
        Box::new(move |commit| {
            let _ = reply.send(commit.and(result));
        })
    }

    fn fail(self: Box<Self>, err: SqsError) {
        let _ = self.reply.send(Err(err));
    }
}

/// Most requests committed in one transaction.
const MAX_GROUP: usize = 1024;

/// A handle to the writer thread. Cloning is cheap; the thread stops when every handle is gone.
#[derive(Clone)]
pub struct StoreHandle {
    jobs: mpsc::Sender<Box<dyn Job>>,
    changed: Arc<Notify>,
    commits: Arc<AtomicU64>,
    observer: ObserverSlot,
}

impl StoreHandle {
    /// Opens the database and starts the writer thread.
    pub fn start(path: &Path, host: &str) -> Result<StoreHandle, SqsError> {
        let mut store = Store::open(path, host)?;
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        let changed = Arc::new(Notify::new());
        let notify = Arc::clone(&changed);
        let commits = Arc::new(AtomicU64::new(0));
        let committed = Arc::clone(&commits);
        let observer = ObserverSlot::default();
        let observing = observer.clone();
        std::thread::Builder::new()
            .name("hookline-sqs-store".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_GROUP {
                        match queue.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    if let Err(err) = store.begin() {
                        batch.into_iter().for_each(|job| job.fail(err.clone()));
                        continue;
                    }
                    let finishers: Vec<Finisher> =
                        batch.into_iter().map(|job| job.run(&mut store)).collect();
                    let commit = store.commit();
                    if commit.is_err() {
                        store.rollback();
                    }
                    committed.fetch_add(1, Ordering::Relaxed);
                    // What the transaction did to messages, once it is on disk.
                    let events = store.take_events();
                    if commit.is_ok() {
                        observing.tell(events);
                    }
                    let wake = store.take_receivable() && commit.is_ok();
                    for finish in finishers {
                        finish(commit.clone());
                    }
                    // Only a change that can make a message receivable wakes the long polls:
                    // woken by every commit, an idle poller's empty receive woke the others.
                    if wake {
                        notify.notify_waiters();
                    }
                }
            })
            .map_err(|e| SqsError::internal(format!("cannot start the storage thread: {e}")))?;
        Ok(StoreHandle {
            jobs,
            changed,
            commits,
            observer,
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
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(TypedJob { f, reply }))
            .map_err(|_| SqsError::internal("the storage thread has stopped"))?;
        answer
            .await
            .map_err(|_| SqsError::internal("the storage thread has stopped"))?
    }

    /// Notified after a commit that may have made messages receivable (long polling waits on
    /// it, and wakes on its own too, for messages whose visibility timeout or delay ran out).
    pub fn changed(&self) -> &Notify {
        &self.changed
    }

    /// How many transactions the writer has committed.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Idle long polls (as an idle `cargo xtask dev` runs them, several per queue) commit about
    /// one empty receive per poll per wake-up interval, instead of waking each other in a loop.
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
        // 8 polls × 2 s ÷ the 100 ms wake-up = 160 receives at most, far fewer when the writer
        // groups them; the loop this replaces committed thousands in the same 2 s.
        assert!(commits <= 200, "{commits} commits while idle");
    }
}
