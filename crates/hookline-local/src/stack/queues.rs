//! A provider's queue and dead-letter queue, made (or brought up to date with the manifest) at
//! start.

use std::collections::BTreeMap;

use hookline_manifest::{Provider, QueueKind};

use super::StackError;

/// Makes the queue and DLQ of `provider`, or applies the manifest's settings to them; their URLs.
pub(super) async fn setup_queues(
    store: &crate::sqs::StoreHandle,
    provider: &Provider,
    queue: &str,
    dlq: &str,
) -> Result<(String, String), StackError> {
    let fifo = provider.queue.kind == QueueKind::Fifo;
    let mut dlq_attributes = BTreeMap::from([(
        "MessageRetentionPeriod".to_owned(),
        hookline_manifest::limits::DLQ_RETENTION_SECS.to_string(),
    )]);
    let mut attributes = BTreeMap::from([
        (
            "VisibilityTimeout".to_owned(),
            provider.queue.visibility_timeout_secs.to_string(),
        ),
        (
            "MessageRetentionPeriod".to_owned(),
            provider.queue.retention_secs.to_string(),
        ),
        (
            "RedrivePolicy".to_owned(),
            serde_json::json!({
                "deadLetterTargetArn": crate::aws_local::sqs_queue_arn(dlq),
                "maxReceiveCount": provider.queue.max_receive_count,
            })
            .to_string(),
        ),
    ]);
    if fifo {
        dlq_attributes.insert("FifoQueue".into(), "true".into());
        attributes.insert("FifoQueue".into(), "true".into());
    }
    let mut urls = Vec::new();
    for (name, attributes) in [
        (dlq.to_owned(), dlq_attributes),
        (queue.to_owned(), attributes),
    ] {
        let now = chrono::Utc::now().timestamp_millis();
        let lookup = name.clone();
        let url = store
            .call(
                move |s| match s.create_queue(&lookup, &attributes, &BTreeMap::new(), now) {
                    Ok(url) => Ok(url),
                    // The manifest changed since the queue was made: apply the new settings.
                    Err(e) if e.code == "QueueNameExists" => {
                        let mut changes = attributes.clone();
                        changes.remove("FifoQueue");
                        s.set_queue_attributes(&lookup, &changes, now)
                            .map(|()| s.url(&lookup))
                    }
                    Err(e) => Err(e),
                },
            )
            .await
            .map_err(|e| StackError::Queue {
                queue: name.clone(),
                message: e.to_string(),
            })?;
        urls.push(url);
    }
    Ok((urls[1].clone(), urls[0].clone()))
}
