//! What a scheme knows about a verified delivery: its event type, the provider's delivery id, the
//! deduplication id (from signed bytes only), and whether it is a handshake to answer instead of
//! enqueue.
//!
//! Runs only after the signature is verified, so unauthenticated senders never reach the parsers.

use http::HeaderMap;
use serde::Deserialize;

use crate::verify::Scheme;

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
    /// Webhooks' `webhook-id`), else `sha256:<hex>` of the event type and the body (GitHub's
    /// `X-GitHub-Delivery` and Shopify's `X-Shopify-Webhook-Id` are headers nobody signs).
    pub dedup_id: String,
    /// A handshake to answer synchronously; such deliveries are never enqueued.
    pub handshake: Option<Handshake>,
    /// How the provider wants the delivery acknowledged once it is queued.
    pub acknowledgement: Acknowledgement,
}

/// How a queued delivery is acknowledged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Acknowledgement {
    /// `200` with `{"status":"received","message_id":...}` as JSON: providers read only the
    /// status, and the id helps whoever looks at the provider's delivery log.
    #[default]
    Json,
    /// An empty `200`. Slack reads a body in answer to a slash command or an interaction as a
    /// message to post (or a `response_action`): "If the response body is empty, the response
    /// will be recognized as just an acknowledgment" (Slack's Java SDK guide, "Slash Commands";
    /// Bolt's `ack()` without arguments answers the same).
    Empty,
}

/// A request the provider sends to check the endpoint, answered without enqueuing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handshake {
    /// Slack `url_verification`: answer with the challenge.
    SlackUrlVerification {
        /// The value to echo back.
        challenge: String,
    },
    /// Slack `ssl_check=1`: answer 200 with an empty body.
    SlackSslCheck,
}

/// The body does not have the shape the provider always sends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedBody {
    /// The provider sends JSON objects and this is not one.
    #[error("the body is not a JSON object")]
    NotJsonObject,
    /// A Slack `url_verification` without a `challenge` string.
    #[error("the url_verification request has no challenge")]
    MissingChallenge,
}

/// Describes a delivery that `scheme` has already verified.
pub fn describe(
    scheme: &Scheme,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Description, MalformedBody> {
    let mut description = describe_scheme(scheme, headers, body)?;
    description.dedup_id = match scheme {
        // Inside the signed body (Stripe's `id`, Slack's `event_id`), or the signed `webhook-id`.
        Scheme::Stripe | Scheme::Slack | Scheme::StandardWebhooks => description
            .delivery_id
            .clone()
            .unwrap_or_else(|| body_digest(None, body)),
        // The id is a header the signature does not cover. The event type (also a header) goes
        // in too: two events of one object can carry the same bytes (Shopify's `orders/create`
        // and `orders/paid` of an order created paid), and merging them would lose one.
        Scheme::GitHub | Scheme::Shopify | Scheme::GenericHmac(_) => {
            body_digest(description.event_type.as_deref(), body)
        }
    };
    Ok(description)
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

fn describe_scheme(
    scheme: &Scheme,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Description, MalformedBody> {
    match scheme {
        Scheme::Stripe => {
            let event: TypedObject = json_object(body)?;
            Ok(Description {
                event_type: event.r#type,
                delivery_id: event.id,
                ..Description::default()
            })
        }
        Scheme::GitHub => Ok(Description {
            event_type: header(headers, "x-github-event"),
            delivery_id: header(headers, "x-github-delivery"),
            ..Description::default()
        }),
        Scheme::Shopify => Ok(Description {
            event_type: header(headers, "x-shopify-topic"),
            delivery_id: header(headers, "x-shopify-webhook-id"),
            ..Description::default()
        }),
        Scheme::StandardWebhooks => {
            let event: TypedObject = json_object(body)?;
            Ok(Description {
                event_type: event.r#type,
                delivery_id: header(headers, "webhook-id").or_else(|| header(headers, "svix-id")),
                ..Description::default()
            })
        }
        Scheme::Slack => describe_slack(body),
        Scheme::GenericHmac(_) => Ok(Description::default()),
    }
}

#[derive(Deserialize)]
struct TypedObject {
    #[serde(default, deserialize_with = "lenient_string")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    r#type: Option<String>,
}

#[derive(Deserialize)]
struct SlackJson {
    #[serde(default, deserialize_with = "lenient_string")]
    r#type: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    challenge: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    event_id: Option<String>,
    #[serde(default)]
    event: Option<SlackInnerEvent>,
}

#[derive(Deserialize)]
struct SlackInnerEvent {
    #[serde(default, deserialize_with = "lenient_string")]
    r#type: Option<String>,
}

/// Slack sends JSON for the Events API and form bodies for slash commands, interactivity
/// (`payload=<json>`) and `ssl_check`.
fn describe_slack(body: &[u8]) -> Result<Description, MalformedBody> {
    if body.trim_ascii_start().first() == Some(&b'{') {
        let event: SlackJson = json_object(body)?;
        if event.r#type.as_deref() == Some("url_verification") {
            let challenge = event.challenge.ok_or(MalformedBody::MissingChallenge)?;
            return Ok(Description {
                event_type: event.r#type,
                handshake: Some(Handshake::SlackUrlVerification { challenge }),
                ..Description::default()
            });
        }
        let inner_type = event.event.and_then(|e| e.r#type);
        return Ok(Description {
            event_type: inner_type.or(event.r#type),
            delivery_id: event.event_id,
            ..Description::default()
        });
    }
    // A form: a slash command (`command=`) or an interaction (`payload=`).
    let mut description = Description {
        acknowledgement: Acknowledgement::Empty,
        ..Description::default()
    };
    for (key, value) in form_urlencoded::parse(body) {
        match &*key {
            "ssl_check" if value == "1" => description.handshake = Some(Handshake::SlackSslCheck),
            "payload" => {
                description.event_type = serde_json::from_str::<TypedObject>(&value)
                    .ok()
                    .and_then(|p| p.r#type);
            }
            "command" => description.event_type = Some("slash_command".to_owned()),
            _ => {}
        }
    }
    Ok(description)
}

fn json_object<'de, T: Deserialize<'de>>(body: &'de [u8]) -> Result<T, MalformedBody> {
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(MalformedBody::NotJsonObject);
    }
    serde_json::from_slice(body).map_err(|_| MalformedBody::NotJsonObject)
}

/// A string field, or `None` when it is absent, `null` or not a string: metadata is best effort.
fn lenient_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s),
        _ => None,
    })
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
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
    use crate::verify::test_support::headers;

    fn stripe(body: &[u8]) -> Result<Description, MalformedBody> {
        describe(&Scheme::Stripe, &HeaderMap::new(), body)
    }

    #[test]
    fn stripe_reads_id_and_type_from_the_body() {
        let d = stripe(br#"{"id":"evt_1","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1","type":"x"}}}"#);
        assert_eq!(
            d.as_ref().map(|d| d.event_type.as_deref()),
            Ok(Some("invoice.paid"))
        );
        assert_eq!(d.map(|d| d.delivery_id), Ok(Some("evt_1".to_owned())));
    }

    #[test]
    fn stripe_rejects_non_objects() {
        for body in [&b""[..], b"[]", b"{\"id\":", b"\xff\xfe", b"null"] {
            assert_eq!(stripe(body), Err(MalformedBody::NotJsonObject), "{body:?}");
        }
        // Fields of unexpected types are metadata we do not have, not malformed bodies.
        let body = br#"{"id":5,"type":null}"#;
        assert_eq!(
            stripe(body),
            Ok(Description {
                dedup_id: body_digest(None, body),
                ..Description::default()
            })
        );
    }

    #[test]
    fn dedup_ids_come_from_signed_bytes_only() {
        let body = br#"{"id":"evt_1","type":"invoice.paid"}"#;
        assert_eq!(stripe(body).unwrap().dedup_id, "evt_1");
        // GitHub's and Shopify's ids are headers nobody signed: the body decides.
        for (scheme, id_header) in [
            (Scheme::GitHub, "X-GitHub-Delivery"),
            (Scheme::Shopify, "X-Shopify-Webhook-Id"),
        ] {
            let first = describe(&scheme, &headers(&[(id_header, "a")]), b"{}").unwrap();
            let replayed = describe(&scheme, &headers(&[(id_header, "b")]), b"{}").unwrap();
            assert_eq!(first.delivery_id.as_deref(), Some("a"));
            assert_eq!(first.dedup_id, replayed.dedup_id, "{scheme}");
            assert_eq!(
                first.dedup_id,
                "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
            );
        }
        // Standard Webhooks signs webhook-id.
        let sw = describe(
            &Scheme::StandardWebhooks,
            &headers(&[("webhook-id", "msg_1")]),
            br#"{"type":"a"}"#,
        )
        .unwrap();
        assert_eq!(sw.dedup_id, "msg_1");
        // Slack: event_id inside the signed JSON; a form body (slash command) by its digest.
        let event = br#"{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}"#;
        assert_eq!(
            describe(&Scheme::Slack, &headers(&[]), event)
                .unwrap()
                .dedup_id,
            "Ev1"
        );
        let form = b"command=%2Fdeploy&trigger_id=1.2.3";
        assert_eq!(
            describe(&Scheme::Slack, &headers(&[]), form)
                .unwrap()
                .dedup_id,
            body_digest(None, form)
        );
        // One order, two topics, the same bytes: two deliveries.
        let order = br#"{"id":820982911946154500,"financial_status":"paid"}"#;
        let topic = |t: &str| {
            describe(&Scheme::Shopify, &headers(&[("X-Shopify-Topic", t)]), order)
                .unwrap()
                .dedup_id
        };
        assert_ne!(topic("orders/create"), topic("orders/paid"));
    }

    #[test]
    fn github_and_shopify_read_headers() {
        let h = headers(&[
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        ]);
        let d = describe(&Scheme::GitHub, &h, b"payload=%7B%7D");
        assert_eq!(
            d.map(|d| (d.event_type, d.delivery_id)),
            Ok((
                Some("push".into()),
                Some("72d3162e-cc78-11e3-81ab-4c9367dc0958".into())
            ))
        );
        let h = headers(&[
            ("X-Shopify-Topic", "orders/create"),
            ("X-Shopify-Webhook-Id", "b54557e4"),
        ]);
        let d = describe(&Scheme::Shopify, &h, b"not json either");
        assert_eq!(
            d.map(|d| (d.event_type, d.delivery_id)),
            Ok((Some("orders/create".into()), Some("b54557e4".into())))
        );
    }

    #[test]
    fn standard_webhooks_reads_type_and_id() {
        let h = headers(&[("svix-id", "msg_1")]);
        let d = describe(
            &Scheme::StandardWebhooks,
            &h,
            br#"{"type":"user.created","data":{}}"#,
        );
        assert_eq!(
            d.map(|d| (d.event_type, d.delivery_id)),
            Ok((Some("user.created".into()), Some("msg_1".into())))
        );
        assert_eq!(
            describe(&Scheme::StandardWebhooks, &h, b"x"),
            Err(MalformedBody::NotJsonObject)
        );
    }

    #[test]
    fn slack_events_handshakes_and_forms() {
        let slack = |body: &[u8]| describe(&Scheme::Slack, &HeaderMap::new(), body);
        let d =
            slack(br#"{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}"#);
        assert_eq!(
            d.map(|d| (d.event_type, d.delivery_id)),
            Ok((Some("app_mention".into()), Some("Ev1".into())))
        );
        let d = slack(br#"{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#);
        assert_eq!(
            d.map(|d| d.handshake),
            Ok(Some(Handshake::SlackUrlVerification {
                challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P".into()
            }))
        );
        assert_eq!(
            slack(br#"{"type":"url_verification"}"#),
            Err(MalformedBody::MissingChallenge)
        );
        assert_eq!(slack(b"{oops"), Err(MalformedBody::NotJsonObject));
        assert_eq!(
            slack(b"ssl_check=1&token=x").map(|d| d.handshake),
            Ok(Some(Handshake::SlackSslCheck))
        );
        assert_eq!(
            slack(b"command=%2Fdeploy&text=now").map(|d| d.event_type),
            Ok(Some("slash_command".into()))
        );
        let payload = b"payload=%7B%22type%22%3A%22block_actions%22%7D";
        assert_eq!(
            slack(payload).map(|d| d.event_type),
            Ok(Some("block_actions".into()))
        );
    }
}
