//! Queue storage and semantics on SQLite (WAL, `synchronous=FULL`): a change is acknowledged
//! only after its transaction is on disk. One writer thread owns the connection and commits the
//! requests that arrived meanwhile together (group commit), so durability costs one fsync per
//! batch, not per message.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::SqsError;
use super::md5;
use super::message::{AttributeValue, NewMessage, Received, Sent};
use super::queue_attributes::QueueAttributes;
use crate::aws_local::{self, SQS_SENDER_ID};

/// Approximate counts of a queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Visible now.
    pub visible: u64,
    /// Received and not yet deleted or visible again.
    pub in_flight: u64,
    /// Sent with a delay that has not passed.
    pub delayed: u64,
}

/// The SQLite database behind the endpoint.
pub struct Store {
    conn: Connection,
    host: String,
    /// Whether a change since the writer last looked can make a message receivable: long polls
    /// are woken only then (a receive that finds nothing must not wake the others, or idle
    /// pollers wake each other forever).
    receivable: bool,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queues (
    name TEXT PRIMARY KEY,
    attributes TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL,
    sent_ms INTEGER NOT NULL,
    visible_ms INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_receive_ms INTEGER,
    receipt TEXT,
    group_id TEXT,
    dedup_id TEXT
);
CREATE INDEX IF NOT EXISTS messages_by_queue ON messages (queue, visible_ms, seq);
CREATE INDEX IF NOT EXISTS messages_by_receipt ON messages (receipt);
-- Retention is enforced on every receive: without this index that DELETE scans the whole queue.
CREATE INDEX IF NOT EXISTS messages_by_sent ON messages (queue, sent_ms);
-- Receive walks a queue in order and stops at its batch: without this index SQLite sorted every
-- visible message of the queue (bodies included) on each receive.
CREATE INDEX IF NOT EXISTS messages_in_order ON messages (queue, seq, visible_ms);
CREATE TABLE IF NOT EXISTS dedup (
    queue TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (queue, dedup_id)
);
";

/// FIFO deduplication interval.
const DEDUP_MS: i64 = 5 * 60 * 1000;

fn db_error(err: rusqlite::Error) -> SqsError {
    SqsError::internal(format!("storage error: {err}"))
}

impl Store {
    /// Opens (or creates) the database at `path`; queue URLs are built on `host` (`ip:port`).
    pub fn open(path: &Path, host: &str) -> Result<Store, SqsError> {
        let conn = Connection::open(path).map_err(db_error)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_error)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db_error)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db_error)?;
        conn.execute_batch(SCHEMA).map_err(db_error)?;
        Ok(Store {
            conn,
            host: host.to_owned(),
            receivable: false,
        })
    }

    pub(crate) fn begin(&self) -> Result<(), SqsError> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(db_error)
    }

    pub(crate) fn commit(&self) -> Result<(), SqsError> {
        self.conn.execute_batch("COMMIT").map_err(db_error)
    }

    /// Whether messages may have become receivable since the last call (then resets it).
    pub(crate) fn take_receivable(&mut self) -> bool {
        std::mem::take(&mut self.receivable)
    }

    pub(crate) fn rollback(&self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    /// Runs `f` in a savepoint: its changes are undone when it fails, the others' are kept.
    pub(crate) fn savepoint<T>(
        &mut self,
        f: impl FnOnce(&mut Store) -> Result<T, SqsError>,
    ) -> Result<T, SqsError> {
        // Cached statements: these run for every request, and `execute_batch`/`execute` would
        // have SQLite parse the SQL again each time (visible in profiles of the writer thread).
        self.cached("SAVEPOINT job", [])?;
        let result = f(self);
        if result.is_err() {
            let _ = self.cached("ROLLBACK TO job", []);
        }
        self.cached("RELEASE job", [])?;
        result
    }

    /// The URL of a queue.
    pub fn url(&self, name: &str) -> String {
        format!("http://{}/{}/{name}", self.host, aws_local::ACCOUNT_ID)
    }

    /// Creates a queue, or returns the existing one when its attributes match.
    pub fn create_queue(
        &mut self,
        name: &str,
        requested: &BTreeMap<String, String>,
        now_ms: i64,
    ) -> Result<String, SqsError> {
        let attributes = QueueAttributes::for_create(name, requested)?;
        if let Some(redrive) = attributes.redrive()? {
            self.check_dead_letter_target(&redrive.0, attributes.fifo())?;
        }
        if let Some(existing) = self.queue_attributes(name)? {
            if existing.explicit() != attributes.explicit() {
                return Err(SqsError::queue_exists(name));
            }
            return Ok(self.url(name));
        }
        self.conn
            .execute(
                "INSERT INTO queues (name, attributes, created_ms, modified_ms) VALUES (?1, ?2, ?3, ?3)",
                params![name, attributes.to_json(), now_ms],
            )
            .map_err(db_error)?;
        Ok(self.url(name))
    }

    fn check_dead_letter_target(&self, dlq: &str, fifo: bool) -> Result<(), SqsError> {
        let target = self
            .queue_attributes(dlq)?
            .ok_or_else(|| SqsError::invalid(format!("Value for parameter RedrivePolicy is invalid. Reason: Dead-letter target does not exist: {dlq}.")))?;
        if target.fifo() != fifo {
            return Err(SqsError::invalid(
                "Value for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be of the same type (standard or FIFO) as the source queue.",
            ));
        }
        Ok(())
    }

    /// Runs one statement from the connection's statement cache; returns the rows changed.
    fn cached(&self, sql: &str, params: impl rusqlite::Params) -> Result<usize, SqsError> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut statement| statement.execute(params))
            .map_err(db_error)
    }

    fn queue_attributes(&self, name: &str) -> Result<Option<QueueAttributes>, SqsError> {
        let json: Option<String> = self
            .conn
            .prepare_cached("SELECT attributes FROM queues WHERE name = ?1")
            .and_then(|mut statement| statement.query_row([name], |row| row.get(0)))
            .optional()
            .map_err(db_error)?;
        json.map(|j| QueueAttributes::from_json(&j)).transpose()
    }

    /// A queue's attributes, or `QueueDoesNotExist`.
    pub fn queue(&self, name: &str) -> Result<QueueAttributes, SqsError> {
        self.queue_attributes(name)?.ok_or_else(SqsError::no_queue)
    }

    /// Queue names starting with `prefix`, sorted.
    pub fn list_queues(&self, prefix: &str) -> Result<Vec<String>, SqsError> {
        let mut statement = self
            .conn
            .prepare("SELECT name FROM queues ORDER BY name")
            .map_err(db_error)?;
        let names = statement
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(db_error)?
            .filter_map(Result::ok)
            .filter(|name| name.starts_with(prefix))
            .collect();
        Ok(names)
    }

    /// Deletes a queue and its messages.
    pub fn delete_queue(&mut self, name: &str) -> Result<(), SqsError> {
        self.queue(name)?;
        for sql in [
            "DELETE FROM messages WHERE queue = ?1",
            "DELETE FROM dedup WHERE queue = ?1",
            "DELETE FROM queues WHERE name = ?1",
        ] {
            self.conn.execute(sql, [name]).map_err(db_error)?;
        }
        Ok(())
    }

    /// Changes attributes of an existing queue.
    pub fn set_queue_attributes(
        &mut self,
        name: &str,
        changes: &BTreeMap<String, String>,
        now_ms: i64,
    ) -> Result<(), SqsError> {
        self.receivable = true;
        let mut attributes = self.queue(name)?;
        attributes.update(changes)?;
        if let Some(redrive) = attributes.redrive()? {
            self.check_dead_letter_target(&redrive.0, attributes.fifo())?;
        }
        self.conn
            .execute(
                "UPDATE queues SET attributes = ?2, modified_ms = ?3 WHERE name = ?1",
                params![name, attributes.to_json(), now_ms],
            )
            .map_err(db_error)?;
        Ok(())
    }

    /// Creation and modification times (ms).
    pub fn queue_times(&self, name: &str) -> Result<(i64, i64), SqsError> {
        self.conn
            .query_row(
                "SELECT created_ms, modified_ms FROM queues WHERE name = ?1",
                [name],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(db_error)?
            .ok_or_else(SqsError::no_queue)
    }

    /// Approximate counts.
    pub fn counts(&self, name: &str, now_ms: i64) -> Result<Counts, SqsError> {
        self.conn
            .query_row(
                "SELECT
                    COUNT(*) FILTER (WHERE visible_ms <= ?2),
                    COUNT(*) FILTER (WHERE visible_ms > ?2 AND receive_count > 0),
                    COUNT(*) FILTER (WHERE visible_ms > ?2 AND receive_count = 0)
                 FROM messages WHERE queue = ?1",
                params![name, now_ms],
                |row| {
                    Ok(Counts {
                        visible: row.get(0)?,
                        in_flight: row.get(1)?,
                        delayed: row.get(2)?,
                    })
                },
            )
            .map_err(db_error)
    }

    /// Sends a message.
    pub fn send(&mut self, name: &str, message: NewMessage, now_ms: i64) -> Result<Sent, SqsError> {
        self.receivable = true;
        let queue = self.queue(name)?;
        super::validate::message(&message, queue.maximum_message_size())?;
        let md5_body = md5::of_body(&message.body);
        let md5_attributes = md5::of_attributes(&message.attributes);
        let (group_id, dedup_id, delay) = if queue.fifo() {
            let group = message
                .group_id
                .clone()
                .ok_or_else(|| SqsError::missing("MessageGroupId"))?;
            let dedup = match (&message.dedup_id, queue.content_based_deduplication()) {
                (Some(id), _) => id.clone(),
                (None, true) => super::validate::sha256_hex(message.body.as_bytes()),
                (None, false) => {
                    return Err(SqsError::invalid(
                        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                    ));
                }
            };
            if message.delay_secs.is_some_and(|d| d > 0) {
                return Err(SqsError::invalid(
                    "Value for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.",
                ));
            }
            (Some(group), Some(dedup), queue.delay_secs())
        } else {
            (None, None, message.delay_secs.unwrap_or(queue.delay_secs()))
        };
        if let Some(dedup) = &dedup_id {
            self.conn
                .execute("DELETE FROM dedup WHERE expires_ms <= ?1", [now_ms])
                .map_err(db_error)?;
            let earlier: Option<(String, i64)> = self
                .conn
                .query_row(
                    "SELECT message_id, seq FROM dedup WHERE queue = ?1 AND dedup_id = ?2",
                    params![name, dedup],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
                .map_err(db_error)?;
            if let Some((message_id, seq)) = earlier {
                return Ok(Sent {
                    message_id,
                    md5_body,
                    md5_attributes,
                    sequence_number: Some(format!("{seq:020}")),
                });
            }
        }
        let message_id = uuid::Uuid::new_v4().to_string();
        let attributes_json = serde_json::to_string(&message.attributes)
            .map_err(|e| SqsError::internal(e.to_string()))?;
        let visible_ms = now_ms + i64::from(delay) * 1000;
        self.cached(
            "INSERT INTO messages (queue, id, body, attributes, sent_ms, visible_ms, group_id, dedup_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![name, message_id, message.body, attributes_json, now_ms, visible_ms, group_id, dedup_id],
        )?;
        let seq = self.conn.last_insert_rowid();
        if let Some(dedup) = &dedup_id {
            self.conn
                .execute(
                    "INSERT INTO dedup (queue, dedup_id, message_id, seq, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![name, dedup, message_id, seq, now_ms + DEDUP_MS],
                )
                .map_err(db_error)?;
        }
        Ok(Sent {
            message_id,
            md5_body,
            md5_attributes,
            sequence_number: queue.fifo().then(|| format!("{seq:020}")),
        })
    }
}

/// One row of `messages`, as receive needs it.
struct Row {
    seq: i64,
    id: String,
    body: String,
    attributes: String,
    sent_ms: i64,
    visible_ms: i64,
    receive_count: i64,
    first_receive_ms: Option<i64>,
    group_id: Option<String>,
    dedup_id: Option<String>,
}

impl Store {
    fn rows(
        &self,
        name: &str,
        only_visible_at: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Row>, SqsError> {
        let sql = "SELECT seq, id, body, attributes, sent_ms, visible_ms, receive_count, first_receive_ms, group_id, dedup_id
                   FROM messages INDEXED BY messages_in_order
                   WHERE queue = ?1 AND visible_ms <= ?2 ORDER BY seq LIMIT ?3";
        let mut statement = self.conn.prepare_cached(sql).map_err(db_error)?;
        let rows = statement
            .query_map(
                params![name, only_visible_at.unwrap_or(i64::MAX), limit],
                |r| {
                    Ok(Row {
                        seq: r.get(0)?,
                        id: r.get(1)?,
                        body: r.get(2)?,
                        attributes: r.get(3)?,
                        sent_ms: r.get(4)?,
                        visible_ms: r.get(5)?,
                        receive_count: r.get(6)?,
                        first_receive_ms: r.get(7)?,
                        group_id: r.get(8)?,
                        dedup_id: r.get(9)?,
                    })
                },
            )
            .map_err(db_error)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_error)?;
        Ok(rows)
    }

    /// Receives up to `max` messages, making them invisible for the visibility timeout. A message
    /// already received `maxReceiveCount` times moves to the dead-letter queue instead.
    pub fn receive(
        &mut self,
        name: &str,
        max: u32,
        visibility_secs: Option<u32>,
        now_ms: i64,
    ) -> Result<Vec<Received>, SqsError> {
        let queue = self.queue(name)?;
        let retention_ms = i64::from(queue.retention_secs()) * 1000;
        self.conn
            .execute(
                "DELETE FROM messages WHERE queue = ?1 AND sent_ms < ?2",
                params![name, now_ms - retention_ms],
            )
            .map_err(db_error)?;
        let redrive = queue.redrive()?;
        let visibility_ms =
            i64::from(visibility_secs.unwrap_or(queue.visibility_timeout_secs())) * 1000;
        let candidates = if queue.fifo() {
            // Order within a group: a group with a message in flight delivers nothing more.
            let all = self.rows(name, None, i64::MAX)?;
            let mut blocked: HashSet<String> = HashSet::new();
            let mut out = Vec::new();
            for row in all {
                let group = row.group_id.clone().unwrap_or_default();
                if row.visible_ms > now_ms {
                    blocked.insert(group);
                } else if !blocked.contains(&group) {
                    out.push(row);
                }
            }
            out
        } else {
            // Enough rows to fill the batch even if some move to the DLQ.
            self.rows(name, Some(now_ms), i64::from(max) * 4 + 16)?
        };
        let mut received = Vec::new();
        for row in candidates {
            if received.len() >= max as usize {
                break;
            }
            if let Some((dlq, max_receives)) = &redrive
                && row.receive_count >= i64::from(*max_receives)
            {
                self.move_to(row.seq, dlq, now_ms)?;
                continue;
            }
            let receipt = format!("hlr-{}-{}", row.seq, uuid::Uuid::new_v4().simple());
            let count = row.receive_count + 1;
            let first = row.first_receive_ms.unwrap_or(now_ms);
            self.conn
                .execute(
                    "UPDATE messages SET receive_count = ?2, first_receive_ms = ?3, receipt = ?4, visible_ms = ?5 WHERE seq = ?1",
                    params![row.seq, count, first, receipt, now_ms + visibility_ms],
                )
                .map_err(db_error)?;
            let attributes: BTreeMap<String, AttributeValue> =
                serde_json::from_str(&row.attributes).unwrap_or_default();
            let mut system = BTreeMap::from([
                ("SenderId".to_owned(), SQS_SENDER_ID.to_owned()),
                ("SentTimestamp".to_owned(), row.sent_ms.to_string()),
                ("ApproximateReceiveCount".to_owned(), count.to_string()),
                (
                    "ApproximateFirstReceiveTimestamp".to_owned(),
                    first.to_string(),
                ),
            ]);
            if queue.fifo() {
                system.insert(
                    "MessageGroupId".to_owned(),
                    row.group_id.unwrap_or_default(),
                );
                system.insert(
                    "MessageDeduplicationId".to_owned(),
                    row.dedup_id.unwrap_or_default(),
                );
                system.insert("SequenceNumber".to_owned(), format!("{:020}", row.seq));
            }
            received.push(Received {
                message_id: row.id,
                receipt_handle: receipt,
                body: row.body,
                attributes,
                system,
            });
        }
        Ok(received)
    }

    /// Moves a message to another queue as a fresh message with the same id and body. It keeps
    /// its enqueue time (and so its expiry) in a standard queue, and gets a new one in a FIFO
    /// queue: "For standard queues, the expiration of a message is always based on its original
    /// enqueue timestamp ... For FIFO queues, the enqueue timestamp resets when the message is
    /// moved to a dead-letter queue" (SQS Developer Guide, "Using dead-letter queues").
    fn move_to(&mut self, seq: i64, target: &str, now_ms: i64) -> Result<(), SqsError> {
        self.receivable = true;
        let fifo = self.queue(target)?.fifo();
        self.conn
            .execute(
                "INSERT INTO messages (queue, id, body, attributes, sent_ms, visible_ms, group_id, dedup_id)
                 SELECT ?2, id, body, attributes, CASE WHEN ?4 THEN ?3 ELSE sent_ms END, ?3, group_id, dedup_id
                 FROM messages WHERE seq = ?1",
                params![seq, target, now_ms, fifo],
            )
            .map_err(db_error)?;
        self.conn
            .execute("DELETE FROM messages WHERE seq = ?1", [seq])
            .map_err(db_error)?;
        Ok(())
    }

    fn by_receipt(&self, name: &str, receipt: &str) -> Result<Option<(i64, i64)>, SqsError> {
        if !receipt.starts_with("hlr-") {
            return Err(SqsError::bad_receipt(receipt));
        }
        self.conn
            .query_row(
                "SELECT seq, visible_ms FROM messages WHERE queue = ?1 AND receipt = ?2",
                params![name, receipt],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_error)
    }

    /// Deletes a received message. A handle of a message already gone is not an error.
    pub fn delete(&mut self, name: &str, receipt: &str) -> Result<(), SqsError> {
        self.queue(name)?;
        // A FIFO group with a message in flight delivers nothing more until it is deleted.
        self.receivable = true;
        if let Some((seq, _)) = self.by_receipt(name, receipt)? {
            self.conn
                .execute("DELETE FROM messages WHERE seq = ?1", [seq])
                .map_err(db_error)?;
        }
        Ok(())
    }

    /// Changes how long a received message stays invisible (0: visible at once).
    pub fn change_visibility(
        &mut self,
        name: &str,
        receipt: &str,
        secs: u32,
        now_ms: i64,
    ) -> Result<(), SqsError> {
        self.queue(name)?;
        if secs > 43_200 {
            return Err(SqsError::invalid(
                "Value for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.",
            ));
        }
        match self.by_receipt(name, receipt)? {
            Some((seq, visible_ms)) if visible_ms > now_ms => {
                self.receivable = true;
                self.conn
                    .execute(
                        "UPDATE messages SET visible_ms = ?2 WHERE seq = ?1",
                        params![seq, now_ms + i64::from(secs) * 1000],
                    )
                    .map_err(db_error)?;
                Ok(())
            }
            _ => Err(SqsError::not_inflight()),
        }
    }

    /// Deletes every message of a queue.
    pub fn purge(&mut self, name: &str) -> Result<(), SqsError> {
        self.queue(name)?;
        self.conn
            .execute("DELETE FROM messages WHERE queue = ?1", [name])
            .map_err(db_error)?;
        Ok(())
    }
}
