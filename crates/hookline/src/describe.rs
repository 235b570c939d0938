//! What a scheme knows about a verified delivery: its event type, the provider's delivery id, the
//! deduplication id (from signed bytes only), whether it is a handshake to answer instead of
//! enqueue, and how to acknowledge it. Each scheme module fills a [`Description`]; this module
//! holds the shapes and the helpers they share.
//!
//! Runs only after the signature is verified, so unauthenticated senders never reach the parsers.

use http::HeaderMap;
use serde::Deserialize;

use crate::verify::{Request, Scheme};

/// What the scheme found in a delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Description {
    /// The provider's event type (`invoice.paid`, `push`, `app_mention`, `orders/create`, ...).
    pub event_type: Option<String>,
    /// The provider's id for this delivery, wherever the provider puts it (signed or not).
    pub delivery_id: Option<String>,
    /// What processors and FIFO queues deduplicate on: the same on every retry, and taken only
    /// from what the signature covers, so a captured delivery cannot be replayed under a fresh
    /// id. The provider's id when it is signed (Stripe's and Slack's inside the body, Standard
    /// Webhooks' `webhook-id`), else [`body_digest`] of the event type and the body (GitHub's
    /// `X-GitHub-Delivery` and Shopify's `X-Shopify-Webhook-Id` are headers nobody signs).
    pub dedup_id: String,
    /// A handshake to answer synchronously; such deliveries are never enqueued.
    pub handshake: Option<Handshake>,
    /// How the provider wants the delivery acknowledged once it is queued.
    pub acknowledgement: Acknowledgement,
}

impl Description {
    /// A description whose dedup id is the provider's signed id, or the body's digest without it.
    pub(crate) fn signed_id(
        event_type: Option<String>,
        delivery_id: Option<String>,
        body: &[u8],
    ) -> Description {
        let dedup_id = delivery_id
            .clone()
            .unwrap_or_else(|| body_digest(None, body));
        Description {
            event_type,
            delivery_id,
            dedup_id,
            ..Description::default()
        }
    }

    /// A description whose delivery id is not signed: the dedup id is the digest of the event
    /// type and the body. The event type goes in because two events of one object can carry the
    /// same bytes (Shopify's `orders/create` and `orders/paid` of an order created paid), and
    /// merging them would lose one.
    pub(crate) fn unsigned_id(
        event_type: Option<String>,
        delivery_id: Option<String>,
        body: &[u8],
    ) -> Description {
        let dedup_id = body_digest(event_type.as_deref(), body);
        Description {
            event_type,
            delivery_id,
            dedup_id,
            ..Description::default()
        }
    }
}

impl Description {
    /// A batch of events, each with its own id inside the signed body (HubSpot, SendGrid): the
    /// dedup id is the digest of the ids in order, which a retry keeps even when the provider
    /// changes other bytes (HubSpot raises each event's `attemptNumber`). Without an id on
    /// every event, the body's digest.
    pub(crate) fn batch(
        event_type: Option<String>,
        ids: Vec<Option<String>>,
        body: &[u8],
    ) -> Description {
        let ids: Option<Vec<String>> = ids.into_iter().collect();
        let dedup_id = match ids.filter(|ids| !ids.is_empty()) {
            Some(ids) => {
                use sha2::Digest as _;
                format!(
                    "events:sha256:{}",
                    hex::encode(sha2::Sha256::digest(ids.join("\n")))
                )
            }
            None => body_digest(event_type.as_deref(), body),
        };
        Description {
            event_type,
            dedup_id,
            ..Description::default()
        }
    }
}

/// How a queued delivery is acknowledged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Acknowledgement {
    /// `200` with `{"status":"received","message_id":...}` as JSON: providers read only the
    /// status, and the id helps whoever looks at the provider's delivery log.
    #[default]
    Json,
    /// The answer the provider expects instead (Slack's empty `200`, ...).
    Answer(Answer),
}

/// A fixed HTTP answer a scheme gives on behalf of the receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The content type, when there is a body.
    pub content_type: Option<&'static str>,
    /// The body (empty for none).
    pub body: String,
}

impl Answer {
    /// `200` with no body.
    pub fn empty() -> Answer {
        Answer {
            status: 200,
            content_type: None,
            body: String::new(),
        }
    }

    /// `200` with a JSON body.
    pub fn json(body: &serde_json::Value) -> Answer {
        Answer {
            status: 200,
            content_type: Some("application/json"),
            body: body.to_string(),
        }
    }

    /// `200` with a body of `content_type`.
    pub fn text(content_type: &'static str, body: impl Into<String>) -> Answer {
        Answer {
            status: 200,
            content_type: Some(content_type),
            body: body.into(),
        }
    }
}

/// A request the provider sends to check the endpoint, answered without enqueuing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// What the provider calls it (`url_verification`, `ssl_check`, ...), for the log.
    pub kind: &'static str,
    /// The answer the provider expects.
    pub answer: Answer,
}

/// The body does not have the shape the provider always sends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedBody {
    /// The provider sends JSON objects and this is not one.
    #[error("the body is not a JSON object")]
    NotJsonObject,
    /// A handshake without the field its answer is made of.
    #[error("the {handshake} request has no {field}")]
    IncompleteHandshake {
        /// The handshake's name.
        handshake: &'static str,
        /// The missing field.
        field: &'static str,
    },
}

/// Describes a delivery that `scheme` has already verified, without its keys: a handshake
/// whose answer needs the key (Zoom's) cannot be answered (see [`crate::Verifier::describe`]).
pub fn describe(scheme: &Scheme, request: &Request<'_>) -> Result<Description, MalformedBody> {
    scheme.spec().describe(request, &[])
}

/// `sha256:<hex>` of the body, after the event type and a newline when there is one: a
/// deduplication id from the signed bytes.
pub fn body_digest(event_type: Option<&str>, body: &[u8]) -> String {
    use sha2::Digest as _;
    let mut digest = sha2::Sha256::new();
    if let Some(event_type) = event_type {
        digest.update(event_type.as_bytes());
        digest.update(b"\n");
    }
    digest.update(body);
    format!("sha256:{}", hex::encode(digest.finalize()))
}

/// The `id` and `type` fields most providers put at the top of their JSON events.
#[derive(Deserialize)]
pub(crate) struct TypedObject {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub r#type: Option<String>,
}

/// The body as a JSON object of shape `T`.
pub(crate) fn json_object<'de, T: Deserialize<'de>>(body: &'de [u8]) -> Result<T, MalformedBody> {
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(MalformedBody::NotJsonObject);
    }
    serde_json::from_slice(body).map_err(|_| MalformedBody::NotJsonObject)
}

/// A string field, or `None` when it is absent, `null` or not a string: metadata is best effort.
pub(crate) fn lenient_string<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s),
        _ => None,
    })
}

/// An id that is a string or a whole number (HubSpot's `eventId`), as text.
pub(crate) fn lenient_id<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s),
        serde_json::Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    })
}

/// A header's trimmed, non-empty text value.
pub(crate) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_cover_the_event_type_and_every_body_byte() {
        assert_eq!(
            body_digest(None, b"{}"),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_ne!(body_digest(Some("a"), b"{}"), body_digest(Some("b"), b"{}"));
        assert_ne!(body_digest(None, b"{}"), body_digest(None, b"{} "));
    }
}

#[cfg(test)]
mod scheme_tests;
