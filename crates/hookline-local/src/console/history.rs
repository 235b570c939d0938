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

use rusqlite::{Connection, OpenFlags, params};

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

    /// Waits until every record handed over before is committed.
    pub async fn flush(&self) {
        let (done, wait) = mpsc::channel();
        if self.records.send(Record::Flush(done)).is_ok() {
            let _ = tokio::task::spawn_blocking(move || wait.recv()).await;
        }
    }

    /// Runs `f` on the read connection, off the async threads.
    pub async fn read<T, F>(&self, f: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let reader = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || {
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

/// Most handler errors kept waiting for their attempt.
const MAX_PENDING_ERRORS: usize = 1000;

fn apply(
    conn: &Connection,
    record: Record,
    pending_errors: &mut Vec<(String, String)>,
) -> rusqlite::Result<()> {
    match record {
        Record::Flush(_) => Ok(()),
        Record::Delivery(d) => insert_delivery(conn, &d),
        Record::Sent {
            queue,
            message_id,
            body,
            trace_id,
            event_type,
            delivery_id,
            at_ms,
        } => {
            conn.execute(
                "INSERT OR IGNORE INTO messages (message_id, trace_id, queue, body, sent_ms, event_type, delivery_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![message_id, trace_id, queue, body, at_ms, event_type, delivery_id],
            )?;
            insert_timeline(
                conn,
                &TimelineRecord {
                    message_id: message_id.clone(),
                    at_ms,
                    kind: "queued",
                    queue,
                    ..TimelineRecord::default()
                },
            )?;
            if let Some(trace_id) = trace_id {
                conn.execute(
                    "UPDATE deliveries SET message_id = COALESCE(message_id, ?2),
                         event_type = COALESCE(event_type, ?3), delivery_id = COALESCE(delivery_id, ?4)
                     WHERE trace_id = ?1",
                    params![trace_id, message_id, event_type, delivery_id],
                )?;
            }
            Ok(())
        }
        Record::Timeline(mut entry) => {
            if entry.outcome == Some("failed")
                && let Some(i) = pending_errors
                    .iter()
                    .position(|(id, _)| *id == entry.message_id)
            {
                entry.error = Some(pending_errors.remove(i).1);
            }
            insert_timeline(conn, &entry)
        }
        Record::Redriven {
            from_id,
            to_id,
            queue,
            at_ms,
        } => {
            conn.execute(
                "INSERT OR IGNORE INTO messages (message_id, trace_id, queue, body, sent_ms, origin, event_type, delivery_id)
                 SELECT ?2, trace_id, ?3, body, ?4, message_id, event_type, delivery_id FROM messages WHERE message_id = ?1",
                params![from_id, to_id, queue, at_ms],
            )?;
            insert_timeline(
                conn,
                &TimelineRecord {
                    message_id: from_id,
                    at_ms,
                    kind: "redriven",
                    queue,
                    other_message_id: Some(to_id),
                    ..TimelineRecord::default()
                },
            )
        }
        Record::HandlerError { message_id, error } => {
            // The processor logs the failure before it answers: usually the attempt is not
            // recorded yet, and takes the error when it is.
            let updated = conn.execute(
                "UPDATE timeline SET error = ?2 WHERE seq = (
                     SELECT MAX(seq) FROM timeline WHERE message_id = ?1 AND kind = 'attempt')
                   AND outcome = 'failed' AND error IS NULL",
                params![message_id, error],
            )?;
            if updated == 0 {
                if pending_errors.len() >= MAX_PENDING_ERRORS {
                    pending_errors.remove(0);
                }
                pending_errors.push((message_id, error));
            }
            Ok(())
        }
    }
}

fn insert_delivery(conn: &Connection, d: &DeliveryRecord) -> rusqlite::Result<()> {
    let headers = serde_json::to_string(&d.headers).unwrap_or_else(|_| "[]".into());
    let response_headers =
        serde_json::to_string(&d.response_headers).unwrap_or_else(|_| "[]".into());
    conn.execute(
        "INSERT OR IGNORE INTO deliveries (id, received_ms, provider, method, target, headers, body, status,
             error_code, error_message, response_headers, response_body, latency_ms, trace_id, message_id, replay_of)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        params![
            d.id,
            d.received_ms,
            d.provider,
            d.method,
            d.target,
            headers,
            d.body,
            d.status,
            d.error_code,
            d.error_message,
            response_headers,
            d.response_body,
            d.latency_ms,
            d.trace_id,
            d.message_id,
            d.replay_of,
        ],
    )?;
    // The message its ingest sent may have been recorded first.
    if let Some(trace_id) = &d.trace_id {
        conn.execute(
            "UPDATE deliveries SET
                 message_id = COALESCE(deliveries.message_id, m.message_id),
                 event_type = m.event_type, delivery_id = m.delivery_id
             FROM (SELECT message_id, event_type, delivery_id FROM messages
                   WHERE trace_id = ?1 AND origin IS NULL ORDER BY sent_ms LIMIT 1) AS m
             WHERE deliveries.id = ?2",
            params![trace_id, d.id],
        )?;
    }
    Ok(())
}

fn insert_timeline(conn: &Connection, t: &TimelineRecord) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO timeline (message_id, at_ms, kind, queue, receive_count, outcome, error, duration_ms, other_message_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            t.message_id,
            t.at_ms,
            t.kind,
            t.queue,
            t.receive_count,
            t.outcome,
            t.error,
            t.duration_ms,
            t.other_message_id,
        ],
    )?;
    Ok(())
}

/// Drops the oldest deliveries beyond the limits, and the history of messages older than the
/// oldest delivery kept.
fn prune(conn: &Connection, limits: Limits) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM deliveries WHERE seq <= (SELECT MAX(seq) FROM deliveries) - ?1",
        [limits.deliveries],
    )?;
    conn.execute(
        "DELETE FROM deliveries WHERE seq <= (
             SELECT seq FROM (
                 SELECT seq, SUM(length(body)) OVER (ORDER BY seq DESC) AS kept FROM deliveries
             ) WHERE kept > ?1 ORDER BY seq DESC LIMIT 1)",
        [limits.body_bytes],
    )?;
    let oldest: Option<i64> =
        conn.query_row("SELECT MIN(received_ms) FROM deliveries", [], |r| r.get(0))?;
    if let Some(oldest) = oldest {
        conn.execute("DELETE FROM messages WHERE sent_ms < ?1", [oldest])?;
        conn.execute("DELETE FROM timeline WHERE at_ms < ?1", [oldest])?;
    }
    // Messages no delivery sent (straight to the queue) are bounded on their own.
    let most_messages = limits.deliveries.saturating_mul(2);
    conn.execute(
        "DELETE FROM messages WHERE rowid <= (SELECT MAX(rowid) FROM messages) - ?1",
        [most_messages],
    )?;
    conn.execute(
        "DELETE FROM timeline WHERE seq <= (SELECT MAX(seq) FROM timeline) - ?1",
        [most_messages.saturating_mul(5)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: failing loudly is the point

    use super::*;
    use crate::console::query::{self, Filter, Processing};

    fn delivery(id: &str, trace: &str, body: usize) -> Record {
        Record::Delivery(Box::new(DeliveryRecord {
            id: id.into(),
            received_ms: 1_000,
            provider: Some("stripe".into()),
            method: "POST".into(),
            target: "/webhooks/stripe".into(),
            body: vec![b'x'; body],
            status: 200,
            trace_id: Some(trace.into()),
            ..DeliveryRecord::default()
        }))
    }

    fn sent(message: &str, trace: &str) -> Record {
        Record::Sent {
            queue: "stripe".into(),
            message_id: message.into(),
            body: "{}".into(),
            trace_id: Some(trace.into()),
            event_type: Some("invoice.paid".into()),
            delivery_id: Some(format!("evt_{message}")),
            at_ms: 1_000,
        }
    }

    fn all(history: &History) -> Vec<query::Summary> {
        let filter = Filter {
            limit: 100,
            ..Filter::default()
        };
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                history.flush().await;
                history
                    .read(move |c| query::list(c, &filter))
                    .await
                    .unwrap()
            })
    }

    #[test]
    fn a_delivery_and_its_message_join_in_either_order_and_errors_find_their_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(&dir.path().join("c.db"), Limits::default()).unwrap();
        // The send is seen before the gateway's answer for one, after it for the other.
        history.record(sent("m1", "t1"));
        history.record(delivery("d1", "t1", 2));
        history.record(delivery("d2", "t2", 2));
        history.record(sent("m2", "t2"));
        history.record(Record::HandlerError {
            message_id: "m2".into(),
            error: "boom".into(),
        });
        history.record(Record::Timeline(TimelineRecord {
            message_id: "m2".into(),
            at_ms: 2_000,
            kind: "attempt",
            queue: "stripe".into(),
            receive_count: Some(1),
            outcome: Some("failed"),
            ..TimelineRecord::default()
        }));
        let listed = all(&history);
        assert_eq!(listed.len(), 2);
        for d in &listed {
            let n = &d.id[1..];
            assert_eq!(d.message_id.as_deref(), Some(format!("m{n}").as_str()));
            assert_eq!(d.event_type.as_deref(), Some("invoice.paid"));
            assert_eq!(d.delivery_id.as_deref(), Some(format!("evt_m{n}").as_str()));
        }
        assert_eq!(listed[0].processing, Processing::Retrying);
        assert_eq!(listed[1].processing, Processing::Queued);
        let detail = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(history.read(|c| query::detail(c, "d2")))
            .unwrap()
            .unwrap();
        assert_eq!(detail.timeline[1].error.as_deref(), Some("boom"));
    }

    #[test]
    fn the_history_is_bounded_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let limits = Limits {
            deliveries: 5,
            body_bytes: 1_000,
        };
        {
            let history = History::open(&path, limits).unwrap();
            for n in 0..(PRUNE_EVERY + 10) {
                history.record(delivery(&format!("d{n}"), &format!("t{n}"), 10));
            }
            let kept = all(&history);
            assert!(kept.len() <= 5 + 10, "pruned as it goes: {}", kept.len());
        }
        // Reopened: pruned to the limits at once, the newest kept.
        let history = History::open(&path, limits).unwrap();
        let kept: Vec<String> = all(&history).into_iter().map(|d| d.id).collect();
        let newest: Vec<String> = (PRUNE_EVERY + 5..PRUNE_EVERY + 10)
            .rev()
            .map(|n| format!("d{n}"))
            .collect();
        assert_eq!(kept, newest);
        // The byte budget: two bodies of 600 bytes do not both fit in 1,000.
        history.record(delivery("big1", "tb1", 600));
        history.record(delivery("big2", "tb2", 600));
        all(&history);
        drop(history);
        let history = History::open(&path, limits).unwrap();
        let kept: Vec<String> = all(&history).into_iter().map(|d| d.id).collect();
        assert_eq!(kept, ["big2"]);
    }
}
