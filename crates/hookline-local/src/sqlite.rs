//! What the local endpoints' stores share: SQLite opened so that a commit is on disk when it
//! returns (WAL, `synchronous=FULL`), and one writer thread per database that owns the
//! connection and commits the requests that arrived meanwhile together (group commit), so
//! durability costs one fsync per batch, not per request. Each request runs in its own
//! savepoint, so one failing request does not undo the others, and each is answered only after
//! the commit that holds it reached the disk.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::oneshot;

/// Opens (or creates) the database at `path` for the writer thread: write-ahead log, and every
/// commit synced to disk before it returns, so that an answered write survives `kill -9` and
/// power loss.
pub(crate) fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

/// A read-only connection to the database at `path` beside its writer's: WAL lets it read the
/// last committed state while the writer writes, without taking the writer's turn or
/// committing anything.
pub(crate) fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

/// A store on one SQLite connection, run by a [`Writer`].
pub(crate) trait Database: Sized + Send + 'static {
    /// What its requests fail with.
    type Error: Clone + Send + 'static;
    /// The connection.
    fn connection(&self) -> &Connection;
    /// A storage failure, for the caller to retry.
    fn storage_error(message: String) -> Self::Error;
}

fn run<S: Database>(store: &S, sql: &str) -> Result<(), S::Error> {
    // Cached statements: these run for every request, and `execute_batch` would have SQLite
    // parse the SQL again each time (visible in profiles of the writer thread).
    store
        .connection()
        .prepare_cached(sql)
        .and_then(|mut statement| statement.execute([]))
        .map(|_| ())
        .map_err(|e| S::storage_error(format!("storage error: {e}")))
}

/// Runs `f` in a savepoint: its changes are undone when it fails, the others' are kept.
pub(crate) fn savepoint<S: Database, T>(
    store: &mut S,
    f: impl FnOnce(&mut S) -> Result<T, S::Error>,
) -> Result<T, S::Error> {
    run(store, "SAVEPOINT job")?;
    let result = f(store);
    if result.is_err() {
        let _ = run(store, "ROLLBACK TO job");
    }
    run(store, "RELEASE job")?;
    result
}

type Finisher<E> = Box<dyn FnOnce(Result<(), E>) + Send>;

trait Job<S: Database>: Send {
    fn run(self: Box<Self>, store: &mut S) -> Finisher<S::Error>;
    fn fail(self: Box<Self>, err: S::Error);
}

struct TypedJob<T, F, E> {
    f: F,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<S, T, F> Job<S> for TypedJob<T, F, S::Error>
where
    S: Database,
    T: Send + 'static,
    F: FnOnce(&mut S) -> Result<T, S::Error> + Send + 'static,
{
    fn run(self: Box<Self>, store: &mut S) -> Finisher<S::Error> {
        let TypedJob { f, reply } = *self;
        let result = savepoint(store, f);
        Box::new(move |commit| {
            let _ = reply.send(commit.and(result));
        })
    }

    fn fail(self: Box<Self>, err: S::Error) {
        let _ = self.reply.send(Err(err));
    }
}

/// Most requests committed in one transaction.
const MAX_GROUP: usize = 1024;

/// A handle to a store's writer thread. Cloning is cheap; the thread stops when every handle
/// is gone.
pub(crate) struct Writer<S: Database> {
    jobs: mpsc::Sender<Box<dyn Job<S>>>,
    commits: Arc<AtomicU64>,
}

impl<S: Database> Clone for Writer<S> {
    fn clone(&self) -> Self {
        Writer {
            jobs: self.jobs.clone(),
            commits: Arc::clone(&self.commits),
        }
    }
}

impl<S: Database> Writer<S> {
    /// Starts the thread `name` owning `store`. `after_commit` runs on it after each
    /// transaction's requests were answered, told whether the commit reached the disk.
    pub(crate) fn start(
        mut store: S,
        name: &str,
        mut after_commit: impl FnMut(&mut S, bool) + Send + 'static,
    ) -> Result<Writer<S>, S::Error> {
        let (jobs, queue) = mpsc::channel::<Box<dyn Job<S>>>();
        let commits = Arc::new(AtomicU64::new(0));
        let committed = Arc::clone(&commits);
        let begin = |store: &S| run(store, "BEGIN IMMEDIATE");
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_GROUP {
                        match queue.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    if let Err(err) = begin(&store) {
                        batch.into_iter().for_each(|job| job.fail(err.clone()));
                        continue;
                    }
                    let finishers: Vec<Finisher<S::Error>> =
                        batch.into_iter().map(|job| job.run(&mut store)).collect();
                    let commit = run(&store, "COMMIT");
                    if commit.is_err() {
                        let _ = store.connection().execute_batch("ROLLBACK");
                    }
                    committed.fetch_add(1, Ordering::Relaxed);
                    // Before the requests are answered: what watches the store (the console's
                    // history) sees a change no later than the client that made it.
                    after_commit(&mut store, commit.is_ok());
                    for finish in finishers {
                        finish(commit.clone());
                    }
                }
            })
            .map_err(|e| S::storage_error(format!("cannot start the storage thread: {e}")))?;
        Ok(Writer { jobs, commits })
    }

    /// Runs `f` on the store in the next transaction; resolves after that transaction committed.
    pub(crate) async fn call<T, F>(&self, f: F) -> Result<T, S::Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut S) -> Result<T, S::Error> + Send + 'static,
    {
        let stopped = || S::storage_error("the storage thread has stopped".to_owned());
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(TypedJob { f, reply }))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// How many transactions the thread has committed.
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }
}
