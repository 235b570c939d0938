//! The JSON shapes of requests and of the parts of answers several actions share.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::sqs::SqsError;
use crate::sqs::message::{AttributeValue, NewMessage, Sent, TRACE_HEADER};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct WireAttribute {
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

/// The `AWSTraceHeader` of `MessageSystemAttributes`: "Currently, the only supported message
/// system attribute is AWSTraceHeader. Its type must be String" (SQS API Reference,
/// SendMessage).
fn trace_header_in(wire: BTreeMap<String, WireAttribute>) -> Result<Option<String>, SqsError> {
    let mut trace = None;
    for (name, value) in wire {
        if name != TRACE_HEADER {
            return Err(SqsError::invalid(format!(
                "Message system attribute name '{}' is invalid: the only one is {TRACE_HEADER}.",
                SqsError::shown(&name)
            )));
        }
        match (value.data_type.as_str(), value.string_value) {
            ("String", Some(header)) if !header.is_empty() => trace = Some(header),
            _ => {
                return Err(SqsError::invalid(format!(
                    "The message system attribute {TRACE_HEADER} must be a String with a value."
                )));
            }
        }
    }
    Ok(trace)
}

pub(super) fn attributes_out<'a>(
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
pub(super) struct SendEntry {
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) message_body: Option<String>,
    #[serde(default)]
    delay_seconds: Option<u32>,
    #[serde(default)]
    message_attributes: BTreeMap<String, WireAttribute>,
    #[serde(default)]
    message_system_attributes: BTreeMap<String, WireAttribute>,
    #[serde(default)]
    message_deduplication_id: Option<String>,
    #[serde(default)]
    message_group_id: Option<String>,
}

impl SendEntry {
    pub(super) fn into_message(self) -> Result<NewMessage, SqsError> {
        Ok(NewMessage {
            body: self
                .message_body
                .ok_or_else(|| SqsError::missing("MessageBody"))?,
            attributes: attributes_in(self.message_attributes)?,
            delay_secs: self.delay_seconds,
            group_id: self.message_group_id,
            dedup_id: self.message_deduplication_id,
            trace_header: trace_header_in(self.message_system_attributes)?,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SendRequest {
    pub(super) queue_url: Option<String>,
    #[serde(flatten)]
    pub(super) entry: SendEntry,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SendBatchRequest {
    pub(super) queue_url: Option<String>,
    #[serde(default)]
    pub(super) entries: Vec<SendEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct QueueRequest {
    #[serde(default)]
    pub(super) queue_url: Option<String>,
    #[serde(default)]
    pub(super) queue_name: Option<String>,
    #[serde(default)]
    pub(super) attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) attribute_names: Vec<String>,
    #[serde(default)]
    pub(super) queue_name_prefix: Option<String>,
    /// CreateQueue's tags: the JSON protocol names this member in lower case.
    #[serde(default, rename = "tags")]
    pub(super) create_tags: BTreeMap<String, String>,
    /// TagQueue's tags.
    #[serde(default)]
    pub(super) tags: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) tag_keys: Vec<String>,
}

impl QueueRequest {
    pub(super) fn name(&self) -> Result<String, SqsError> {
        super::url_name(&self.queue_url)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ReceiveRequest {
    pub(super) queue_url: Option<String>,
    #[serde(default)]
    pub(super) attribute_names: Vec<String>,
    #[serde(default)]
    pub(super) message_system_attribute_names: Vec<String>,
    #[serde(default)]
    pub(super) message_attribute_names: Vec<String>,
    #[serde(default)]
    pub(super) max_number_of_messages: Option<u32>,
    #[serde(default)]
    pub(super) visibility_timeout: Option<u32>,
    #[serde(default)]
    pub(super) wait_time_seconds: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct HandleEntry {
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) receipt_handle: Option<String>,
    #[serde(default)]
    pub(super) visibility_timeout: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct HandleRequest {
    pub(super) queue_url: Option<String>,
    #[serde(default)]
    pub(super) receipt_handle: Option<String>,
    #[serde(default)]
    pub(super) visibility_timeout: Option<u32>,
    #[serde(default)]
    pub(super) entries: Option<Vec<HandleEntry>>,
}

/// The fields SendMessage answers, also those of each SendMessageBatch success.
pub(super) fn sent_json(sent: Sent) -> Value {
    let mut out = json!({ "MessageId": sent.message_id, "MD5OfMessageBody": sent.md5_body });
    if let Some(md5) = sent.md5_attributes {
        out["MD5OfMessageAttributes"] = md5.into();
    }
    if let Some(md5) = sent.md5_system_attributes {
        out["MD5OfMessageSystemAttributes"] = md5.into();
    }
    if let Some(seq) = sent.sequence_number {
        out["SequenceNumber"] = seq.into();
    }
    out
}

/// Adds `list` to `out` under `key` unless it is empty: SQS leaves empty lists out of its JSON
/// answers (a ReceiveMessage that finds nothing answers `{}`, observed; the SDKs treat a
/// missing list as empty).
pub(super) fn put_list(out: &mut Value, key: &str, list: Vec<Value>) {
    if !list.is_empty() {
        out[key] = Value::Array(list);
    }
}
