//! Receiving, the dead-letter move on receive, and what a receipt handle lets a consumer do.

use std::collections::{BTreeMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};

use super::{Store, db_error};
use crate::aws_local::SQS_SENDER_ID;
use crate::sqs::SqsError;
use crate::sqs::message::{AttributeValue, DLQ_SOURCE_ARN, Received, TRACE_HEADER};
use crate::sqs::observe::{MoveReason, QueueEvent};

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
    dlq_source: Option<String>,
    trace_header: Option<String>,
}

/// A receipt handle: `hlr-<seq>-<random>`; the random part makes each receive's handle new.
fn handle_seq(receipt: &str) -> Result<i64, SqsError> {
    receipt
        .strip_prefix("hlr-")
        .and_then(|rest| rest.split_once('-'))
        .and_then(|(seq, _)| seq.parse().ok())
        .ok_or_else(|| SqsError::bad_receipt(receipt))
}

/// The message a receipt handle names, and what became of it since.
enum Handle {
    /// The message is gone (deleted, moved or expired).
    Gone,
    /// The handle is the message's latest and its visibility timeout has not run out.
    InFlight(i64),
    /// The handle is the latest but the message is visible again.
    Expired(i64),
    /// The message was received again since: this handle is an earlier receive's.
    Superseded,
}

/// Whether a receive on the queue `name` at `now_ms` can find anything to return or to move to
/// the dead-letter queue: a visible message. Read on `reader` (a read-only connection beside the
/// writer's, [`crate::sqlite::open_reader`]), so that an idle poll costs no write transaction:
/// only when this says yes does the poll run [`Store::receive`] on the writer. A queue that does
/// not exist says yes too, for the receive to report it. What it leaves out: a FIFO message
/// whose group is blocked counts as receivable (the receive then finds nothing), and messages
/// past their retention period are deleted by the next receive that runs, not by the check.
pub(crate) fn may_receive(reader: &Connection, name: &str, now_ms: i64) -> Result<bool, SqsError> {
    reader
        .prepare_cached(
            "SELECT NOT EXISTS (SELECT 1 FROM queues WHERE name = ?1)
                 OR EXISTS (SELECT 1 FROM messages INDEXED BY messages_by_queue
                            WHERE queue = ?1 AND visible_ms <= ?2)",
        )
        .and_then(|mut statement| statement.query_row(params![name, now_ms], |r| r.get(0)))
        .map_err(db_error)
}

impl Store {
    fn rows(
        &self,
        name: &str,
        only_visible_at: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Row>, SqsError> {
        let sql = "SELECT seq, id, body, attributes, sent_ms, visible_ms, receive_count, first_receive_ms, group_id, dedup_id, dlq_source, trace_header
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
                        dlq_source: r.get(10)?,
                        trace_header: r.get(11)?,
                    })
                },
            )
            .map_err(db_error)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_error)?;
        Ok(rows)
    }

    /// The FIFO messages a receive may return, in the order it takes them. A group with any
    /// message in flight returns nothing, wherever that message sits in the group: "Inflight
    /// messages block delivery of available messages within the same message group" (AWS
    /// Knowledge Center, "Why doesn't my Amazon SQS FIFO queue return all messages or messages
    /// in other message groups?"; the SQS Developer Guide, "FIFO queue delivery logic in Amazon
    /// SQS", says the same of a received message). And a batch is filled from one group before
    /// the next: "Amazon SQS first attempts to return as many messages with the same message
    /// group ID as possible" (same Developer Guide page).
    fn fifo_candidates(&self, name: &str, now_ms: i64) -> Result<Vec<Row>, SqsError> {
        let all = self.rows(name, None, i64::MAX)?;
        let mut blocked: HashSet<String> = all
            .iter()
            .filter(|row| row.visible_ms > now_ms && row.receive_count > 0)
            .map(|row| row.group_id.clone().unwrap_or_default())
            .collect();
        let mut groups: Vec<(String, Vec<Row>)> = Vec::new();
        for row in all {
            let group = row.group_id.clone().unwrap_or_default();
            if blocked.contains(&group) {
                continue;
            }
            // A delayed message (never received) is not in flight: the group's earlier messages
            // are delivered, its later ones wait behind it, in order.
            if row.visible_ms > now_ms {
                blocked.insert(group);
                continue;
            }
            match groups.iter_mut().find(|(g, _)| *g == group) {
                Some((_, rows)) => rows.push(row),
                None => groups.push((group, vec![row])),
            }
        }
        Ok(groups.into_iter().flat_map(|(_, rows)| rows).collect())
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
            self.fifo_candidates(name, now_ms)?
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
                self.move_to(row.seq, dlq, &queue.arn(), now_ms)?;
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
            if let Some(source) = row.dlq_source {
                system.insert(DLQ_SOURCE_ARN.to_owned(), source);
            }
            if let Some(trace) = row.trace_header {
                system.insert(TRACE_HEADER.to_owned(), trace);
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

    /// Moves a message to its dead-letter queue as a fresh message with the same id and body,
    /// marked with the queue it came from (`DeadLetterQueueSourceArn`). It keeps its enqueue
    /// time (and so its expiry) in a standard queue, and gets a new one in a FIFO queue: "For
    /// standard queues, the expiration of a message is always based on its original enqueue
    /// timestamp ... For FIFO queues, the enqueue timestamp resets when the message is moved to
    /// a dead-letter queue" (SQS Developer Guide, "Using dead-letter queues"). In a FIFO DLQ its
    /// deduplication id becomes its message id: "the original message's deduplication ID will be
    /// replaced with the original message's ID" (SQS Developer Guide, "Configure a dead-letter
    /// queue redrive").
    fn move_to(
        &mut self,
        seq: i64,
        target: &str,
        source_arn: &str,
        now_ms: i64,
    ) -> Result<(), SqsError> {
        self.receivable = true;
        let fifo = self.queue(target)?.fifo();
        let (from, message_id): (String, String) = self
            .conn
            .query_row(
                "SELECT queue, id FROM messages WHERE seq = ?1",
                [seq],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(db_error)?;
        self.conn
            .execute(
                "INSERT INTO messages (queue, id, body, attributes, sent_ms, visible_ms, group_id, dedup_id, dlq_source, trace_header)
                 SELECT ?2, id, body, attributes, CASE WHEN ?4 THEN ?3 ELSE sent_ms END, ?3, group_id,
                        CASE WHEN ?4 THEN id ELSE dedup_id END, ?5, trace_header
                 FROM messages WHERE seq = ?1",
                params![seq, target, now_ms, fifo, source_arn],
            )
            .map_err(db_error)?;
        self.conn
            .execute("DELETE FROM messages WHERE seq = ?1", [seq])
            .map_err(db_error)?;
        self.events.push(QueueEvent::Moved {
            from,
            to: target.to_owned(),
            new_message_id: message_id.clone(),
            message_id,
            reason: MoveReason::DeadLetter,
        });
        Ok(())
    }

    fn handle(&self, name: &str, receipt: &str, now_ms: i64) -> Result<Handle, SqsError> {
        let seq = handle_seq(receipt)?;
        let row: Option<(Option<String>, i64)> = self
            .conn
            .query_row(
                "SELECT receipt, visible_ms FROM messages WHERE queue = ?1 AND seq = ?2",
                params![name, seq],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_error)?;
        Ok(match row {
            None => Handle::Gone,
            Some((latest, _)) if latest.as_deref() != Some(receipt) => Handle::Superseded,
            Some((_, visible_ms)) if visible_ms > now_ms => Handle::InFlight(seq),
            Some(_) => Handle::Expired(seq),
        })
    }

    /// Deletes a received message. A handle of a message already gone is not an error, nor, in
    /// a standard queue, an earlier receive's handle ("If you use an old ReceiptHandle, the
    /// request will succeed, but the message might not be deleted", SQS API Reference,
    /// DeleteMessage; here it is not deleted). A FIFO queue refuses a handle
    /// whose visibility timeout ran out: "Value ... for parameter ReceiptHandle is invalid.
    /// Reason: The receipt handle has expired." (observed; aws-sdk-js issue 1750).
    pub fn delete(&mut self, name: &str, receipt: &str, now_ms: i64) -> Result<(), SqsError> {
        let fifo = self.queue(name)?.fifo();
        let seq = match self.handle(name, receipt, now_ms)? {
            Handle::Gone => return Ok(()),
            Handle::InFlight(seq) => seq,
            Handle::Expired(_) | Handle::Superseded if fifo => {
                return Err(SqsError::receipt_expired(receipt));
            }
            Handle::Superseded => return Ok(()),
            Handle::Expired(seq) => seq,
        };
        // A FIFO group with a message in flight delivers nothing more until it is deleted.
        self.receivable = true;
        self.conn
            .execute("DELETE FROM messages WHERE seq = ?1", [seq])
            .map_err(db_error)?;
        Ok(())
    }

    /// Changes how long a received message stays invisible (0: visible at once). A handle whose
    /// visibility timeout already ran out, or an earlier receive's, gets 200 and changes
    /// nothing (SQS does so, observed: LocalStack's AWS-validated test in its pull request 9632,
    /// "AWS simply sends back an OK and does nothing"); a handle of a deleted message is refused
    /// ("Message does not exist or is not available for visibility timeout change", as SQS
    /// words it, aws-sdk-net issue 1927).
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
        match self.handle(name, receipt, now_ms)? {
            Handle::Gone => Err(SqsError::invalid(format!(
                "Value {} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.",
                SqsError::shown(receipt)
            ))),
            Handle::Expired(_) | Handle::Superseded => Ok(()),
            Handle::InFlight(seq) => {
                self.receivable = true;
                self.conn
                    .execute(
                        "UPDATE messages SET visible_ms = ?2 WHERE seq = ?1",
                        params![seq, now_ms + i64::from(secs) * 1000],
                    )
                    .map_err(db_error)?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_name_their_message_and_garbage_is_refused() {
        assert_eq!(handle_seq("hlr-42-abc").unwrap(), 42);
        for garbage in ["", "hlr-", "hlr-x-abc", "AQEB...", "hlr-42"] {
            assert_eq!(
                handle_seq(garbage).unwrap_err().code,
                "ReceiptHandleIsInvalid",
                "{garbage}"
            );
        }
    }
}
