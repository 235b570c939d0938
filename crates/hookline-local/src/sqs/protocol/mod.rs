//! The SQS JSON protocol (`application/x-amz-json-1.0`, `X-Amz-Target: AmazonSQS.<Action>`):
//! request shapes in, response shapes out. One module per group of actions: `wire` (shared
//! shapes), `queues`, `receive`, `batch`, `move_tasks`.

mod batch;
mod move_tasks;
mod queues;
mod receive;
mod wire;

use serde::Deserialize;
use serde_json::{Value, json};

use self::wire::{HandleRequest, QueueRequest, SendRequest, put_list, sent_json};
use super::SqsError;
use super::writer::StoreHandle;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, SqsError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        SqsError::malformed(format!(
            "The request body is not valid for this operation: {e}"
        ))
    })
}

/// The queue a `QueueUrl` names: the last path segment of a URL
/// (`http://host/<account>/<name>`), or the whole value when it is a bare queue name, which
/// SQS accepts too (observed; the API Reference only says "The URL of the Amazon SQS queue").
fn queue_name(url: &str) -> Result<String, SqsError> {
    let name = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if name.is_empty() {
        return Err(SqsError::no_queue());
    }
    Ok(name.to_owned())
}

fn url_name(url: &Option<String>) -> Result<String, SqsError> {
    queue_name(
        url.as_deref()
            .ok_or_else(|| SqsError::missing("QueueUrl"))?,
    )
}

/// Runs one action.
pub async fn dispatch(store: &StoreHandle, action: &str, body: &[u8]) -> Result<Value, SqsError> {
    let now = now_ms();
    match action {
        "CreateQueue" => {
            let request: QueueRequest = parse(body)?;
            let name = request
                .queue_name
                .ok_or_else(|| SqsError::missing("QueueName"))?;
            let url = store
                .call(move |s| {
                    s.create_queue(&name, &request.attributes, &request.create_tags, now)
                })
                .await?;
            Ok(json!({ "QueueUrl": url }))
        }
        "GetQueueUrl" => {
            let request: QueueRequest = parse(body)?;
            let name = request
                .queue_name
                .ok_or_else(|| SqsError::missing("QueueName"))?;
            let url = store
                .call(move |s| s.queue(&name).map(|_| s.url(&name)))
                .await?;
            Ok(json!({ "QueueUrl": url }))
        }
        "ListQueues" => {
            let request: QueueRequest = parse(body)?;
            let prefix = request.queue_name_prefix.unwrap_or_default();
            let urls = store
                .call(move |s| {
                    Ok(s.list_queues(&prefix)?
                        .iter()
                        .map(|n| Value::String(s.url(n)))
                        .collect::<Vec<_>>())
                })
                .await?;
            let mut answer = json!({});
            put_list(&mut answer, "QueueUrls", urls);
            Ok(answer)
        }
        "DeleteQueue" => {
            let request: QueueRequest = parse(body)?;
            let name = request.name()?;
            store.call(move |s| s.delete_queue(&name)).await?;
            Ok(json!({}))
        }
        "PurgeQueue" => {
            let request: QueueRequest = parse(body)?;
            let name = request.name()?;
            store.call(move |s| s.purge(&name)).await?;
            Ok(json!({}))
        }
        "SetQueueAttributes" => {
            let request: QueueRequest = parse(body)?;
            let name = request.name()?;
            store
                .call(move |s| s.set_queue_attributes(&name, &request.attributes, now))
                .await?;
            Ok(json!({}))
        }
        "GetQueueAttributes" => queues::get_queue_attributes(store, parse(body)?, now).await,
        "ListQueueTags" => queues::list_tags(store, parse(body)?).await,
        "TagQueue" | "UntagQueue" => queues::retag(store, action, parse(body)?).await,
        "ListDeadLetterSourceQueues" => queues::dead_letter_sources(store, parse(body)?).await,
        "SendMessage" => {
            let request: SendRequest = parse(body)?;
            let name = url_name(&request.queue_url)?;
            let message = request.entry.into_message()?;
            let sent = store.call(move |s| s.send(&name, message, now)).await?;
            Ok(sent_json(sent))
        }
        "SendMessageBatch" => batch::send_batch(store, parse(body)?, now).await,
        "ReceiveMessage" => receive::receive(store, parse(body)?).await,
        "DeleteMessage" => {
            let request: HandleRequest = parse(body)?;
            let name = url_name(&request.queue_url)?;
            let receipt = request
                .receipt_handle
                .ok_or_else(|| SqsError::missing("ReceiptHandle"))?;
            store.call(move |s| s.delete(&name, &receipt, now)).await?;
            Ok(json!({}))
        }
        "ChangeMessageVisibility" => {
            let request: HandleRequest = parse(body)?;
            let name = url_name(&request.queue_url)?;
            let receipt = request
                .receipt_handle
                .ok_or_else(|| SqsError::missing("ReceiptHandle"))?;
            let secs = request
                .visibility_timeout
                .ok_or_else(|| SqsError::missing("VisibilityTimeout"))?;
            store
                .call(move |s| s.change_visibility(&name, &receipt, secs, now))
                .await?;
            Ok(json!({}))
        }
        "DeleteMessageBatch" | "ChangeMessageVisibilityBatch" => {
            batch::handle_batch(store, action, parse(body)?, now).await
        }
        "StartMessageMoveTask" => move_tasks::start(store, parse(body)?).await,
        "ListMessageMoveTasks" => move_tasks::list(store, parse(body)?).await,
        "CancelMessageMoveTask" => move_tasks::cancel(store, parse(body)?).await,
        other => Err(SqsError::unknown_operation(other)),
    }
}
