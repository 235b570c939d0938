//! The console's history: every request the gateway answered, the queue messages it became and
//! what happened to them, in `console.db` beside the queues (SQLite, WAL). Writes never hold up
//! a webhook: they are handed to one writer thread over a bounded channel (dropped, and
//! counted, if it is ever full) and committed in groups. The history is bounded: the newest
//! [`MAX_DELIVERIES`] deliveries and [`MAX_KEPT_BODY_BYTES`] of their bodies.
//!
//! A delivery and its messages are joined by the trace header of the ingest invocation: the
//! gateway knows it, and the SQS endpoint sees it on the send that invocation made. So the
//! records can arrive in any order.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use rusqlite::{Connection, OpenFlags};

mod write;
use write::{apply, prune};

/// Longest a read waits for the writer to commit what was handed over before it.
const READ_FLUSH_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Most deliveries kept; older ones are dropped with their messages' history.
pub const MAX_DELIVERIES: u64 = 10_000;

/// Most bytes of request bodies kept: without it, [`MAX_DELIVERIES`] bodies of SQS's largest
/// message would take 10 GB.
pub const MAX_KEPT_BODY_BYTES: u64 = 256 * 1024 * 1024;

/// Records waiting for the writer at most; past that they are dropped (and counted).
const CHANNEL_BOUND: usize = 8192;

/// Records committed in one transaction at most.
const MAX_GROUP: usize = 512;

/// Records between two prunings.
const PRUNE_EVERY: u64 = 200;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    received_ms INTEGER NOT NULL,
    provider TEXT,
    method TEXT NOT NULL,
    target TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    status INTEGER NOT NULL,
    error_code TEXT,
    error_message TEXT,
    response_headers TEXT NOT NULL,
    response_body BLOB NOT NULL,
    latency_ms REAL NOT NULL,
    trace_id TEXT,
    message_id TEXT,
    event_type TEXT,
    delivery_id TEXT,
    replay_of TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_by_trace ON deliveries (trace_id);
CREATE INDEX IF NOT EXISTS deliveries_by_message ON deliveries (message_id);
CREATE INDEX IF NOT EXISTS deliveries_by_delivery_id ON deliveries (delivery_id);
-- Every queue message that carries a delivery: the one ingest sent, and redriven copies (new
-- ids, `origin` the message they came from), joined to the delivery by the trace header.
CREATE TABLE IF NOT EXISTS messages (
    message_id TEXT PRIMARY KEY,
    trace_id TEXT,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_ms INTEGER NOT NULL,
    origin TEXT,
    event_type TEXT,
    delivery_id TEXT
);
CREATE INDEX IF NOT EXISTS messages_by_trace ON messages (trace_id);
-- What happened to each message: queued, each processing attempt, dead-lettered, redriven,
-- deleted.
CREATE TABLE IF NOT EXISTS timeline (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    queue TEXT NOT NULL,
    receive_count INTEGER,
    outcome TEXT,
    error TEXT,
    duration_ms REAL,
    other_message_id TEXT
);
CREATE INDEX IF NOT EXISTS timeline_by_message ON timeline (message_id);
";

/// A request the gateway answered, ready to store.
#[derive(Debug, Clone, Default)]
pub struct DeliveryRecord {
    /// Its id in the console.
    pub id: String,
    /// Arrival (ms).
    pub received_ms: i64,
    /// The provider whose route it was sent to.
    pub provider: Option<String>,
    /// The method.
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    /// The headers as sent, in order.
    pub headers: Vec<(String, String)>,
    /// The body as sent.
    pub body: Vec<u8>,
    /// The answer's status.
    pub status: u16,
    /// The error code of a refusal (`invalid_signature`), or the HTTP API's message.
    pub error_code: Option<String>,
    /// The refusal's message.
    pub error_message: Option<String>,
    /// The answer's headers.
    pub response_headers: Vec<(String, String)>,
    /// The answer's body.
    pub response_body: Vec<u8>,
    /// Arrival to answer.
    pub latency_ms: f64,
    /// The trace header of the ingest invocation.
    pub trace_id: Option<String>,
    /// The queue message id the answer named.
    pub message_id: Option<String>,
    /// The delivery it replays.
    pub replay_of: Option<String>,
}

/// One thing to write.
#[derive(Debug)]
pub enum Record {
    /// A request and its answer.
    Delivery(Box<DeliveryRecord>),
    /// A message sent to a provider's queue.
    Sent {
        /// The queue.
        queue: String,
        /// Its id.
        message_id: String,
        /// The envelope.
        body: String,
        /// The sending invocation's trace header.
        trace_id: Option<String>,
        /// The envelope's event type.
        event_type: Option<String>,
        /// The envelope's provider delivery id.
        delivery_id: Option<String>,
        /// When (ms).
        at_ms: i64,
    },
    /// An entry of a message's timeline.
    Timeline(TimelineRecord),
    /// A message redriven as a new one.
    Redriven {
        /// The old id.
        from_id: String,
        /// The new id.
        to_id: String,
        /// Where it went.
        queue: String,
        /// When (ms).
        at_ms: i64,
    },
    /// What the processor said about a message it failed.
    HandlerError {
        /// The message.
        message_id: String,
        /// The handler's error.
        error: String,
    },
    /// Answers once everything before it is committed.
    Flush(mpsc::Sender<()>),
}

/// An entry of a message's timeline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimelineRecord {
    /// The message.
    pub message_id: String,
    /// When (ms).
    pub at_ms: i64,
    /// `queued`, `attempt`, `dead_lettered`, `redriven`, `deleted`.
    pub kind: &'static str,
    /// The queue it happened in.
    pub queue: String,
    /// An attempt's receive count.
    pub receive_count: Option<u32>,
    /// An attempt's outcome: `succeeded`, `failed`, `batch_failed`.
    pub outcome: Option<&'static str>,
    /// Why it failed.
    pub error: Option<String>,
    /// How long the attempt took.
    pub duration_ms: Option<f64>,
    /// A redriven message's new id.
    pub other_message_id: Option<String>,
}

/// How the writer is doing: records dropped because it fell behind, and writes that failed.
#[derive(Debug, Default)]
pub struct Health {
    /// Records dropped (the channel was full).
    pub dropped: AtomicU64,
    /// Transactions that failed.
    pub failed: AtomicU64,
    /// The last failure.
    pub last_error: Mutex<Option<String>>,
}

/// Limits of the history (the constants, smaller in tests).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most deliveries.
    pub deliveries: u64,
    /// Most bytes of request bodies.
    pub body_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deliveries: MAX_DELIVERIES,
            body_bytes: MAX_KEPT_BODY_BYTES,
        }
    }
}

/// The history: a recorder for the writer thread, a connection for reads.
#[derive(Clone)]
pub struct History {
    records: mpsc::SyncSender<Record>,
    reader: Arc<Mutex<Connection>>,
    health: Arc<Health>,
    limits: Limits,
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // The history is not the acknowledgement contract (the queues are): it survives a restart
    // of the stack, and may lose its last records to a power cut.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

impl History {
    /// Opens (or creates) `path` and starts the writer.
    pub fn open(path: &Path, limits: Limits) -> rusqlite::Result<History> {
        let mut writer = open(path)?;
        prune(&writer, limits)?;
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        reader.busy_timeout(std::time::Duration::from_secs(5))?;
        let (records, queue) = mpsc::sync_channel(CHANNEL_BOUND);
        let health = Arc::new(Health::default());
        let writer_health = Arc::clone(&health);
        std::thread::Builder::new()
            .name("hookline-console-history".into())
            .spawn(move || write_loop(&mut writer, &queue, &writer_health, limits))
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(History {
            records,
            reader: Arc::new(Mutex::new(reader)),
            health,
            limits,
        })
    }

    /// Hands a record to the writer; drops it (counted in [`Health::dropped`]) when the writer
    /// is that far behind, rather than hold up a webhook.
    pub fn record(&self, record: Record) {
        if self.records.try_send(record).is_err() {
            self.health.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Runs `f` on the read connection, off the async threads, after the records handed over
    /// before are committed: a request the gateway has answered is on the console's next page
    /// (the writer is asynchronous so that webhooks never wait for it; a reader may). A writer
    /// stuck for longer than [`READ_FLUSH_WAIT`] is not waited for.
    pub async fn read<T, F>(&self, f: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let reader = Arc::clone(&self.reader);
        let records = self.records.clone();
        tokio::task::spawn_blocking(move || {
            let (done, wait) = mpsc::channel();
            if records.send(Record::Flush(done)).is_ok() {
                let _ = wait.recv_timeout(READ_FLUSH_WAIT);
            }
            let conn = reader.lock().unwrap_or_else(|e| e.into_inner());
            f(&conn).map_err(|e| format!("reading the console history: {e}"))
        })
        .await
        .map_err(|e| format!("reading the console history: {e}"))?
    }

    /// How the writer is doing.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }
}

fn write_loop(
    conn: &mut Connection,
    queue: &mpsc::Receiver<Record>,
    health: &Health,
    limits: Limits,
) {
    let mut since_prune = 0u64;
    let mut pending_errors: Vec<(String, String)> = Vec::new();
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(record) => batch.push(record),
                Err(_) => break,
            }
        }
        let mut flushes = Vec::new();
        let failed = |err: rusqlite::Error| {
            health.failed.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut last) = health.last_error.lock() {
                *last = Some(err.to_string());
            }
        };
        let result = (|| -> rusqlite::Result<()> {
            let mut tx = conn.transaction()?;
            for record in batch {
                match record {
                    Record::Flush(done) => flushes.push(done),
                    record => {
                        since_prune += 1;
                        // Each in a savepoint: one that fails does not undo the others.
                        let savepoint = tx.savepoint()?;
                        match apply(&savepoint, record, &mut pending_errors) {
                            Ok(()) => savepoint.commit()?,
                            Err(err) => failed(err),
                        }
                    }
                }
            }
            if since_prune >= PRUNE_EVERY {
                since_prune = 0;
                prune(&tx, limits)?;
            }
            tx.commit()
        })();
        if let Err(err) = result {
            failed(err);
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests;
