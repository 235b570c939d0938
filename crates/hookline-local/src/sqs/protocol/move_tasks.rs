//! StartMessageMoveTask, ListMessageMoveTasks and CancelMessageMoveTask (SQS API Reference),
//! and the background steps that move a task's messages.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::sqs::SqsError;
use crate::sqs::store::{MAX_RATE, MoveTask, MoveTaskStatus, name_in_arn};
use crate::sqs::writer::StoreHandle;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct MoveTaskRequest {
    #[serde(default)]
    source_arn: Option<String>,
    #[serde(default)]
    destination_arn: Option<String>,
    #[serde(default)]
    max_number_of_messages_per_second: Option<i64>,
    #[serde(default)]
    max_results: Option<i64>,
    #[serde(default)]
    task_handle: Option<String>,
}

/// Messages a task without a requested rate moves per step: SQS "will optimize the rate";
/// locally that is SQS's highest rate, one transaction per step, with no pause between steps.
const DEFAULT_STEP: u32 = MAX_RATE;

/// The most tasks ListMessageMoveTasks returns, and its default ("The default is 1 ... The upper
/// limit is 10").
const MAX_LISTED: i64 = 10;

pub(super) async fn start(
    store: &StoreHandle,
    request: MoveTaskRequest,
) -> Result<Value, SqsError> {
    let source = request
        .source_arn
        .ok_or_else(|| SqsError::missing("SourceArn"))?;
    let rate = request
        .max_number_of_messages_per_second
        .map(|r| u32::try_from(r).unwrap_or(0));
    let destination = request.destination_arn.filter(|d| !d.is_empty());
    let now = super::now_ms();
    let task = store
        .call(move |s| s.start_move_task(&source, destination.as_deref(), rate, now))
        .await?;
    let handle = task.handle.clone();
    let runner = store.clone();
    tokio::spawn(async move { run(runner, handle, rate).await });
    Ok(json!({ "TaskHandle": task.handle }))
}

/// Drives a task to its end: a step per second at the requested rate, else steps back to back.
async fn run(store: StoreHandle, handle: String, rate: Option<u32>) {
    loop {
        let step = handle.clone();
        let status = store
            .call(move |s| s.move_step(&step, rate.unwrap_or(DEFAULT_STEP), super::now_ms()))
            .await;
        match status {
            Ok(MoveTaskStatus::Running | MoveTaskStatus::Cancelling) => {}
            // Done, or the store failed: a task that cannot step is reported FAILED at the next
            // start of the endpoint.
            _ => return,
        }
        match rate {
            Some(_) => tokio::time::sleep(Duration::from_secs(1)).await,
            None => tokio::task::yield_now().await,
        }
    }
}

fn task_json(task: &MoveTask) -> Value {
    let mut out = json!({
        "Status": task.status.as_str(),
        "SourceArn": task.source_arn,
        "ApproximateNumberOfMessagesMoved": task.moved,
        "ApproximateNumberOfMessagesToMove": task.to_move,
        "StartedTimestamp": task.started_ms,
    });
    // "only populated for tasks that are in RUNNING status" (ListMessageMoveTasksResultEntry).
    if task.status == MoveTaskStatus::Running {
        out["TaskHandle"] = task.handle.clone().into();
    }
    if let Some(destination) = &task.destination_arn {
        out["DestinationArn"] = destination.clone().into();
    }
    if let Some(rate) = task.rate {
        out["MaxNumberOfMessagesPerSecond"] = rate.into();
    }
    if let Some(failure) = &task.failure {
        out["FailureReason"] = failure.clone().into();
    }
    out
}

pub(super) async fn list(store: &StoreHandle, request: MoveTaskRequest) -> Result<Value, SqsError> {
    let source = request
        .source_arn
        .ok_or_else(|| SqsError::missing("SourceArn"))?;
    let max = request.max_results.unwrap_or(1);
    if !(1..=MAX_LISTED).contains(&max) {
        return Err(SqsError::invalid(format!(
            "Value {max} for parameter MaxResults is invalid. Reason: Must be between 1 and {MAX_LISTED}."
        )));
    }
    let tasks = store
        .call(move |s| {
            if let Err(err) = s.queue(name_in_arn(&source)) {
                return Err(if err == SqsError::no_queue() {
                    SqsError::resource_not_found(
                        "The resource that you specified for the SourceArn parameter doesn't exist.",
                    )
                } else {
                    err
                });
            }
            s.move_tasks(&source, u32::try_from(max).unwrap_or(1))
        })
        .await?;
    let results: Vec<Value> = tasks.iter().map(task_json).collect();
    let mut answer = json!({});
    super::wire::put_list(&mut answer, "Results", results);
    Ok(answer)
}

pub(super) async fn cancel(
    store: &StoreHandle,
    request: MoveTaskRequest,
) -> Result<Value, SqsError> {
    let handle = request
        .task_handle
        .ok_or_else(|| SqsError::missing("TaskHandle"))?;
    let task = store.call(move |s| s.cancel_move_task(&handle)).await?;
    Ok(json!({ "ApproximateNumberOfMessagesMoved": task.moved }))
}
