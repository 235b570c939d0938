//! What happens to messages, told to an observer (the local console) once it is committed: a
//! send over HTTP with the `X-Amzn-Trace-Id` of the invocation that made it (the AWS SDK sends
//! the Lambda invocation's trace header with every call, its recursion detection), and every
//! move, to a dead-letter queue or back. Observing costs the queue nothing: events are plain
//! data handed over after the commit, and the observer must not block.

use std::sync::{Arc, RwLock};

use serde::Deserialize;
use serde_json::Value;

/// Why a message moved to another queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveReason {
    /// Received `maxReceiveCount` times: moved to the dead-letter queue, with the same id.
    DeadLetter,
    /// Redriven out of a dead-letter queue, as a new message with a new id.
    Redrive,
}

/// One thing that happened to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueEvent {
    /// A message was sent over the endpoint.
    Sent {
        /// The queue's name.
        queue: String,
        /// Its id.
        message_id: String,
        /// Its body.
        body: String,
        /// The request's `X-Amzn-Trace-Id`.
        trace_id: Option<String>,
    },
    /// A message left its queue for another.
    Moved {
        /// The queue it left.
        from: String,
        /// The queue it went to.
        to: String,
        /// Its id in `from`.
        message_id: String,
        /// Its id in `to` (a redriven message is a new message).
        new_message_id: String,
        /// Why.
        reason: MoveReason,
    },
    /// A message was deleted by id (the console's delete; consumers delete by receipt handle,
    /// which a processed message's attempt already tells).
    Removed {
        /// The queue.
        queue: String,
        /// Its id.
        message_id: String,
    },
}

/// Told about committed changes; called on the storage thread or a request's task, so it must
/// return at once (hand the events to a channel).
pub type Observer = Arc<dyn Fn(Vec<QueueEvent>) + Send + Sync>;

/// The observer slot a store handle and its thread share.
#[derive(Clone, Default)]
pub(crate) struct ObserverSlot(Arc<RwLock<Option<Observer>>>);

impl ObserverSlot {
    pub(crate) fn set(&self, observer: Observer) {
        if let Ok(mut slot) = self.0.write() {
            *slot = Some(observer);
        }
    }

    pub(crate) fn is_set(&self) -> bool {
        self.0.read().map(|s| s.is_some()).unwrap_or(false)
    }

    pub(crate) fn tell(&self, events: Vec<QueueEvent>) {
        if events.is_empty() {
            return;
        }
        let observer = self.0.read().ok().and_then(|slot| slot.clone());
        if let Some(observer) = observer {
            observer(events);
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendShape {
    #[serde(default)]
    queue_url: Option<String>,
    #[serde(default)]
    message_body: Option<String>,
    #[serde(default)]
    entries: Vec<EntryShape>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EntryShape {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    message_body: Option<String>,
}

/// The sends a successful `SendMessage` or `SendMessageBatch` made: its request and answer
/// read again (only when someone observes).
pub(crate) fn sent(
    action: &str,
    request: &[u8],
    answer: &Value,
    trace_id: Option<&str>,
) -> Vec<QueueEvent> {
    let Ok(shape) = serde_json::from_slice::<SendShape>(request) else {
        return Vec::new();
    };
    let queue = shape
        .queue_url
        .as_deref()
        .and_then(|url| url.trim_end_matches('/').rsplit('/').next())
        .unwrap_or_default()
        .to_owned();
    let event = |message_id: &str, body: String| QueueEvent::Sent {
        queue: queue.clone(),
        message_id: message_id.to_owned(),
        body,
        trace_id: trace_id.map(str::to_owned),
    };
    match action {
        "SendMessage" => answer
            .get("MessageId")
            .and_then(Value::as_str)
            .zip(shape.message_body)
            .map(|(id, body)| vec![event(id, body)])
            .unwrap_or_default(),
        "SendMessageBatch" => {
            let successful = answer
                .get("Successful")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            shape
                .entries
                .into_iter()
                .filter_map(|entry| {
                    let id = entry.id?;
                    let sent = successful
                        .iter()
                        .find(|s| s.get("Id").and_then(Value::as_str) == Some(id.as_str()))?;
                    let message_id = sent.get("MessageId").and_then(Value::as_str)?;
                    Some(event(message_id, entry.message_body?))
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sends_are_read_from_requests_and_answers() {
        let single = sent(
            "SendMessage",
            br#"{"QueueUrl":"http://127.0.0.1:9324/000000000000/stripe","MessageBody":"b"}"#,
            &json!({ "MessageId": "m1" }),
            Some("Root=1-a-b"),
        );
        assert_eq!(
            single,
            vec![QueueEvent::Sent {
                queue: "stripe".into(),
                message_id: "m1".into(),
                body: "b".into(),
                trace_id: Some("Root=1-a-b".into()),
            }]
        );
        let batch = sent(
            "SendMessageBatch",
            br#"{"QueueUrl":"q","Entries":[{"Id":"a","MessageBody":"1"},{"Id":"b","MessageBody":"2"}]}"#,
            &json!({ "Successful": [{ "Id": "b", "MessageId": "m2" }], "Failed": [{ "Id": "a" }] }),
            None,
        );
        assert_eq!(batch.len(), 1, "only the entries that were sent");
        assert!(
            matches!(&batch[0], QueueEvent::Sent { message_id, body, .. } if message_id == "m2" && body == "2")
        );
        assert!(sent("DeleteMessage", b"{}", &json!({}), None).is_empty());
        assert!(sent("SendMessage", b"not json", &json!({}), None).is_empty());
    }
}
