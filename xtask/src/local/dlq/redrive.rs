//! `dlq redrive` and `dlq cancel` on SQS's own redrive: StartMessageMoveTask, with progress from
//! ListMessageMoveTasks and CancelMessageMoveTask on Ctrl-C or `dlq cancel` (SQS API
//! Reference; SQS Developer Guide, "Configure a dead-letter queue redrive"). The same calls
//! work on AWS and on the local endpoint, which implements them.

use std::time::Duration;

use anyhow::{Result, bail};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{ListMessageMoveTasksResultEntry, QueueAttributeName};

use super::sdk_error;

/// How often progress is read while a task runs.
const PROGRESS_POLL: Duration = Duration::from_secs(1);

/// How many polls may pass before a started task shows up in ListMessageMoveTasks.
const LISTING_POLLS: u32 = 30;

/// A queue's ARN.
pub async fn queue_arn(client: &Client, url: &str) -> Result<String> {
    let attributes = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(sdk_error)?
        .attributes
        .unwrap_or_default();
    match attributes.get(&QueueAttributeName::QueueArn) {
        Some(arn) => Ok(arn.clone()),
        None => bail!("SQS did not report the ARN of {url}"),
    }
}

/// The DLQ's most recent move task, if it has had one.
async fn latest_task(
    client: &Client,
    dlq_arn: &str,
) -> Result<Option<ListMessageMoveTasksResultEntry>> {
    Ok(client
        .list_message_move_tasks()
        .source_arn(dlq_arn)
        .max_results(1)
        .send()
        .await
        .map_err(sdk_error)?
        .results
        .unwrap_or_default()
        .into_iter()
        .next())
}

fn status(task: &ListMessageMoveTasksResultEntry) -> &str {
    task.status.as_deref().unwrap_or("UNKNOWN")
}

/// How a redrive ended.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `COMPLETED`, `CANCELLED` or `FAILED`.
    pub status: String,
    /// Messages moved.
    pub moved: i64,
    /// Messages the task was to move.
    pub to_move: Option<i64>,
}

/// Moves every message of the DLQ back to the queue with a move task and waits for it to end,
/// printing progress. Ctrl-C cancels the task (what has moved stays moved).
pub async fn redrive(client: &Client, dlq_url: &str, queue_url: &str) -> Result<Outcome> {
    let dlq_arn = queue_arn(client, dlq_url).await?;
    let queue_arn = queue_arn(client, queue_url).await?;
    // The task listed before this one, so that a listing that does not show the new task yet
    // is not read as its outcome.
    let previous = latest_task(client, &dlq_arn)
        .await?
        .map(|t| t.started_timestamp);
    let started = client
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .destination_arn(&queue_arn)
        .send()
        .await;
    let handle = match started {
        Ok(out) => out.task_handle.unwrap_or_default(),
        Err(err) => {
            let running = latest_task(client, &dlq_arn)
                .await
                .ok()
                .flatten()
                .is_some_and(|t| status(&t) == "RUNNING");
            if running {
                bail!(
                    "a redrive of this dead-letter queue is already running: wait for it, or stop it with `cargo xtask dlq cancel` ({})",
                    aws_sdk_sqs::error::DisplayErrorContext(err)
                );
            }
            return Err(sdk_error(err).context("starting the redrive (StartMessageMoveTask)"));
        }
    };
    let mut shown = None;
    let mut interrupt = std::pin::pin!(tokio::signal::ctrl_c());
    let mut cancelled = false;
    let mut unlisted = 0;
    loop {
        let listed = latest_task(client, &dlq_arn).await?.filter(|task| {
            task.task_handle.as_deref() == Some(handle.as_str())
                || previous.is_none_or(|earlier| task.started_timestamp > earlier)
        });
        let Some(task) = listed else {
            unlisted += 1;
            if unlisted > LISTING_POLLS {
                bail!("the redrive task of {dlq_arn} is not listed (ListMessageMoveTasks)");
            }
            tokio::time::sleep(PROGRESS_POLL).await;
            continue;
        };
        let progress = (
            task.approximate_number_of_messages_moved,
            task.approximate_number_of_messages_to_move,
        );
        if shown != Some(progress) {
            match progress.1 {
                Some(total) => eprintln!("moved {} of {total}", progress.0),
                None => eprintln!("moved {}", progress.0),
            }
            shown = Some(progress);
        }
        if !matches!(status(&task), "RUNNING" | "CANCELLING") {
            return Ok(Outcome {
                status: status(&task).to_owned(),
                moved: task.approximate_number_of_messages_moved,
                to_move: task.approximate_number_of_messages_to_move,
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(PROGRESS_POLL) => {}
            _ = &mut interrupt, if !cancelled => {
                eprintln!("cancelling the redrive (messages already moved stay moved)");
                cancelled = true;
                client
                    .cancel_message_move_task()
                    .task_handle(&handle)
                    .send()
                    .await
                    .map_err(sdk_error)?;
            }
        }
    }
}

/// Cancels the DLQ's running move task; returns how many messages it had moved, or `None` when
/// no task was running.
pub async fn cancel(client: &Client, dlq_url: &str) -> Result<Option<i64>> {
    let dlq_arn = queue_arn(client, dlq_url).await?;
    let Some(task) = latest_task(client, &dlq_arn).await? else {
        return Ok(None);
    };
    let Some(handle) = task
        .task_handle
        .filter(|_| task.status.as_deref() == Some("RUNNING"))
    else {
        return Ok(None);
    };
    let out = client
        .cancel_message_move_task()
        .task_handle(handle)
        .send()
        .await
        .map_err(sdk_error)?;
    Ok(Some(out.approximate_number_of_messages_moved))
}
