//! The event Lambda invokes a processor with for a batch of SQS messages, and its size.

use aws_lambda_events::encodings::Base64Data;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use serde_json::Value;

use crate::aws_local;
use crate::sqs::message::Received;

/// The event of a batch without records, `{"Records":[]}`.
pub(super) const EMPTY_EVENT_BYTES: usize = r#"{"Records":[]}"#.len();

/// What one message adds to its batch's event (its record; one more for the comma).
pub(super) fn record_bytes(message: &Received, queue_arn: &str) -> usize {
    lambda_payload(&sqs_event(std::slice::from_ref(message), queue_arn))
        .map_or(0, |event| event.len().saturating_sub(EMPTY_EVENT_BYTES))
}

/// The event Lambda invokes a processor with for `batch`, received from the queue `queue_arn`.
pub(super) fn sqs_event(batch: &[Received], queue_arn: &str) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = batch
        .iter()
        .map(|received| {
            let mut message = SqsMessage::default();
            message.message_id = Some(received.message_id.clone());
            message.receipt_handle = Some(received.receipt_handle.clone());
            message.body = Some(received.body.clone());
            message.md5_of_body = Some(crate::sqs::md5::of_body(&received.body));
            message.attributes = received.system.clone().into_iter().collect();
            message.message_attributes = received
                .attributes
                .iter()
                .map(|(name, value)| {
                    let mut attribute = SqsMessageAttribute::default();
                    attribute.data_type = Some(value.data_type.clone());
                    attribute.string_value = value.string_value.clone();
                    attribute.binary_value = value.binary_value.clone().map(|bytes| {
                        let mut data = Base64Data::default();
                        data.0 = bytes;
                        data
                    });
                    (name.clone(), attribute)
                })
                .collect();
            message.event_source = Some("aws:sqs".to_owned());
            message.event_source_arn = Some(queue_arn.to_owned());
            message.aws_region = Some(aws_local::REGION.to_owned());
            message
        })
        .collect();
    event
}

/// `event` as Lambda sends it. `SqsMessage` writes every unset field as `null`; the documented
/// event leaves out `md5OfMessageAttributes` (which this endpoint never sets) and the value
/// field an attribute does not use (`stringValue` or `binaryValue`).
pub(super) fn lambda_payload(event: &SqsEvent) -> serde_json::Result<String> {
    let mut payload = serde_json::to_value(event)?;
    let records = payload
        .get_mut("Records")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten();
    for record in records.filter_map(Value::as_object_mut) {
        if record.get("md5OfMessageAttributes") == Some(&Value::Null) {
            record.remove("md5OfMessageAttributes");
        }
        let attributes = record
            .get_mut("messageAttributes")
            .and_then(Value::as_object_mut)
            .into_iter()
            .flat_map(|attributes| attributes.values_mut());
        for attribute in attributes.filter_map(Value::as_object_mut) {
            attribute.retain(|_, value| !value.is_null());
        }
    }
    serde_json::to_string(&payload)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: failing loudly is the point

    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::json;

    use super::*;
    use crate::sqs::message::AttributeValue;

    /// The first record of the example event of "Using Lambda with Amazon SQS".
    const DOCUMENTED_RECORD: &str = r#"{
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
        "body": "Test message.",
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1545082649183",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1545082649185"
        },
        "messageAttributes": {
            "myAttribute": {
                "stringValue": "myValue",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String"
            }
        },
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
        "awsRegion": "us-east-2"
    }"#;

    fn keys(value: &Value) -> BTreeSet<String> {
        value.as_object().unwrap().keys().cloned().collect()
    }

    fn received() -> Received {
        Received {
            message_id: "m1".into(),
            receipt_handle: "hlr-1-x".into(),
            body: "Test message.".into(),
            attributes: BTreeMap::from([
                (
                    "myAttribute".to_owned(),
                    AttributeValue {
                        data_type: "String".into(),
                        string_value: Some("myValue".into()),
                        binary_value: None,
                    },
                ),
                (
                    "blob".to_owned(),
                    AttributeValue {
                        data_type: "Binary".into(),
                        string_value: None,
                        binary_value: Some(vec![0xff, 0x00]),
                    },
                ),
            ]),
            system: BTreeMap::from([
                ("ApproximateReceiveCount".to_owned(), "1".to_owned()),
                ("SentTimestamp".to_owned(), "1545082649183".to_owned()),
            ]),
        }
    }

    fn payload(batch: &[Received]) -> Value {
        let arn = aws_local::sqs_queue_arn("my-queue");
        serde_json::from_str(&lambda_payload(&sqs_event(batch, &arn)).unwrap()).unwrap()
    }

    #[test]
    fn records_have_the_documented_keys() {
        let documented: Value = serde_json::from_str(DOCUMENTED_RECORD).unwrap();
        let event = payload(&[received()]);
        assert_eq!(keys(&event), BTreeSet::from(["Records".to_owned()]));
        let record = &event["Records"][0];
        assert_eq!(keys(record), keys(&documented));
        assert_eq!(
            record["messageAttributes"]["myAttribute"],
            documented["messageAttributes"]["myAttribute"]
        );
        assert_eq!(
            record["messageAttributes"]["blob"],
            json!({
                "binaryValue": "/wA=",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "Binary",
            })
        );
    }

    #[test]
    fn records_carry_the_messages() {
        let mut second = received();
        second.message_id = "m2".into();
        second.attributes.clear();
        let event = payload(&[received(), second]);
        let record = &event["Records"][0];
        assert_eq!(record["messageId"], "m1");
        assert_eq!(record["receiptHandle"], "hlr-1-x");
        assert_eq!(record["body"], "Test message.");
        assert_eq!(
            record["attributes"],
            json!({ "ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183" })
        );
        assert_eq!(
            record["md5OfBody"],
            crate::sqs::md5::of_body("Test message.")
        );
        assert_eq!(record["eventSource"], "aws:sqs");
        assert_eq!(
            record["eventSourceARN"],
            aws_local::sqs_queue_arn("my-queue")
        );
        assert_eq!(record["awsRegion"], aws_local::REGION);
        assert_eq!(event["Records"][1]["messageId"], "m2");
        assert_eq!(event["Records"][1]["messageAttributes"], json!({}));
    }

    #[test]
    fn a_batchs_event_size_is_the_sum_of_its_records() {
        let arn = aws_local::sqs_queue_arn("my-queue");
        let mut second = received();
        second.message_id = "m2".into();
        second.body = "\"quoted\" \u{1F600}".into();
        let batch = [received(), second, received()];
        let summed = EMPTY_EVENT_BYTES
            + batch.iter().map(|m| record_bytes(m, &arn)).sum::<usize>()
            + (batch.len() - 1);
        assert_eq!(
            summed,
            lambda_payload(&sqs_event(&batch, &arn)).unwrap().len()
        );
    }
}
