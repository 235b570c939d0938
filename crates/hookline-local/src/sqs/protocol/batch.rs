//! The batch actions: SendMessageBatch, DeleteMessageBatch, ChangeMessageVisibilityBatch.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::wire::{HandleRequest, SendBatchRequest, put_list, sent_json};
use crate::sqs::SqsError;
use crate::sqs::message::NewMessage;
use crate::sqs::writer::StoreHandle;

/// "The maximum allowed individual message size and the maximum total payload size (the sum of
/// the individual lengths of all of the batched messages) are both 1 MiB" (SQS API Reference,
/// SendMessageBatch).
const MAX_BATCH_BYTES: usize = 1_048_576;

/// Checks a batch's entry ids: 1–10 entries, distinct, `[A-Za-z0-9_-]{1,80}`.
fn check_batch<'a>(ids: impl Iterator<Item = Option<&'a str>>) -> Result<(), SqsError> {
    let ids: Vec<Option<&str>> = ids.collect();
    if ids.is_empty() {
        return Err(SqsError::batch(
            "EmptyBatchRequest",
            "There should be at least one entry in the request.",
        ));
    }
    if ids.len() > 10 {
        return Err(SqsError::batch(
            "TooManyEntriesInBatchRequest",
            format!(
                "Maximum number of entries per request are 10. You have sent {}.",
                ids.len()
            ),
        ));
    }
    let mut seen = HashSet::new();
    for id in ids {
        let id = id.ok_or_else(|| SqsError::missing("Id"))?;
        if id.is_empty()
            || id.len() > 80
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(SqsError::batch(
                "InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
            ));
        }
        if !seen.insert(id) {
            return Err(SqsError::batch(
                "BatchEntryIdsNotDistinct",
                format!("Id {id} repeated."),
            ));
        }
    }
    Ok(())
}

/// A failed entry names its error by its query code (`InvalidParameterValue`): which name SQS
/// puts in an entry's `Code` since the JSON protocol is not documented, and the query codes are
/// what entries carried before it.
fn failed_entry(id: &str, err: &SqsError) -> Value {
    json!({ "Id": id, "SenderFault": err.sender_fault, "Code": err.query_code, "Message": err.message })
}

/// SendMessageBatch. The total counts each message as SQS sizes it (body and attributes). On a
/// FIFO queue every entry's group, deduplication id and delay are checked before any is sent,
/// and one bad entry fails the whole request rather than only its entry, as SQS does
/// (observed; the API Reference does not say).
pub(super) async fn send_batch(
    store: &StoreHandle,
    request: SendBatchRequest,
    now: i64,
) -> Result<Value, SqsError> {
    let name = super::url_name(&request.queue_url)?;
    check_batch(request.entries.iter().map(|e| e.id.as_deref()))?;
    let entries: Vec<(String, Result<NewMessage, SqsError>)> = request
        .entries
        .into_iter()
        .map(|e| (e.id.clone().unwrap_or_default(), e.into_message()))
        .collect();
    let total: usize = entries
        .iter()
        .map(|(_, m)| m.as_ref().map_or(0, crate::sqs::validate::size))
        .sum();
    if total > MAX_BATCH_BYTES {
        return Err(SqsError::batch(
            "BatchRequestTooLong",
            format!(
                "Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent {total} bytes."
            ),
        ));
    }
    let results = store
        .call(move |s| {
            let queue = s.queue(&name)?;
            if queue.fifo() {
                for (_, message) in &entries {
                    let message = message.as_ref().map_err(Clone::clone)?;
                    // An entry without its group fails the batch as an invalid value, with the
                    // missing parameter's message: SQS's answer in LocalStack's AWS-recorded
                    // `test_send_batch_missing_message_group_id_for_fifo_queue` (a single send
                    // gets `MissingParameter`).
                    crate::sqs::store::fifo_fields(&queue, message).map_err(|err| {
                        match err.query_code {
                            "MissingParameter" => SqsError::invalid(err.message),
                            _ => err,
                        }
                    })?;
                }
            }
            Ok(entries
                .into_iter()
                .map(|(id, message)| {
                    let sent = message.and_then(|m| s.savepoint(|s| s.send(&name, m, now)));
                    (id, sent)
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(batch_answer(results, sent_json))
}

/// DeleteMessageBatch and ChangeMessageVisibilityBatch.
pub(super) async fn handle_batch(
    store: &StoreHandle,
    action: &str,
    request: HandleRequest,
    now: i64,
) -> Result<Value, SqsError> {
    let name = super::url_name(&request.queue_url)?;
    let entries = request.entries.unwrap_or_default();
    check_batch(entries.iter().map(|e| e.id.as_deref()))?;
    let delete = action == "DeleteMessageBatch";
    let results = store
        .call(move |s| {
            s.queue(&name)?;
            Ok(entries
                .into_iter()
                .map(|e| {
                    let id = e.id.unwrap_or_default();
                    let result = match (e.receipt_handle, e.visibility_timeout) {
                        (None, _) => Err(SqsError::missing("ReceiptHandle")),
                        (Some(receipt), _) if delete => {
                            s.savepoint(|s| s.delete(&name, &receipt, now))
                        }
                        (Some(_), None) => Err(SqsError::missing("VisibilityTimeout")),
                        (Some(receipt), Some(secs)) => {
                            s.savepoint(|s| s.change_visibility(&name, &receipt, secs, now))
                        }
                    };
                    (id, result)
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(batch_answer(results, |()| json!({})))
}

/// A batch answer: each entry's success (its id merged into `ok`'s fields) or failure. An empty
/// list is left out, as SQS leaves it out although its model calls both required: no `Failed`
/// when all succeed (observed: async-aws issue 1620), no `Successful` when all fail (observed:
/// opentelemetry-python-contrib issue 4744; aws/aws-sdk issue 536 acknowledges the model).
fn batch_answer<T>(results: Vec<(String, Result<T, SqsError>)>, ok: impl Fn(T) -> Value) -> Value {
    let mut successful = Vec::new();
    let mut failed = Vec::new();
    for (id, result) in results {
        match result {
            Ok(value) => {
                let mut entry = ok(value);
                entry["Id"] = id.into();
                successful.push(entry);
            }
            Err(err) => failed.push(failed_entry(&id, &err)),
        }
    }
    let mut out = json!({});
    put_list(&mut out, "Successful", successful);
    put_list(&mut out, "Failed", failed);
    out
}
