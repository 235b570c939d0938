//! Dead-letter queue redrive through aws-sdk-sqs: StartMessageMoveTask, ListMessageMoveTasks
//! and CancelMessageMoveTask as the SQS API Reference describes them (issue 14, item 11).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{ListMessageMoveTasksResultEntry, QueueAttributeName};

mod support;
use support::{count, create, receive, start};

const ARN: &str = "arn:aws:sqs:us-east-1:000000000000:";

/// A source queue `<name>` whose messages move to `<name>-dlq` on their second receive, with
/// `n` messages already moved there. Returns the queue and DLQ URLs.
async fn dead_letters(client: &Client, name: &str, n: usize) -> (String, String) {
    let dlq = create(client, &format!("{name}-dlq"), &[]).await;
    let policy = format!(r#"{{"deadLetterTargetArn":"{ARN}{name}-dlq","maxReceiveCount":"1"}}"#);
    let queue = create(
        client,
        name,
        &[
            (QueueAttributeName::RedrivePolicy, &policy),
            (QueueAttributeName::VisibilityTimeout, "0"),
        ],
    )
    .await;
    for i in 0..n {
        client
            .send_message()
            .queue_url(&queue)
            .message_body(format!("m{i}"))
            .send()
            .await
            .unwrap();
    }
    // Each message received once, then moved by the receives that find it again.
    while !receive(client, &queue, 10).await.is_empty() {}
    assert_eq!(
        count(
            client,
            &dlq,
            QueueAttributeName::ApproximateNumberOfMessages
        )
        .await,
        n as u64
    );
    (queue, dlq)
}

async fn tasks(client: &Client, source: &str, max: i32) -> Vec<ListMessageMoveTasksResultEntry> {
    client
        .list_message_move_tasks()
        .source_arn(source)
        .max_results(max)
        .send()
        .await
        .unwrap()
        .results
        .unwrap_or_default()
}

/// Waits (by looking, not by the clock) until the source's latest task is no longer RUNNING.
async fn finished(client: &Client, source: &str) -> ListMessageMoveTasksResultEntry {
    loop {
        let latest = tasks(client, source, 1).await.remove(0);
        if !matches!(latest.status.as_deref(), Some("RUNNING" | "CANCELLING")) {
            return latest;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Without a DestinationArn, "the messages will be redriven back to their respective original
/// source queues", as new messages with a new message id (SQS Developer Guide, "Configure a
/// dead-letter queue redrive").
#[tokio::test]
async fn a_move_task_returns_dead_letters_to_their_source() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let (queue, dlq) = dead_letters(&client, "orders", 3).await;
    let dead_ids: Vec<_> = {
        let dead = client
            .receive_message()
            .queue_url(&dlq)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap();
        dead.into_iter().map(|m| m.message_id.unwrap()).collect()
    };
    let source = format!("{ARN}orders-dlq");
    let handle = client
        .start_message_move_task()
        .source_arn(&source)
        .send()
        .await
        .unwrap()
        .task_handle
        .unwrap();
    assert!(!handle.is_empty());
    let task = finished(&client, &source).await;
    assert_eq!(task.status.as_deref(), Some("COMPLETED"));
    assert_eq!(task.approximate_number_of_messages_moved, 3);
    assert_eq!(task.approximate_number_of_messages_to_move, Some(3));
    assert_eq!(task.source_arn.as_deref(), Some(source.as_str()));
    assert_eq!(task.destination_arn, None, "none was given");
    assert_eq!(
        task.task_handle, None,
        "only a RUNNING task shows its handle"
    );
    assert_eq!(
        count(
            &client,
            &dlq,
            QueueAttributeName::ApproximateNumberOfMessages
        )
        .await,
        0
    );
    let back = receive(&client, &queue, 10).await;
    let mut bodies: Vec<_> = back.iter().map(|m| m.body.clone().unwrap()).collect();
    bodies.sort();
    assert_eq!(bodies, ["m0", "m1", "m2"]);
    for m in &back {
        assert!(
            !dead_ids.contains(m.message_id.as_ref().unwrap()),
            "a new message id"
        );
    }
}

/// A DestinationArn sends every message there; requests SQS refuses are refused the same way:
/// a missing queue is ResourceNotFoundException, a queue that is no DLQ and a second active
/// task are InvalidParameterValue (SQS API Reference, StartMessageMoveTask: "Only one active
/// message movement task is supported per queue at any given time").
#[tokio::test]
async fn move_tasks_check_their_queues() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let (_queue, _dlq) = dead_letters(&client, "pay", 2).await;
    let elsewhere = create(&client, "elsewhere", &[]).await;
    let start = |source: String, destination: Option<String>| {
        client
            .start_message_move_task()
            .source_arn(source)
            .set_destination_arn(destination)
            .send()
    };
    let missing = start(format!("{ARN}nope"), None).await.unwrap_err();
    assert!(
        missing
            .into_service_error()
            .is_resource_not_found_exception()
    );
    let not_dlq = start(format!("{ARN}elsewhere"), None).await.unwrap_err();
    assert_eq!(
        not_dlq.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
    let no_destination = start(format!("{ARN}pay-dlq"), Some(format!("{ARN}nope")))
        .await
        .unwrap_err();
    assert!(
        no_destination
            .into_service_error()
            .is_resource_not_found_exception()
    );

    start(format!("{ARN}pay-dlq"), Some(format!("{ARN}elsewhere")))
        .await
        .unwrap();
    let task = finished(&client, &format!("{ARN}pay-dlq")).await;
    assert_eq!(task.status.as_deref(), Some("COMPLETED"));
    assert_eq!(task.destination_arn, Some(format!("{ARN}elsewhere")));
    assert_eq!(receive(&client, &elsewhere, 10).await.len(), 2);
}

/// CancelMessageMoveTask stops a RUNNING task before the messages it has not moved; a task
/// moving one message a second (`MaxNumberOfMessagesPerSecond`) is still running when the
/// cancel arrives, and the source keeps the rest. A second start while it runs is refused.
#[tokio::test]
async fn a_cancelled_task_stops_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let (_queue, dlq) = dead_letters(&client, "slow", 10).await;
    let source = format!("{ARN}slow-dlq");
    let handle = client
        .start_message_move_task()
        .source_arn(&source)
        .max_number_of_messages_per_second(1)
        .send()
        .await
        .unwrap()
        .task_handle
        .unwrap();
    let running = tasks(&client, &source, 10).await;
    assert_eq!(running[0].status.as_deref(), Some("RUNNING"));
    assert_eq!(running[0].task_handle.as_deref(), Some(handle.as_str()));
    assert_eq!(running[0].max_number_of_messages_per_second, Some(1));
    let second = client
        .start_message_move_task()
        .source_arn(&source)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        second.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
    let cancelled = client
        .cancel_message_move_task()
        .task_handle(&handle)
        .send()
        .await
        .unwrap();
    assert!(cancelled.approximate_number_of_messages_moved < 10);
    let task = finished(&client, &source).await;
    assert_eq!(task.status.as_deref(), Some("CANCELLED"));
    let left = count(
        &client,
        &dlq,
        QueueAttributeName::ApproximateNumberOfMessages,
    )
    .await;
    assert_eq!(left, 10 - task.approximate_number_of_messages_moved as u64);
    assert!(left > 0);
    // Only a RUNNING task can be cancelled.
    let again = client
        .cancel_message_move_task()
        .task_handle(&handle)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        again.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
}

/// A message sent to the DLQ directly has no source queue to return to. What SQS does then is
/// not documented; locally the task fails and says why (`FailureReason`, "only included if the
/// task status is FAILED", ListMessageMoveTasksResultEntry), and the message stays.
#[tokio::test]
async fn a_task_without_destination_fails_on_a_message_with_no_source() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let (_queue, dlq) = dead_letters(&client, "direct", 0).await;
    client
        .send_message()
        .queue_url(&dlq)
        .message_body("sent here")
        .send()
        .await
        .unwrap();
    let source = format!("{ARN}direct-dlq");
    client
        .start_message_move_task()
        .source_arn(&source)
        .send()
        .await
        .unwrap();
    let task = finished(&client, &source).await;
    assert_eq!(task.status.as_deref(), Some("FAILED"));
    assert!(
        task.failure_reason
            .unwrap()
            .contains("give a DestinationArn"),
        "the reason names the fix"
    );
    assert_eq!(
        count(
            &client,
            &dlq,
            QueueAttributeName::ApproximateNumberOfMessages
        )
        .await,
        1
    );
}

/// A task cannot outlive the endpoint that steps it: after a restart it is FAILED, says why,
/// and no longer counts as the queue's active task.
#[tokio::test]
async fn a_task_interrupted_by_a_restart_is_failed() {
    let dir = tempfile::tempdir().unwrap();
    let (server, client) = start(dir.path()).await;
    dead_letters(&client, "restarted", 5).await;
    let source = format!("{ARN}restarted-dlq");
    client
        .start_message_move_task()
        .source_arn(&source)
        .max_number_of_messages_per_second(1)
        .send()
        .await
        .unwrap();
    server.shutdown().await;
    let (_server, client) = start(dir.path()).await;
    let task = tasks(&client, &source, 1).await.remove(0);
    assert_eq!(task.status.as_deref(), Some("FAILED"));
    assert!(
        task.failure_reason
            .unwrap()
            .contains("stopped while the task was running")
    );
    client
        .start_message_move_task()
        .source_arn(&source)
        .send()
        .await
        .unwrap();
    assert_eq!(
        finished(&client, &source).await.status.as_deref(),
        Some("COMPLETED")
    );
}
