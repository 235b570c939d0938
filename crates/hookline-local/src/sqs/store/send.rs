//! Sending: validation, FIFO deduplication (per queue or per message group) and the insert.

use rusqlite::{OptionalExtension, params};

use super::{Store, db_error};
use crate::sqs::SqsError;
use crate::sqs::md5;
use crate::sqs::message::{NewMessage, Sent};
use crate::sqs::queue_attributes::QueueAttributes;

/// FIFO deduplication interval.
const DEDUP_MS: i64 = 5 * 60 * 1000;

/// The key a FIFO message is deduplicated under. `DeduplicationScope` "specifies whether message
/// deduplication occurs at the message group or queue level" (SQS API Reference,
/// SetQueueAttributes; observed at the group level by LocalStack's AWS-validated test in its
/// pull request 10274), so with `messageGroup` the group is part of the key; the length prefix
/// keeps `a` + `b/c` and `a/b` + `c` apart.
fn dedup_key(queue: &QueueAttributes, group: &str, dedup: &str) -> String {
    if queue.dedup_per_group() {
        format!("{}:{group}{dedup}", group.len())
    } else {
        dedup.to_owned()
    }
}

/// A FIFO message's group, deduplication id and delay, or why it cannot be sent.
pub(crate) fn fifo_fields(
    queue: &QueueAttributes,
    message: &NewMessage,
) -> Result<(String, String), SqsError> {
    let group = message
        .group_id
        .clone()
        .ok_or_else(|| SqsError::missing("MessageGroupId"))?;
    let dedup = match (&message.dedup_id, queue.content_based_deduplication()) {
        (Some(id), _) => id.clone(),
        (None, true) => crate::sqs::validate::sha256_hex(message.body.as_bytes()),
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
    Ok((group, dedup))
}

impl Store {
    /// Sends a message.
    pub fn send(&mut self, name: &str, message: NewMessage, now_ms: i64) -> Result<Sent, SqsError> {
        self.receivable = true;
        let queue = self.queue(name)?;
        crate::sqs::validate::message(&message, queue.maximum_message_size())?;
        let md5_body = md5::of_body(&message.body);
        let md5_attributes = md5::of_attributes(&message.attributes);
        let (group_id, dedup_id, delay) = if queue.fifo() {
            let (group, dedup) = fifo_fields(&queue, &message)?;
            (Some(group), Some(dedup), queue.delay_secs())
        } else {
            (None, None, message.delay_secs.unwrap_or(queue.delay_secs()))
        };
        let key = match (&group_id, &dedup_id) {
            (Some(group), Some(dedup)) => Some(dedup_key(&queue, group, dedup)),
            _ => None,
        };
        if let Some(key) = &key {
            self.conn
                .execute("DELETE FROM dedup WHERE expires_ms <= ?1", [now_ms])
                .map_err(db_error)?;
            let earlier: Option<(String, i64)> = self
                .conn
                .query_row(
                    "SELECT message_id, seq FROM dedup WHERE queue = ?1 AND dedup_id = ?2",
                    params![name, key],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
                .map_err(db_error)?;
            if let Some((message_id, seq)) = earlier {
                return Ok(Sent {
                    message_id,
                    md5_body,
                    md5_attributes,
                    md5_system_attributes: message
                        .trace_header
                        .as_deref()
                        .map(md5::of_trace_header),
                    sequence_number: Some(format!("{seq:020}")),
                });
            }
        }
        let message_id = uuid::Uuid::new_v4().to_string();
        let attributes_json = serde_json::to_string(&message.attributes)
            .map_err(|e| SqsError::internal(e.to_string()))?;
        let visible_ms = now_ms + i64::from(delay) * 1000;
        self.cached(
            "INSERT INTO messages (queue, id, body, attributes, sent_ms, visible_ms, group_id, dedup_id, trace_header) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![name, message_id, message.body, attributes_json, now_ms, visible_ms, group_id, dedup_id, message.trace_header],
        )?;
        let seq = self.conn.last_insert_rowid();
        if let Some(key) = &key {
            self.conn
                .execute(
                    "INSERT INTO dedup (queue, dedup_id, message_id, seq, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![name, key, message_id, seq, now_ms + DEDUP_MS],
                )
                .map_err(db_error)?;
        }
        Ok(Sent {
            message_id,
            md5_body,
            md5_attributes,
            md5_system_attributes: message.trace_header.as_deref().map(md5::of_trace_header),
            sequence_number: queue.fifo().then(|| format!("{seq:020}")),
        })
    }
}
