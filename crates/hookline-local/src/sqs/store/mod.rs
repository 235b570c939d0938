//! Queue storage and semantics on SQLite ([`crate::sqlite`]: WAL, `synchronous=FULL`, one writer
//! thread with group commit): a change is acknowledged only after its transaction is on disk.
//!
//! Split by concern: queues here, their tags in `tags`, sending in `send`, receiving and receipt
//! handles in `receive`, dead-letter redrive tasks in `move_tasks`, what the local console does
//! beside the API in `admin`.

mod admin;
mod move_tasks;
mod receive;
mod send;
mod tags;

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

pub use admin::{Overview, Peeked};
pub use move_tasks::{MAX_RATE, MoveTask, MoveTaskStatus};
pub(crate) use receive::may_receive;
pub(crate) use send::fifo_fields;

use super::SqsError;
use super::observe::QueueEvent;
use super::queue_attributes::QueueAttributes;
use crate::aws_local;

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
    /// What the open transaction did to messages, for the observer once it commits.
    events: Vec<QueueEvent>,
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
-- dedup_id is the scope's key: the id itself, or group and id for DeduplicationScope=messageGroup.
CREATE TABLE IF NOT EXISTS dedup (
    queue TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (queue, dedup_id)
);
CREATE TABLE IF NOT EXISTS move_tasks (
    handle TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    destination TEXT,
    rate INTEGER,
    status TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    to_move INTEGER NOT NULL,
    moved INTEGER NOT NULL DEFAULT 0,
    failure TEXT
);
";

/// Columns added after the first release: a database made by an older version gets them on open.
const ADDED_COLUMNS: [(&str, &str, &str); 3] = [
    // The queue a message was moved from to this dead-letter queue (`DeadLetterQueueSourceArn`).
    ("messages", "dlq_source", "TEXT"),
    // The `AWSTraceHeader` system attribute the sender gave.
    ("messages", "trace_header", "TEXT"),
    ("queues", "tags", "TEXT NOT NULL DEFAULT '{}'"),
];

fn db_error(err: rusqlite::Error) -> SqsError {
    SqsError::internal(format!("storage error: {err}"))
}

/// The queue name in a queue ARN (`arn:aws:sqs:<region>:<account>:<name>`).
pub fn name_in_arn(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or_default()
}

impl crate::sqlite::Database for Store {
    type Error = SqsError;

    fn connection(&self) -> &Connection {
        &self.conn
    }

    fn storage_error(message: String) -> SqsError {
        SqsError::internal(message)
    }
}

impl Store {
    /// Opens (or creates) the database at `path`; queue URLs are built on `host` (`ip:port`).
    pub fn open(path: &Path, host: &str) -> Result<Store, SqsError> {
        let conn = crate::sqlite::open(path).map_err(db_error)?;
        conn.execute_batch(SCHEMA).map_err(db_error)?;
        for (table, column, declaration) in ADDED_COLUMNS {
            let present: bool = conn
                .query_row(
                    &format!(
                        "SELECT COUNT(*) > 0 FROM pragma_table_info('{table}') WHERE name = ?1"
                    ),
                    [column],
                    |row| row.get(0),
                )
                .map_err(db_error)?;
            if !present {
                conn.execute_batch(&format!(
                    "ALTER TABLE {table} ADD COLUMN {column} {declaration}"
                ))
                .map_err(db_error)?;
            }
        }
        let store = Store {
            conn,
            host: host.to_owned(),
            receivable: false,
            events: Vec::new(),
        };
        store.fail_interrupted_move_tasks()?;
        Ok(store)
    }

    /// Whether messages may have become receivable since the last call (then resets it).
    pub(crate) fn take_receivable(&mut self) -> bool {
        std::mem::take(&mut self.receivable)
    }

    /// What the transaction did to messages (then forgets it).
    pub(crate) fn take_events(&mut self) -> Vec<QueueEvent> {
        std::mem::take(&mut self.events)
    }

    /// Runs `f` in a savepoint: its changes are undone when it fails, the others' are kept.
    pub(crate) fn savepoint<T>(
        &mut self,
        f: impl FnOnce(&mut Store) -> Result<T, SqsError>,
    ) -> Result<T, SqsError> {
        // A request undone is not told either.
        let told = self.events.len();
        let result = crate::sqlite::savepoint(self, f);
        if result.is_err() {
            self.events.truncate(told);
        }
        result
    }

    /// The URL of a queue.
    pub fn url(&self, name: &str) -> String {
        format!("http://{}/{}/{name}", self.host, aws_local::ACCOUNT_ID)
    }

    /// Creates a queue with `tags`, or returns the existing one when the attributes the request
    /// names have the same values there. Attributes the request leaves out are not compared:
    /// "CreateQueue by name only, on an existing queue created with other attributes, returns
    /// its URL" is what SQS does (observed; the API Reference's CreateQueue page says only that
    /// differing attribute values are an error).
    pub fn create_queue(
        &mut self,
        name: &str,
        requested: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
        now_ms: i64,
    ) -> Result<String, SqsError> {
        let attributes = QueueAttributes::for_create(name, requested)?;
        if let Some(redrive) = attributes.redrive()? {
            self.check_dead_letter_target(&redrive.0, attributes.fifo())?;
        }
        if let Some(existing) = self.queue_attributes(name)? {
            let reported = existing.reported();
            let differs = attributes
                .explicit()
                .iter()
                .any(|(key, value)| reported.get(key) != Some(value));
            if differs {
                return Err(SqsError::queue_exists(name));
            }
            return Ok(self.url(name));
        }
        super::validate::tags(tags)?;
        self.conn
            .execute(
                "INSERT INTO queues (name, attributes, created_ms, modified_ms, tags) VALUES (?1, ?2, ?3, ?3, ?4)",
                params![name, attributes.to_json(), now_ms, tags::to_json(tags)?],
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

    /// The queues whose `RedrivePolicy` names `dlq` as their dead-letter queue, sorted
    /// (`ListDeadLetterSourceQueues`).
    pub fn dead_letter_sources(&self, dlq: &str) -> Result<Vec<String>, SqsError> {
        self.queue(dlq)?;
        let mut sources = Vec::new();
        for name in self.list_queues("")? {
            if let Some((target, _)) = self.queue(&name)?.redrive()?
                && target == dlq
            {
                sources.push(name);
            }
        }
        Ok(sources)
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

    /// Deletes every message of a queue, and forgets its deduplication ids. What SQS does is not
    /// documented, and what others report differs: the API Reference's PurgeQueue page does not
    /// say, and the Developer Guide says only that SQS "continues to keep track of the message
    /// deduplication ID even after the message is received and deleted"; LocalStack forgets them
    /// (localstack/localstack issue 8211, pull request 8218, where it is not said whether the
    /// test ran against AWS), Floci's pull request 561 says AWS keeps them, without showing a
    /// run. hookline forgets them, as issue 14 asked: a purge that kept them would silently drop
    /// a resend of a purged message for five minutes.
    pub fn purge(&mut self, name: &str) -> Result<(), SqsError> {
        self.queue(name)?;
        for sql in [
            "DELETE FROM messages WHERE queue = ?1",
            "DELETE FROM dedup WHERE queue = ?1",
        ] {
            self.conn.execute(sql, [name]).map_err(db_error)?;
        }
        Ok(())
    }
}
