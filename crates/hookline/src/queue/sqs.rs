//! [`SqsQueue`]: the [`Queue`] on aws-sdk-sqs (feature `aws`).

use std::time::Duration;

use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{
    MessageAttributeValue, MessageSystemAttributeNameForSends, MessageSystemAttributeValue,
};

use super::{Queue, QueueError, QueueMessage};

/// An Amazon SQS queue (or anything that speaks its JSON protocol).
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
    fifo: bool,
}

/// Per-attempt and total time allowed for a send: providers give up after a few seconds
/// (Slack 3 s), so a slow queue must end in a 503 they will retry, not in their timeout.
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1000);
const OPERATION_TIMEOUT: Duration = Duration::from_millis(2500);

impl SqsQueue {
    /// A queue on a client from the standard AWS configuration chain (`AWS_REGION`,
    /// credentials, and `AWS_ENDPOINT_URL_SQS` to point it at another endpoint).
    pub async fn from_env(url: impl Into<String>) -> SqsQueue {
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .operation_timeout(OPERATION_TIMEOUT)
            .build();
        let config = aws_config::from_env().timeout_config(timeouts).load().await;
        SqsQueue::new(aws_sdk_sqs::Client::new(&config), url)
    }

    /// A queue on a given client. A URL ending in `.fifo` is a FIFO queue.
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> SqsQueue {
        let url = url.into();
        let fifo = url.ends_with(".fifo");
        SqsQueue { client, url, fifo }
    }

    /// The queue URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The SDK client, for receiving and deleting in tools and tests.
    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }
}

fn string_attribute(value: &str) -> Option<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .ok()
}

impl Queue for SqsQueue {
    async fn send(&self, message: QueueMessage) -> Result<String, QueueError> {
        let fifo_ids = self
            .fifo
            .then(|| (message.group_id.clone(), message.deduplication_id()));
        // The body moves into the request: `&message.body` would copy the envelope (KBs).
        let mut request = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(message.body);
        if let Some(value) = string_attribute(&message.provider) {
            request = request.message_attributes("provider", value);
        }
        if let Some(value) = message
            .event_type
            .as_deref()
            .filter(|v| !v.is_empty())
            .and_then(string_attribute)
        {
            request = request.message_attributes("event_type", value);
        }
        if let Some(trace) = message.trace_header.as_deref().and_then(|header| {
            MessageSystemAttributeValue::builder()
                .data_type("String")
                .string_value(header)
                .build()
                .ok()
        }) {
            request = request.message_system_attributes(
                MessageSystemAttributeNameForSends::AwsTraceHeader,
                trace,
            );
        }
        if let Some((group, deduplication)) = fifo_ids {
            request = request
                .message_group_id(group)
                .message_deduplication_id(deduplication);
        }
        // Boxed: the SDK's operation future is kilobytes, and every future that holds it
        // (ingest's, lambda_runtime's) would be memcpy'd that many bytes each time it moves.
        let output = Box::pin(request.send()).await.map_err(|err| {
            use aws_sdk_sqs::error::SdkError;
            match &err {
                SdkError::ServiceError(service) if service.err().is_queue_does_not_exist() => {
                    QueueError::QueueDoesNotExist
                }
                SdkError::ServiceError(_) => {
                    QueueError::Rejected(DisplayErrorContext(&err).to_string())
                }
                _ => QueueError::Unreachable(DisplayErrorContext(&err).to_string()),
            }
        })?;
        output
            .message_id
            .ok_or_else(|| QueueError::Rejected("the response carried no message id".to_owned()))
    }
}
