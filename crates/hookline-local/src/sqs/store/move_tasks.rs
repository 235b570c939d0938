//! Message move tasks (dead-letter queue redrive): `StartMessageMoveTask`,
//! `ListMessageMoveTasks`, `CancelMessageMoveTask` in the SQS API Reference, and "Configure a
//! dead-letter queue redrive" in the SQS Developer Guide. A task moves the messages its source
//! DLQ held when it started, oldest first, each step in one transaction; the protocol layer
//! drives the steps (at `MaxNumberOfMessagesPerSecond`, when given).

use base64::Engine as _;
use rusqlite::{OptionalExtension, params};

use super::{Store, db_error, name_in_arn};
use crate::sqs::SqsError;
use crate::sqs::observe::{MoveReason, QueueEvent};

/// The highest `MaxNumberOfMessagesPerSecond` (SQS API Reference, StartMessageMoveTask).
pub const MAX_RATE: u32 = 500;

/// A task's state, spelled as the API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveTaskStatus {
    /// Moving.
    Running,
    /// Every message it was to move has moved.
    Completed,
    /// Cancelled; stops before its next step.
    Cancelling,
    /// Stopped by a cancel.
    Cancelled,
    /// Stopped by an error (`FailureReason` says which).
    Failed,
}

impl MoveTaskStatus {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MoveTaskStatus::Running => "RUNNING",
            MoveTaskStatus::Completed => "COMPLETED",
            MoveTaskStatus::Cancelling => "CANCELLING",
            MoveTaskStatus::Cancelled => "CANCELLED",
            MoveTaskStatus::Failed => "FAILED",
        }
    }

    fn parse(status: &str) -> MoveTaskStatus {
        match status {
            "RUNNING" => MoveTaskStatus::Running,
            "COMPLETED" => MoveTaskStatus::Completed,
            "CANCELLING" => MoveTaskStatus::Cancelling,
            "CANCELLED" => MoveTaskStatus::Cancelled,
            _ => MoveTaskStatus::Failed,
        }
    }

    /// Whether the task still counts as the source queue's one active task.
    pub fn active(self) -> bool {
        matches!(self, MoveTaskStatus::Running | MoveTaskStatus::Cancelling)
    }
}

/// One task, as `ListMessageMoveTasksResultEntry` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveTask {
    /// The opaque handle `CancelMessageMoveTask` takes.
    pub handle: String,
    /// The DLQ's ARN.
    pub source_arn: String,
    /// The destination's ARN, when the request named one (else each message's source queue).
    pub destination_arn: Option<String>,
    /// The requested rate, when given.
    pub rate: Option<u32>,
    /// The state.
    pub status: MoveTaskStatus,
    /// Start time (ms).
    pub started_ms: i64,
    /// How many messages the source held at the start.
    pub to_move: u64,
    /// How many have moved.
    pub moved: u64,
    /// Why it failed.
    pub failure: Option<String>,
}

const TASK_COLUMNS: &str =
    "handle, source, destination, rate, status, started_ms, to_move, moved, failure";

fn task_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MoveTask> {
    Ok(MoveTask {
        handle: r.get(0)?,
        source_arn: r.get(1)?,
        destination_arn: r.get(2)?,
        rate: r.get(3)?,
        status: MoveTaskStatus::parse(&r.get::<_, String>(4)?),
        started_ms: r.get(5)?,
        to_move: r.get(6)?,
        moved: r.get(7)?,
        failure: r.get(8)?,
    })
}

impl Store {
    /// Moves one message of a dead-letter queue to `destination` as a new message: "All
    /// redriven messages are considered new messages with a new messageID and enqueueTime"
    /// (SQS Developer Guide, "Configure a dead-letter queue redrive"). Returns the new id.
    pub(super) fn redrive_row(
        &mut self,
        seq: i64,
        destination: &str,
        now_ms: i64,
    ) -> Result<String, SqsError> {
        let (from, message_id): (String, String) = self
            .conn
            .query_row(
                "SELECT queue, id FROM messages WHERE seq = ?1",
                [seq],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(db_error)?;
        let new_id = uuid::Uuid::new_v4().to_string();
        self.conn
            .execute(
                "INSERT INTO messages (queue, id, body, attributes, sent_ms, visible_ms, group_id, dedup_id, trace_header)
                 SELECT ?2, ?3, body, attributes, ?4, ?4, group_id, dedup_id, trace_header FROM messages WHERE seq = ?1",
                params![seq, destination, new_id, now_ms],
            )
            .map_err(db_error)?;
        self.conn
            .execute("DELETE FROM messages WHERE seq = ?1", [seq])
            .map_err(db_error)?;
        self.receivable = true;
        self.events.push(QueueEvent::Moved {
            from,
            to: destination.to_owned(),
            message_id,
            new_message_id: new_id.clone(),
            reason: MoveReason::Redrive,
        });
        Ok(new_id)
    }

    /// A task the endpoint was running when it stopped cannot resume its steps: it failed.
    pub(super) fn fail_interrupted_move_tasks(&self) -> Result<(), SqsError> {
        self.conn
            .execute(
                "UPDATE move_tasks SET status = 'CANCELLED' WHERE status = 'CANCELLING'",
                [],
            )
            .map_err(db_error)?;
        self.conn
            .execute(
                "UPDATE move_tasks SET status = 'FAILED', failure = 'The local SQS endpoint stopped while the task was running.' WHERE status = 'RUNNING'",
                [],
            )
            .map_err(db_error)?;
        Ok(())
    }

    /// `StartMessageMoveTask`: checks the request, records the task and returns it.
    pub fn start_move_task(
        &mut self,
        source_arn: &str,
        destination_arn: Option<&str>,
        rate: Option<u32>,
        now_ms: i64,
    ) -> Result<MoveTask, SqsError> {
        let source_name = name_in_arn(source_arn);
        let source = self.queue_attributes(source_name)?.ok_or_else(|| {
            SqsError::resource_not_found(
                "The resource that you specified for the SourceArn parameter doesn't exist.",
            )
        })?;
        if self.dead_letter_sources(source_name)?.is_empty() {
            return Err(SqsError::invalid(
                "Source queue must be configured as a Dead Letter Queue.",
            ));
        }
        if let Some(destination) = destination_arn {
            let target = self
                .queue_attributes(name_in_arn(destination))?
                .ok_or_else(|| {
                    SqsError::resource_not_found(
                        "The resource that you specified for the DestinationArn parameter doesn't exist.",
                    )
                })?;
            if target.fifo() != source.fifo() {
                return Err(SqsError::invalid(
                    "The destination queue must be of the same type (standard or FIFO) as the source queue.",
                ));
            }
        }
        if let Some(rate) = rate
            && !(1..=MAX_RATE).contains(&rate)
        {
            return Err(SqsError::invalid(format!(
                "Value {rate} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and {MAX_RATE}."
            )));
        }
        let active = self
            .move_tasks(source_arn, 10)?
            .iter()
            .any(|task| task.status.active());
        if active {
            return Err(SqsError::invalid(
                "There is already a task running. Only one active task is allowed for a source queue arn at a given time.",
            ));
        }
        let (last_seq, to_move): (i64, u64) = self
            .conn
            .query_row(
                "SELECT COALESCE(MAX(seq), 0), COUNT(*) FILTER (WHERE visible_ms <= ?2) FROM messages WHERE queue = ?1",
                params![source_name, now_ms],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(db_error)?;
        // Opaque to callers, like SQS's (which are base64 too).
        let handle = base64::engine::general_purpose::STANDARD.encode(
            serde_json::json!({ "taskId": uuid::Uuid::new_v4().to_string(), "sourceArn": source_arn })
                .to_string(),
        );
        self.conn
            .execute(
                "INSERT INTO move_tasks (handle, source, destination, rate, status, started_ms, last_seq, to_move) VALUES (?1, ?2, ?3, ?4, 'RUNNING', ?5, ?6, ?7)",
                params![handle, source_arn, destination_arn, rate, now_ms, last_seq, to_move],
            )
            .map_err(db_error)?;
        self.move_task(&handle)?
            .ok_or_else(|| SqsError::internal("the new task was not stored"))
    }

    fn move_task(&self, handle: &str) -> Result<Option<MoveTask>, SqsError> {
        self.conn
            .query_row(
                &format!("SELECT {TASK_COLUMNS} FROM move_tasks WHERE handle = ?1"),
                [handle],
                task_row,
            )
            .optional()
            .map_err(db_error)
    }

    /// `ListMessageMoveTasks`: the source queue's most recent tasks, newest first.
    pub fn move_tasks(&self, source_arn: &str, max: u32) -> Result<Vec<MoveTask>, SqsError> {
        let mut statement = self
            .conn
            .prepare(&format!(
                "SELECT {TASK_COLUMNS} FROM move_tasks WHERE source = ?1 ORDER BY started_ms DESC, rowid DESC LIMIT ?2"
            ))
            .map_err(db_error)?;
        let tasks = statement
            .query_map(params![source_arn, max], task_row)
            .map_err(db_error)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_error)?;
        Ok(tasks)
    }

    /// `CancelMessageMoveTask`: "A message movement can only be cancelled when the current
    /// status is RUNNING"; the task stops before its next step. Returns it as cancelled.
    pub fn cancel_move_task(&mut self, handle: &str) -> Result<MoveTask, SqsError> {
        let task = self
            .move_task(handle)?
            .ok_or_else(|| SqsError::resource_not_found("The task handle does not exist."))?;
        if task.status != MoveTaskStatus::Running {
            return Err(SqsError::invalid(format!(
                "Only a RUNNING task can be cancelled; this one is {}.",
                task.status.as_str()
            )));
        }
        self.conn
            .execute(
                "UPDATE move_tasks SET status = 'CANCELLING' WHERE handle = ?1",
                [handle],
            )
            .map_err(db_error)?;
        Ok(MoveTask {
            status: MoveTaskStatus::Cancelling,
            ..task
        })
    }

    fn finish_move_task(
        &self,
        handle: &str,
        status: MoveTaskStatus,
        failure: Option<&str>,
    ) -> Result<MoveTaskStatus, SqsError> {
        self.conn
            .execute(
                "UPDATE move_tasks SET status = ?2, failure = ?3 WHERE handle = ?1",
                params![handle, status.as_str(), failure],
            )
            .map_err(db_error)?;
        Ok(status)
    }

    /// One step of a task: moves up to `max` of the messages it is to move, oldest first, and
    /// returns its state after. A moved message is a new message of its destination: "All
    /// redriven messages are considered new messages with a new messageID and enqueueTime"
    /// (SQS Developer Guide, "Configure a dead-letter queue redrive").
    pub fn move_step(
        &mut self,
        handle: &str,
        max: u32,
        now_ms: i64,
    ) -> Result<MoveTaskStatus, SqsError> {
        let task = self
            .move_task(handle)?
            .ok_or_else(|| SqsError::internal("the task is gone"))?;
        match task.status {
            MoveTaskStatus::Running => {}
            MoveTaskStatus::Cancelling => {
                return self.finish_move_task(handle, MoveTaskStatus::Cancelled, None);
            }
            done => return Ok(done),
        }
        let source = name_in_arn(&task.source_arn).to_owned();
        let last_seq: i64 = self
            .conn
            .query_row(
                "SELECT last_seq FROM move_tasks WHERE handle = ?1",
                [handle],
                |r| r.get(0),
            )
            .map_err(db_error)?;
        let remaining = task.to_move.saturating_sub(task.moved);
        let mut statement = self
            .conn
            .prepare(
                "SELECT seq, dlq_source FROM messages WHERE queue = ?1 AND seq <= ?2 AND visible_ms <= ?3 ORDER BY seq LIMIT ?4",
            )
            .map_err(db_error)?;
        let batch: Vec<(i64, Option<String>)> = statement
            .query_map(
                params![source, last_seq, now_ms, u64::from(max).min(remaining)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(db_error)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_error)?;
        drop(statement);
        if batch.is_empty() {
            return self.finish_move_task(handle, MoveTaskStatus::Completed, None);
        }
        for (seq, origin) in &batch {
            let Some(destination_arn) = task.destination_arn.as_ref().or(origin.as_ref()) else {
                return self.finish_move_task(
                    handle,
                    MoveTaskStatus::Failed,
                    Some("A message has no source queue to return to (it was sent to the dead-letter queue directly): give a DestinationArn."),
                );
            };
            let destination = name_in_arn(destination_arn);
            if self.queue_attributes(destination)?.is_none() {
                return self.finish_move_task(
                    handle,
                    MoveTaskStatus::Failed,
                    Some(&format!(
                        "The destination queue {destination_arn} does not exist."
                    )),
                );
            }
            self.redrive_row(*seq, destination, now_ms)?;
            self.conn
                .execute(
                    "UPDATE move_tasks SET moved = moved + 1 WHERE handle = ?1",
                    [handle],
                )
                .map_err(db_error)?;
        }
        self.receivable = true;
        Ok(MoveTaskStatus::Running)
    }
}
