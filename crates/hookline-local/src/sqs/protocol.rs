//! The SQS JSON protocol (`application/x-amz-json-1.0`, `X-Amz-Target: AmazonSQS.<Action>`):
//! request shapes in, response shapes out.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::SqsError;
use super::message::{AttributeValue, NewMessage, Received, Sent};
use super::queue_attributes;
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

/// The queue name from a queue URL (`http://host/<account>/<name>`).
fn queue_name(url: &str) -> Result<String, SqsError> {
    let name = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if name.is_empty() || url.split('/').count() < 2 {
        return Err(SqsError::no_queue());
    }
    Ok(name.to_owned())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireAttribute {
    data_type: String,
    #[serde(default)]
    string_value: Option<String>,
    #[serde(default)]
    binary_value: Option<String>,
}

fn attributes_in(
    wire: BTreeMap<String, WireAttribute>,
) -> Result<BTreeMap<String, AttributeValue>, SqsError> {
    wire.into_iter()
        .map(|(name, w)| {
            let binary_value = w
                .binary_value
                .map(|b| {
                    base64::engine::general_purpose::STANDARD
                        .decode(b)
                        .map_err(|_| {
                            SqsError::invalid(format!(
                                "The binary value of message attribute '{name}' is not base64."
                            ))
                        })
                })
                .transpose()?;
            Ok((
                name,
                AttributeValue {
                    data_type: w.data_type,
                    string_value: w.string_value,
                    binary_value,
                },
            ))
        })
        .collect()
}

fn attributes_out<'a>(
    attributes: impl IntoIterator<Item = (&'a String, &'a AttributeValue)>,
) -> Map<String, Value> {
    attributes
        .into_iter()
        .map(|(name, value)| {
            let mut out = Map::new();
            out.insert("DataType".into(), value.data_type.clone().into());
            if let Some(s) = &value.string_value {
                out.insert("StringValue".into(), s.clone().into());
            }
            if let Some(b) = &value.binary_value {
                out.insert(
                    "BinaryValue".into(),
                    base64::engine::general_purpose::STANDARD.encode(b).into(),
                );
            }
            (name.clone(), Value::Object(out))
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendEntry {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    message_body: Option<String>,
    #[serde(default)]
    delay_seconds: Option<u32>,
    #[serde(default)]
    message_attributes: BTreeMap<String, WireAttribute>,
    #[serde(default)]
    message_deduplication_id: Option<String>,
    #[serde(default)]
    message_group_id: Option<String>,
}

impl SendEntry {
    fn into_message(self) -> Result<NewMessage, SqsError> {
        Ok(NewMessage {
            body: self
                .message_body
                .ok_or_else(|| SqsError::missing("MessageBody"))?,
            attributes: attributes_in(self.message_attributes)?,
            delay_secs: self.delay_seconds,
            group_id: self.message_group_id,
            dedup_id: self.message_deduplication_id,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct QueueRequest {
    #[serde(default)]
    queue_url: Option<String>,
    #[serde(default)]
    queue_name: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    #[serde(default)]
    attribute_names: Vec<String>,
    #[serde(default)]
    queue_name_prefix: Option<String>,
}

impl QueueRequest {
    fn name(&self) -> Result<String, SqsError> {
        queue_name(
            self.queue_url
                .as_deref()
                .ok_or_else(|| SqsError::missing("QueueUrl"))?,
        )
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReceiveRequest {
    queue_url: Option<String>,
    #[serde(default)]
    attribute_names: Vec<String>,
    #[serde(default)]
    message_system_attribute_names: Vec<String>,
    #[serde(default)]
    message_attribute_names: Vec<String>,
    #[serde(default)]
    max_number_of_messages: Option<u32>,
    #[serde(default)]
    visibility_timeout: Option<u32>,
    #[serde(default)]
    wait_time_seconds: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HandleEntry {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    receipt_handle: Option<String>,
    #[serde(default)]
    visibility_timeout: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HandleRequest {
    queue_url: Option<String>,
    #[serde(default)]
    receipt_handle: Option<String>,
    #[serde(default)]
    visibility_timeout: Option<u32>,
    #[serde(default)]
    entries: Option<Vec<HandleEntry>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendBatchRequest {
    queue_url: Option<String>,
    #[serde(default)]
    entries: Vec<SendEntry>,
}

fn url_name(url: &Option<String>) -> Result<String, SqsError> {
    queue_name(
        url.as_deref()
            .ok_or_else(|| SqsError::missing("QueueUrl"))?,
    )
}

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

fn failed_entry(id: &str, err: &SqsError) -> Value {
    json!({ "Id": id, "SenderFault": err.sender_fault, "Code": err.code, "Message": err.message })
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
                .call(move |s| s.create_queue(&name, &request.attributes, now))
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
                        .map(|n| s.url(n))
                        .collect::<Vec<_>>())
                })
                .await?;
            Ok(json!({ "QueueUrls": urls }))
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
        "GetQueueAttributes" => get_queue_attributes(store, parse(body)?, now).await,
        "SendMessage" => {
            let request: SendBatchRequestSingle = parse(body)?;
            let name = url_name(&request.queue_url)?;
            let message = request.entry.into_message()?;
            let sent = store.call(move |s| s.send(&name, message, now)).await?;
            Ok(sent_json(sent))
        }
        "SendMessageBatch" => send_batch(store, parse(body)?, now).await,
        "ReceiveMessage" => receive(store, parse(body)?).await,
        "DeleteMessage" => {
            let request: HandleRequest = parse(body)?;
            let name = url_name(&request.queue_url)?;
            let receipt = request
                .receipt_handle
                .ok_or_else(|| SqsError::missing("ReceiptHandle"))?;
            store.call(move |s| s.delete(&name, &receipt)).await?;
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
            handle_batch(store, action, parse(body)?, now).await
        }
        other => Err(SqsError::unknown_operation(other)),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendBatchRequestSingle {
    queue_url: Option<String>,
    #[serde(flatten)]
    entry: SendEntry,
}

async fn get_queue_attributes(
    store: &StoreHandle,
    request: QueueRequest,
    now: i64,
) -> Result<Value, SqsError> {
    let name = request.name()?;
    let (attributes, counts, (created, modified)) = store
        .call(move |s| {
            Ok((
                s.queue(&name)?,
                s.counts(&name, now)?,
                s.queue_times(&name)?,
            ))
        })
        .await?;
    let mut all = attributes.reported();
    all.insert(
        "ApproximateNumberOfMessages".into(),
        counts.visible.to_string(),
    );
    all.insert(
        "ApproximateNumberOfMessagesNotVisible".into(),
        counts.in_flight.to_string(),
    );
    all.insert(
        "ApproximateNumberOfMessagesDelayed".into(),
        counts.delayed.to_string(),
    );
    all.insert("CreatedTimestamp".into(), (created / 1000).to_string());
    all.insert(
        "LastModifiedTimestamp".into(),
        (modified / 1000).to_string(),
    );
    let wanted = request.attribute_names;
    let selected: BTreeMap<String, String> = if wanted.iter().any(|n| n == "All") {
        all
    } else {
        let mut out = BTreeMap::new();
        for name in wanted {
            match all.get(&name) {
                Some(value) => {
                    out.insert(name, value.clone());
                }
                None if queue_attributes::may_be_unset(&name) => {}
                None => return Err(SqsError::invalid_attribute(&name)),
            }
        }
        out
    };
    Ok(json!({ "Attributes": selected }))
}

async fn send_batch(
    store: &StoreHandle,
    request: SendBatchRequest,
    now: i64,
) -> Result<Value, SqsError> {
    let name = url_name(&request.queue_url)?;
    check_batch(request.entries.iter().map(|e| e.id.as_deref()))?;
    let total: usize = request
        .entries
        .iter()
        .map(|e| e.message_body.as_ref().map_or(0, String::len))
        .sum();
    if total > 1_048_576 {
        return Err(SqsError::batch(
            "BatchRequestTooLong",
            format!(
                "Batch requests cannot be longer than 1048576 bytes. You have sent {total} bytes."
            ),
        ));
    }
    let entries: Vec<(String, Result<NewMessage, SqsError>)> = request
        .entries
        .into_iter()
        .map(|e| (e.id.clone().unwrap_or_default(), e.into_message()))
        .collect();
    let results = store
        .call(move |s| {
            s.queue(&name)?;
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

async fn handle_batch(
    store: &StoreHandle,
    action: &str,
    request: HandleRequest,
    now: i64,
) -> Result<Value, SqsError> {
    let name = url_name(&request.queue_url)?;
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
                        (Some(receipt), _) if delete => s.savepoint(|s| s.delete(&name, &receipt)),
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

/// A batch answer: each entry's success (its id merged into `ok`'s fields) or failure.
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
    json!({ "Successful": successful, "Failed": failed })
}

/// The fields SendMessage answers, also those of each SendMessageBatch success.
fn sent_json(sent: Sent) -> Value {
    let mut out = json!({ "MessageId": sent.message_id, "MD5OfMessageBody": sent.md5_body });
    if let Some(md5) = sent.md5_attributes {
        out["MD5OfMessageAttributes"] = md5.into();
    }
    if let Some(seq) = sent.sequence_number {
        out["SequenceNumber"] = seq.into();
    }
    out
}

fn wanted(names: &[String], name: &str) -> bool {
    names.iter().any(|n| {
        n == "All"
            || n == ".*"
            || n == name
            || n.strip_suffix(".*")
                .is_some_and(|prefix| name.starts_with(&format!("{prefix}.")))
    })
}

fn message_out(m: Received, request: &ReceiveRequest) -> Value {
    let system_names: Vec<String> = request
        .attribute_names
        .iter()
        .chain(&request.message_system_attribute_names)
        .cloned()
        .collect();
    let system: BTreeMap<&String, &String> = m
        .system
        .iter()
        .filter(|(k, _)| wanted(&system_names, k))
        .collect();
    let mut out = json!({
        "MessageId": m.message_id,
        "ReceiptHandle": m.receipt_handle,
        "MD5OfBody": super::md5::of_body(&m.body),
        "Body": m.body,
    });
    if !system.is_empty() {
        out["Attributes"] = json!(system);
    }
    let selected: Vec<(&String, &AttributeValue)> = m
        .attributes
        .iter()
        .filter(|(k, _)| wanted(&request.message_attribute_names, k))
        .collect();
    if let Some(md5) = super::md5::of_attributes(selected.iter().copied()) {
        out["MD5OfMessageAttributes"] = md5.into();
        out["MessageAttributes"] = Value::Object(attributes_out(selected));
    }
    out
}

async fn receive(store: &StoreHandle, request: ReceiveRequest) -> Result<Value, SqsError> {
    let name = url_name(&request.queue_url)?;
    let max = request.max_number_of_messages.unwrap_or(1);
    if !(1..=10).contains(&max) {
        return Err(SqsError::invalid(format!(
            "Value {max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
        )));
    }
    if let Some(wait) = request.wait_time_seconds
        && wait > 20
    {
        return Err(SqsError::invalid(format!(
            "Value {wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."
        )));
    }
    if let Some(visibility) = request.visibility_timeout
        && visibility > 43_200
    {
        return Err(SqsError::invalid(format!(
            "Value {visibility} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided."
        )));
    }
    let lookup = name.clone();
    let default_wait = store
        .call(move |s| Ok(s.queue(&lookup)?.receive_wait_secs()))
        .await?;
    let wait = Duration::from_secs(u64::from(request.wait_time_seconds.unwrap_or(default_wait)));
    let deadline = tokio::time::Instant::now() + wait;
    let visibility = request.visibility_timeout;
    loop {
        // Registered before looking, so a send that commits meanwhile still wakes us.
        let changed = store.changed().notified();
        let queue = name.clone();
        let messages = store
            .call(move |s| s.receive(&queue, max, visibility, now_ms()))
            .await?;
        if !messages.is_empty() || tokio::time::Instant::now() >= deadline {
            let out: Vec<Value> = messages
                .into_iter()
                .map(|m| message_out(m, &request))
                .collect();
            return Ok(json!({ "Messages": out }));
        }
        // Also wake periodically: a message becoming visible again commits nothing.
        let nap = deadline
            .saturating_duration_since(tokio::time::Instant::now())
            .min(Duration::from_millis(100));
        let _ = tokio::time::timeout(nap, changed).await;
    }
}
