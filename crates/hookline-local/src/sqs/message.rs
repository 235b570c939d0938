//! The messages SQS stores and hands back: plain data, shared by the validation, the digests,
//! the store and the protocol.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The one message system attribute a sender may set (SQS API Reference, SendMessage,
/// `MessageSystemAttributes`): the X-Ray trace header, returned on receive under the same name.
pub const TRACE_HEADER: &str = "AWSTraceHeader";

/// The system attribute naming the queue a dead-letter message came from (SQS API Reference,
/// ReceiveMessage, `MessageSystemAttributeNames`).
pub const DLQ_SOURCE_ARN: &str = "DeadLetterQueueSourceArn";

/// A message attribute value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeValue {
    /// `String`, `Number`, `Binary`, optionally with a `.custom` suffix.
    pub data_type: String,
    /// For `String` and `Number`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    /// For `Binary`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<Vec<u8>>,
}

/// A message to send.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    /// The body.
    pub body: String,
    /// Message attributes.
    pub attributes: BTreeMap<String, AttributeValue>,
    /// Per-message delay (standard queues).
    pub delay_secs: Option<u32>,
    /// FIFO message group.
    pub group_id: Option<String>,
    /// FIFO deduplication id.
    pub dedup_id: Option<String>,
    /// The `AWSTraceHeader` message system attribute.
    pub trace_header: Option<String>,
}

/// What a send returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Message id.
    pub message_id: String,
    /// MD5 of the body.
    pub md5_body: String,
    /// MD5 of the attributes, if any.
    pub md5_attributes: Option<String>,
    /// MD5 of the message system attributes, if any.
    pub md5_system_attributes: Option<String>,
    /// FIFO sequence number.
    pub sequence_number: Option<String>,
}

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Message id.
    pub message_id: String,
    /// Handle for delete and visibility changes.
    pub receipt_handle: String,
    /// The body.
    pub body: String,
    /// Message attributes.
    pub attributes: BTreeMap<String, AttributeValue>,
    /// System attributes (`SentTimestamp`, `ApproximateReceiveCount`, ...).
    pub system: BTreeMap<String, String>,
}
