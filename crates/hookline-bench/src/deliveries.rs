//! Deliveries as they travel: a Stripe event made unique, the HTTP request that carries it, the
//! SQS message hookline's ingest makes of it (the library's own `Ingest`, writing to a
//! `MemoryQueue`), and the SQS event Lambda hands the processor. Sections 5 and 6 measure with
//! these.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use hookline::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use hookline::aws_lambda_events::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use hookline::claim_check::MemoryBodies;
use hookline::queue::QueueMessage;
use hookline::{Ingest, MemoryQueue, SigningSecret, Verifier};
use md5::{Digest as _, Md5};

use crate::signed_headers;

/// `count` copies of the Stripe event `body`, each with its own event id (`evt_` and hex digits,
/// as long as the original's), so each is a new delivery with its own idempotency key. `tag`
/// keeps the ids of different runs apart.
pub fn unique_events(body: &[u8], tag: u32, count: usize) -> Result<Vec<(String, Vec<u8>)>> {
    let text = std::str::from_utf8(body).context("the fixture is not UTF-8")?;
    let json: serde_json::Value = serde_json::from_str(text).context("the fixture is not JSON")?;
    let original = json["id"]
        .as_str()
        .filter(|id| id.starts_with("evt_"))
        .context("the fixture has no Stripe event id")?;
    let width = original.len().saturating_sub(4).max(16);
    (0..count)
        .map(|i| {
            let id = format!("evt_{:0width$x}", (u64::from(tag) << 40) | i as u64);
            Ok((id.clone(), text.replacen(original, &id, 1).into_bytes()))
        })
        .collect()
}

/// The size of the HTTP request that delivers `body` signed: request line, headers as Stripe
/// sends them (signature, content type, host, length) and body. What API Gateway meters.
pub fn request_bytes(body: &[u8]) -> Result<usize> {
    let headers = signed_headers(body)?;
    let head: usize = headers
        .iter()
        .map(|(name, value)| name.len() + 2 + value.len() + 2)
        .sum();
    let fixed = "POST /webhooks/stripe HTTP/1.1\r\n".len()
        + "host: abcdefghij.execute-api.us-east-1.amazonaws.com\r\n".len()
        + format!("content-length: {}\r\n\r\n", body.len()).len();
    Ok(fixed + head + body.len())
}

/// The SQS messages hookline's ingest writes for `bodies` (signed now), in order; a body too
/// large for a message goes to a body bucket in memory, its message holding the pointer.
pub async fn queue_messages(
    provider: &hookline_manifest::Provider,
    bodies: &[Vec<u8>],
) -> Result<Vec<QueueMessage>> {
    let scheme = provider
        .signing
        .scheme
        .parse()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let verifier = Verifier::new(
        scheme,
        &[SigningSecret::new(crate::SECRET)],
        hookline::verify::DEFAULT_TOLERANCE,
    )?;
    let max_body_bytes = usize::try_from(provider.ingest.max_body_bytes)?;
    let ingest = Ingest::new(provider.name.clone(), verifier, MemoryQueue::new())
        .with_body_store(Arc::new(MemoryBodies::new("bench-bodies")))
        .with_max_body_bytes(max_body_bytes);
    for body in bodies {
        let event = crate::ingest::event(body)?;
        let request: ApiGatewayV2httpRequest = serde_json::from_slice(&event)?;
        let response = ingest.handle(request).await;
        if response.status_code != 200 {
            bail!("hookline's ingest refused a benchmark delivery: {response:?}");
        }
    }
    let messages = ingest.queue().messages();
    if messages.len() != bodies.len() {
        bail!(
            "{} deliveries made {} messages",
            bodies.len(),
            messages.len()
        );
    }
    Ok(messages)
}

/// The Lambda event of one batch, as Lambda's SQS event source mapping makes it ("Using Lambda
/// with Amazon SQS", example event): first receives, each message with a new id.
pub fn sqs_event(messages: &[QueueMessage], queue: &str) -> Result<Bytes> {
    let now = chrono::Utc::now().timestamp_millis().to_string();
    let string = |value: &str| {
        let mut attribute = SqsMessageAttribute::default();
        attribute.string_value = Some(value.to_owned());
        attribute.data_type = Some("String".to_owned());
        attribute
    };
    let records = messages
        .iter()
        .map(|message| {
            let mut record = SqsMessage::default();
            record.message_id = Some(uuid::Uuid::new_v4().to_string());
            record.receipt_handle = Some(format!("AQEB{}", uuid::Uuid::new_v4().simple()));
            record.md5_of_body = Some(
                Md5::digest(message.body.as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect(),
            );
            record.body = Some(message.body.clone());
            record.attributes = HashMap::from([
                ("ApproximateReceiveCount".to_owned(), "1".to_owned()),
                ("SentTimestamp".to_owned(), now.clone()),
                (
                    "SenderId".to_owned(),
                    "AROAEXAMPLEID:stripe-ingest".to_owned(),
                ),
                ("ApproximateFirstReceiveTimestamp".to_owned(), now.clone()),
            ]);
            record.message_attributes =
                HashMap::from([("provider".to_owned(), string(&message.provider))]);
            if let Some(event_type) = &message.event_type {
                record
                    .message_attributes
                    .insert("event_type".to_owned(), string(event_type));
            }
            record.event_source_arn = Some(hookline_local::aws_local::sqs_queue_arn(queue));
            record.event_source = Some("aws:sqs".to_owned());
            record.aws_region = Some(hookline_local::aws_local::REGION.to_owned());
            record
        })
        .collect();
    let mut event = SqsEvent::default();
    event.records = records;
    Ok(Bytes::from(serde_json::to_vec(&event)?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn unique_events_change_only_the_event_id() {
        let body = br#"{"id": "evt_3QhCTmLd8qZr2HkNbxJPMopZ", "data": {"id": "ch_1"}}"#;
        let events = unique_events(body, 7, 3).unwrap();
        assert_eq!(events.len(), 3);
        let ids: std::collections::BTreeSet<_> = events.iter().map(|(id, _)| id.clone()).collect();
        assert_eq!(ids.len(), 3, "{ids:?}");
        for (id, event) in &events {
            assert_eq!(event.len(), body.len(), "the size is kept");
            let json: serde_json::Value = serde_json::from_slice(event).unwrap();
            assert_eq!(json["id"], id.as_str());
            assert_eq!(json["data"]["id"], "ch_1");
        }
    }
}
