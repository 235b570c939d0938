//! Queue actions beyond create/delete: attributes, tags, dead-letter sources.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::wire::QueueRequest;
use crate::sqs::SqsError;
use crate::sqs::queue_attributes;
use crate::sqs::writer::StoreHandle;

pub(super) async fn get_queue_attributes(
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
    let mut answer = json!({});
    if !selected.is_empty() {
        answer["Attributes"] = json!(selected);
    }
    Ok(answer)
}

/// ListQueueTags: `Tags` left out when there are none.
pub(super) async fn list_tags(
    store: &StoreHandle,
    request: QueueRequest,
) -> Result<Value, SqsError> {
    let name = request.name()?;
    let tags = store.call(move |s| s.tags(&name)).await?;
    let mut answer = json!({});
    if !tags.is_empty() {
        answer["Tags"] = json!(tags);
    }
    Ok(answer)
}

/// TagQueue and UntagQueue.
pub(super) async fn retag(
    store: &StoreHandle,
    action: &str,
    request: QueueRequest,
) -> Result<Value, SqsError> {
    let name = request.name()?;
    let (add, remove) = if action == "TagQueue" {
        if request.tags.is_empty() {
            return Err(SqsError::missing("Tags"));
        }
        (request.tags, Vec::new())
    } else {
        if request.tag_keys.is_empty() {
            return Err(SqsError::missing("TagKeys"));
        }
        (BTreeMap::new(), request.tag_keys)
    };
    store.call(move |s| s.retag(&name, &add, &remove)).await?;
    Ok(json!({}))
}

/// ListDeadLetterSourceQueues: the URLs of the queues whose redrive policy names this one
/// (SQS API Reference, ListDeadLetterSourceQueues; `queueUrls` is its one list, in lower case).
pub(super) async fn dead_letter_sources(
    store: &StoreHandle,
    request: QueueRequest,
) -> Result<Value, SqsError> {
    let name = request.name()?;
    let urls = store
        .call(move |s| {
            Ok(s.dead_letter_sources(&name)?
                .iter()
                .map(|n| Value::String(s.url(n)))
                .collect::<Vec<_>>())
        })
        .await?;
    // `queueUrls` is required in the response shape, so it is there even when empty.
    Ok(json!({ "queueUrls": urls }))
}
