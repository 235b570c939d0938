//! Linear: `Linear-Signature: <hex HMAC-SHA256(secret, body)>`, with the replay check on the
//! signed body's `webhookTimestamp` (milliseconds), within 60 s either way (@linear/sdk
//! `webhooks/client.ts`: `Math.abs(Date.now() - timestamp) > 1e3 * 60`; the `Linear-Timestamp`
//! header is "deprecated and ignored"). The entity type (`type`, e.g. `Issue`) and `action` are
//! in the signed body; `Linear-Delivery` is an unsigned header, so the dedup id is the digest of
//! type and body (the body carries `webhookTimestamp`, so one event's bytes are its own).

use std::time::Duration;

use serde::Deserialize;

use super::keys::Key;
use super::{Context, Named, Outgoing, Request, SchemeSpec, Signed, VerifyError, headers};
use crate::describe::{Description, MalformedBody, header, json_object, lenient_string};

pub(crate) const SIGNATURE_HEADER: &str = "linear-signature";
pub(crate) const DELIVERY_HEADER: &str = "linear-delivery";

/// The Linear scheme.
#[derive(Debug, Default)]
pub(crate) struct Linear;

impl Named for Linear {
    const NAME: &'static str = "linear";
}

impl SchemeSpec for Linear {
    fn signature_headers(&self) -> Vec<&str> {
        vec![SIGNATURE_HEADER]
    }

    fn signs_timestamp(&self) -> bool {
        true
    }

    fn default_tolerance(&self) -> Duration {
        Duration::from_secs(60)
    }

    fn verify(&self, ctx: &Context<'_>, request: &Request<'_>) -> Result<(), VerifyError> {
        let value = headers::single(request.headers, SIGNATURE_HEADER)?;
        let signature = headers::decode_hex(value, 32, SIGNATURE_HEADER)?;
        ctx.expect_mac(&[request.body], &[signature])?;
        // Only now is the body trusted enough to read the timestamp in it.
        let stamped: Stamped =
            serde_json::from_slice(request.body).map_err(|_| VerifyError::MalformedHeader {
                header: "webhookTimestamp".to_owned(),
                reason: "the signed body has no webhookTimestamp in milliseconds",
            })?;
        let millis = stamped
            .webhook_timestamp
            .filter(|ms| (0.0..1e15).contains(ms))
            .ok_or(VerifyError::MalformedHeader {
                header: "webhookTimestamp".to_owned(),
                reason: "the signed body has no webhookTimestamp in milliseconds",
            })?;
        // Whole seconds: the tolerance is in seconds (truncation keeps a fresh event fresh).
        ctx.check_timestamp((millis / 1000.0) as i64)
    }

    fn describe(&self, request: &Request<'_>, _keys: &[Key]) -> Result<Description, MalformedBody> {
        let event: LinearEvent = json_object(request.body)?;
        let event_type = match (event.r#type, event.action) {
            (Some(t), Some(a)) => Some(format!("{t}.{a}")),
            (t, _) => t,
        };
        Ok(Description::unsigned_id(
            event_type,
            header(request.headers, DELIVERY_HEADER),
            request.body,
        ))
    }

    fn can_sign(&self, body: &[u8]) -> bool {
        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body).is_ok()
    }

    /// Linear stamps the body it signs: a JSON object's `webhookTimestamp` is set to the send
    /// time (the object re-serialised); other bodies are signed as they are.
    fn sign(&self, key: &Key, message: &Outgoing<'_>) -> Signed {
        let stamped =
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(message.body)
                .ok()
                .and_then(|mut object| {
                    object.insert(
                        "webhookTimestamp".to_owned(),
                        serde_json::Value::from(message.timestamp.saturating_mul(1000)),
                    );
                    serde_json::to_vec(&object).ok()
                });
        let body = stamped.as_deref().unwrap_or(message.body);
        let mut signed = Signed::with_headers(
            &Outgoing { body, ..*message },
            vec![(SIGNATURE_HEADER, key.mac_hex(&[body]))],
        );
        if !message.delivery_id.is_empty() {
            signed
                .headers
                .push((DELIVERY_HEADER.to_owned(), message.delivery_id.to_owned()));
        }
        signed
    }
}

#[derive(Deserialize)]
struct Stamped {
    #[serde(default, rename = "webhookTimestamp")]
    webhook_timestamp: Option<f64>,
}

#[derive(Deserialize)]
struct LinearEvent {
    #[serde(default, deserialize_with = "lenient_string")]
    r#type: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    action: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::super::VerifyError;
    use super::super::test_support::*;
    use crate::verify::Request;

    // No vector is published: computed with Python's hmac (research note).
    const SECRET: &str = "lin_wh_secret";
    const BODY: &[u8] =
        br#"{"action":"create","type":"Issue","data":{"id":"x"},"webhookTimestamp":1700000000000}"#;
    const SIG: &str = "6acbceb2e1629d95ec1c080a5e0941a832b025b24c65b7405b6950a179ba9565";
    const NOW: i64 = 1_700_000_000;

    fn linear() -> crate::verify::Verifier {
        verifier_with_tolerance(scheme("linear"), &[SECRET], 60)
    }

    #[test]
    fn vector_verifies_within_a_minute_either_way() {
        let h = headers(&[("Linear-Signature", SIG), ("Linear-Delivery", "d-1")]);
        for now in [NOW - 60, NOW, NOW + 60] {
            assert_eq!(linear().verify(&h, BODY, now), Ok(()), "{now}");
        }
        assert!(matches!(
            linear().verify(&h, BODY, NOW + 61),
            Err(VerifyError::TimestampTooOld { .. })
        ));
        assert!(matches!(
            linear().verify(&h, BODY, NOW - 61),
            Err(VerifyError::TimestampInFuture { .. })
        ));
        let d = linear().describe(&Request::post(&h, BODY)).unwrap();
        assert_eq!(d.event_type.as_deref(), Some("Issue.create"));
        assert_eq!(d.delivery_id.as_deref(), Some("d-1"));
        assert!(d.dedup_id.starts_with("sha256:"));
    }

    #[test]
    fn tampering_missing_timestamp_and_bad_headers() {
        let h = headers(&[("Linear-Signature", SIG)]);
        assert_eq!(
            linear().verify(&h, &BODY[1..], NOW),
            Err(VerifyError::SignatureMismatch)
        );
        let unstamped = br#"{"action":"create","type":"Issue"}"#;
        let sig = hmac_sha256_hex(SECRET.as_bytes(), &[unstamped]);
        assert_eq!(
            linear()
                .verify(&headers(&[("Linear-Signature", &sig)]), unstamped, NOW)
                .map_err(|e| e.code()),
            Err("malformed_signature")
        );
        for bad in ["zz", &SIG[2..], ""] {
            assert!(
                linear()
                    .verify(&headers(&[("Linear-Signature", bad)]), BODY, NOW)
                    .is_err()
            );
        }
    }
}
