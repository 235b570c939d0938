//! ReceiveMessage: long polling and the shape of each message.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::wire::{ReceiveRequest, attributes_out, put_list};
use crate::sqs::SqsError;
use crate::sqs::message::{AttributeValue, Received};
use crate::sqs::writer::StoreHandle;

/// Whether ReceiveMessage's `MessageAttributeNames` ask for the message attribute `name`: "All"
/// or ".*" for all of them, or "all message attributes starting with a prefix, for example
/// bar.*" (SQS API Reference, ReceiveMessage). The prefix is what comes before `.*`, with no
/// dot required after it, and `*` also means all: so SQS answers (LocalStack's AWS-validated
/// snapshot test `test_receive_message_message_attribute_names_filters`: `Hel.*` returns
/// `Hello` and `Help.Me`).
fn wanted_attribute(names: &[String], name: &str) -> bool {
    names.iter().any(|n| {
        matches!(n.as_str(), "All" | ".*" | "*")
            || n == name
            || n.strip_suffix(".*")
                .is_some_and(|prefix| name.starts_with(prefix))
    })
}

/// Whether `AttributeNames`/`MessageSystemAttributeNames` ask for the system attribute `name`:
/// "All", or its name.
fn wanted_system(names: &[String], name: &str) -> bool {
    names.iter().any(|n| n == "All" || n == name)
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
        .filter(|(k, _)| wanted_system(&system_names, k))
        .collect();
    let mut out = json!({
        "MessageId": m.message_id,
        "ReceiptHandle": m.receipt_handle,
        "MD5OfBody": crate::sqs::md5::of_body(&m.body),
        "Body": m.body,
    });
    if !system.is_empty() {
        out["Attributes"] = json!(system);
    }
    let selected: Vec<(&String, &AttributeValue)> = m
        .attributes
        .iter()
        .filter(|(k, _)| wanted_attribute(&request.message_attribute_names, k))
        .collect();
    if let Some(md5) = crate::sqs::md5::of_attributes(selected.iter().copied()) {
        out["MD5OfMessageAttributes"] = md5.into();
        out["MessageAttributes"] = Value::Object(attributes_out(selected));
    }
    out
}

pub(super) async fn receive(
    store: &StoreHandle,
    request: ReceiveRequest,
) -> Result<Value, SqsError> {
    let name = super::url_name(&request.queue_url)?;
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
        // An empty receive costs no write transaction: a read first (the store's `may_receive`).
        let messages = match store.may_receive(&queue).await {
            true => {
                store
                    .call(move |s| s.receive(&queue, max, visibility, super::now_ms()))
                    .await?
            }
            false => Vec::new(),
        };
        if !messages.is_empty() || tokio::time::Instant::now() >= deadline {
            let out: Vec<Value> = messages
                .into_iter()
                .map(|m| message_out(m, &request))
                .collect();
            let mut answer = json!({});
            put_list(&mut answer, "Messages", out);
            return Ok(answer);
        }
        // Also wake periodically: a message becoming visible again commits nothing.
        let nap = deadline
            .saturating_duration_since(tokio::time::Instant::now())
            .min(Duration::from_millis(100));
        let _ = tokio::time::timeout(nap, changed).await;
    }
}
