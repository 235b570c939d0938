//! The one thread that owns the database: requests queue up while a transaction commits, then
//! run together in the next one (group commit). Each request runs in its own savepoint, so one
//! failing request does not undo the others, and each is answered only after the commit that
//! holds it reached the disk.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::{Notify, oneshot};

use super::SqsError;
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
}

impl StoreHandle {
    /// Opens the database and starts the writer thread.
    pub fn start(path: &Path, host: &str) -> Result<StoreHandle, SqsError> {
        let mut store = Store::open(path, host)?;
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        let changed = Arc::new(Notify::new());
        let notify = Arc::clone(&changed);
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
                    for finish in finishers {
                        finish(commit.clone());
                    }
                    notify.notify_waiters();
                }
            })
            .map_err(|e| SqsError::internal(format!("cannot start the storage thread: {e}")))?;
        Ok(StoreHandle { jobs, changed })
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

    /// Notified after every commit (long polling waits on it).
    pub fn changed(&self) -> &Notify {
        &self.changed
    }
}
