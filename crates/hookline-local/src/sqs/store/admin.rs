//! What the local console does that SQS's API cannot: look at a queue's messages without
//! receiving them (no receive count, no visibility change), the age of its oldest message (a
//! CloudWatch metric on AWS), and redrive or delete one message by its id.

use rusqlite::{OptionalExtension, params};

use super::{Counts, Store, db_error, name_in_arn};
use crate::sqs::SqsError;
use crate::sqs::observe::QueueEvent;

/// A message as it sits in its queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peeked {
    /// Its id.
    pub message_id: String,
    /// Its body.
    pub body: String,
    /// When it was sent (ms).
    pub sent_ms: i64,
    /// How often it was received.
    pub receive_count: u32,
    /// When it is (or was) visible (ms).
    pub visible_ms: i64,
    /// The queue it was dead-lettered from (its ARN), in a dead-letter queue.
    pub source_arn: Option<String>,
}

/// A queue at a glance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overview {
    /// Visible, in flight, delayed.
    pub counts: Counts,
    /// When its oldest message was sent (ms), if it has any.
    pub oldest_sent_ms: Option<i64>,
}

impl Store {
    /// The counts of a queue and the send time of its oldest message.
    pub fn overview(&self, name: &str, now_ms: i64) -> Result<Overview, SqsError> {
        self.queue(name)?;
        let counts = self.counts(name, now_ms)?;
        let oldest_sent_ms = self
            .conn
            .query_row(
                "SELECT MIN(sent_ms) FROM messages WHERE queue = ?1",
                [name],
                |r| r.get(0),
            )
            .map_err(db_error)?;
        Ok(Overview {
            counts,
            oldest_sent_ms,
        })
    }

    /// Up to `limit` messages of a queue, oldest first, left as they are.
    pub fn peek(&self, name: &str, limit: u32) -> Result<Vec<Peeked>, SqsError> {
        self.queue(name)?;
        let mut statement = self
            .conn
            .prepare(
                "SELECT id, body, sent_ms, receive_count, visible_ms, dlq_source FROM messages
                 WHERE queue = ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(db_error)?;
        let rows = statement
            .query_map(params![name, limit], |r| {
                Ok(Peeked {
                    message_id: r.get(0)?,
                    body: r.get(1)?,
                    sent_ms: r.get(2)?,
                    receive_count: r.get(3)?,
                    visible_ms: r.get(4)?,
                    source_arn: r.get(5)?,
                })
            })
            .map_err(db_error)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_error)?;
        Ok(rows)
    }

    fn seq_of(
        &self,
        name: &str,
        message_id: &str,
    ) -> Result<Option<(i64, Option<String>)>, SqsError> {
        self.conn
            .query_row(
                "SELECT seq, dlq_source FROM messages WHERE queue = ?1 AND id = ?2 ORDER BY seq LIMIT 1",
                params![name, message_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_error)
    }

    /// Moves one message of a dead-letter queue back to the queue it came from, as a redrive
    /// moves it (a new message with a new id, returned). `None` when the queue holds no message
    /// with that id.
    pub fn redrive_message(
        &mut self,
        dlq: &str,
        message_id: &str,
        now_ms: i64,
    ) -> Result<Option<String>, SqsError> {
        self.queue(dlq)?;
        let Some((seq, source)) = self.seq_of(dlq, message_id)? else {
            return Ok(None);
        };
        let source = source.ok_or_else(|| {
            SqsError::invalid(
                "The message has no source queue to return to (it was sent to the dead-letter queue directly).",
            )
        })?;
        let destination = name_in_arn(&source).to_owned();
        self.queue(&destination)
            .map_err(|_| SqsError::invalid(format!("The source queue {source} does not exist.")))?;
        self.redrive_row(seq, &destination, now_ms).map(Some)
    }

    /// Deletes one message by id; false when the queue holds no message with that id.
    pub fn remove_message(&mut self, name: &str, message_id: &str) -> Result<bool, SqsError> {
        self.queue(name)?;
        let Some((seq, _)) = self.seq_of(name, message_id)? else {
            return Ok(false);
        };
        self.conn
            .execute("DELETE FROM messages WHERE seq = ?1", [seq])
            .map_err(db_error)?;
        self.receivable = true;
        self.events.push(QueueEvent::Removed {
            queue: name.to_owned(),
            message_id: message_id.to_owned(),
        });
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: failing loudly is the point

    use std::collections::BTreeMap;

    use super::*;
    use crate::aws_local::sqs_queue_arn;
    use crate::sqs::message::NewMessage;
    use crate::sqs::observe::MoveReason;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("sqs.db"), "127.0.0.1:9324").unwrap();
        store
            .create_queue("q-dlq", &BTreeMap::new(), &BTreeMap::new(), 0)
            .unwrap();
        let redrive = serde_json::json!({
            "deadLetterTargetArn": sqs_queue_arn("q-dlq"),
            "maxReceiveCount": 1,
        })
        .to_string();
        store
            .create_queue(
                "q",
                &BTreeMap::from([("RedrivePolicy".to_owned(), redrive)]),
                &BTreeMap::new(),
                0,
            )
            .unwrap();
        (dir, store)
    }

    fn send(store: &mut Store, body: &str, now: i64) -> String {
        let message = NewMessage {
            body: body.into(),
            ..NewMessage::default()
        };
        store.send("q", message, now).unwrap().message_id
    }

    #[test]
    fn peeking_changes_nothing_and_the_oldest_is_reported() {
        let (_dir, mut store) = store();
        let first = send(&mut store, "a", 1_000);
        send(&mut store, "b", 2_000);
        let peeked = store.peek("q", 10).unwrap();
        assert_eq!(peeked.len(), 2);
        assert_eq!(
            (peeked[0].message_id.as_str(), peeked[0].receive_count),
            (first.as_str(), 0)
        );
        assert_eq!(store.peek("q", 10).unwrap(), peeked, "nothing was received");
        let overview = store.overview("q", 3_000).unwrap();
        assert_eq!(overview.counts.visible, 2);
        assert_eq!(overview.oldest_sent_ms, Some(1_000));
        assert_eq!(store.overview("q-dlq", 3_000).unwrap().oldest_sent_ms, None);
        assert_eq!(store.peek("nope", 1).unwrap_err(), SqsError::no_queue());
    }

    #[test]
    fn one_message_is_redriven_or_removed_by_id_and_unknown_ids_change_nothing() {
        let (_dir, mut store) = store();
        let id = send(&mut store, "poison", 1_000);
        send(&mut store, "other", 1_000);
        // Received once, then moved on the next receive (maxReceiveCount 1).
        store.receive("q", 10, Some(0), 2_000).unwrap();
        store.receive("q", 10, Some(0), 3_000).unwrap();
        let moved = store.take_events();
        assert!(moved.iter().any(|e| matches!(e, QueueEvent::Moved { message_id, reason: MoveReason::DeadLetter, .. } if *message_id == id)));
        assert_eq!(
            store.redrive_message("q-dlq", "unknown", 4_000).unwrap(),
            None
        );
        assert_eq!(store.peek("q-dlq", 10).unwrap().len(), 2);
        let new_id = store.redrive_message("q-dlq", &id, 4_000).unwrap().unwrap();
        assert_ne!(new_id, id, "a redriven message is a new message");
        assert_eq!(store.peek("q-dlq", 10).unwrap().len(), 1);
        assert!(
            store
                .peek("q", 10)
                .unwrap()
                .iter()
                .any(|m| m.message_id == new_id && m.body == "poison")
        );
        let other = store.peek("q-dlq", 10).unwrap()[0].message_id.clone();
        assert!(!store.remove_message("q-dlq", "unknown").unwrap());
        assert!(store.remove_message("q-dlq", &other).unwrap());
        assert!(store.peek("q-dlq", 10).unwrap().is_empty());
        let events = store.take_events();
        assert!(events.iter().any(|e| matches!(e, QueueEvent::Moved { new_message_id, reason: MoveReason::Redrive, .. } if *new_message_id == new_id)));
        assert!(events.contains(&QueueEvent::Removed {
            queue: "q-dlq".into(),
            message_id: other
        }));
    }
}
