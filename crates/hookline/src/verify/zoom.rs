//! Zoom: `x-zm-signature: v0=<hex>` over `"v0:{x-zm-request-timestamp}:{body}"`, HMAC-SHA256
//! keyed with the app's secret token (Zoom's "Using webhooks": "Verify webhook events"; the
//! official sample `zoom/webhook-sample`). Zoom documents no tolerance; hookline applies its
//! default to the signed timestamp (seconds).
//!
//! `endpoint.url_validation` is a handshake, signed like any event: answered with
//! `{"plainToken", "encryptedToken": hex HMAC-SHA256(secret, plainToken)}` within 3 s; Zoom
//! repeats it every 72 hours. The event type is the body's `event`; Zoom sends no delivery id,
//! so the dedup id is the digest of type and body (`event_ts` makes each event's bytes unique).

use serde::Deserialize;
use serde_json::json;

use super::keys::Key;
use super::{Context, Named, Outgoing, Request, SchemeSpec, Signed, VerifyError};
use super::{headers, parse_unix_seconds};
use crate::describe::{Answer, Description, Handshake, MalformedBody, json_object, lenient_string};

pub(crate) const SIGNATURE_HEADER: &str = "x-zm-signature";
pub(crate) const TIMESTAMP_HEADER: &str = "x-zm-request-timestamp";
const URL_VALIDATION: &str = "endpoint.url_validation";

/// The Zoom scheme.
#[derive(Debug, Default)]
pub(crate) struct Zoom;

impl Named for Zoom {
    const NAME: &'static str = "zoom";
}

impl SchemeSpec for Zoom {
    fn signature_headers(&self) -> Vec<&str> {
        vec![SIGNATURE_HEADER]
    }

    fn signs_timestamp(&self) -> bool {
        true
    }

    fn verify(&self, ctx: &Context<'_>, request: &Request<'_>) -> Result<(), VerifyError> {
        let (signature, timestamp) = signed_parts(request)?;
        ctx.check_timestamp(parse_unix_seconds(timestamp, TIMESTAMP_HEADER)?)?;
        ctx.expect_mac(
            &[b"v0:", timestamp.as_bytes(), b":", request.body],
            &[signature],
        )
    }

    fn describe(&self, request: &Request<'_>, keys: &[Key]) -> Result<Description, MalformedBody> {
        let event: ZoomEvent = json_object(request.body)?;
        let description = Description::unsigned_id(event.event.clone(), None, request.body);
        if event.event.as_deref() != Some(URL_VALIDATION) {
            return Ok(description);
        }
        let plain_token = event.payload.and_then(|p| p.plain_token).ok_or(
            MalformedBody::IncompleteHandshake {
                handshake: URL_VALIDATION,
                field: "payload.plainToken",
            },
        )?;
        // Zoom checks the answer with the secret it signed the request with: the key whose
        // signature matched.
        let key = keys
            .iter()
            .find(|key| signature_matches(key, request))
            .ok_or(MalformedBody::IncompleteHandshake {
                handshake: URL_VALIDATION,
                field: "a verified signature",
            })?;
        let encrypted_token = key.mac_hex(&[plain_token.as_bytes()]);
        Ok(Description {
            handshake: Some(Handshake {
                kind: URL_VALIDATION,
                answer: Answer::json(&json!({
                    "plainToken": plain_token,
                    "encryptedToken": encrypted_token,
                })),
            }),
            ..description
        })
    }

    fn sign(&self, key: &Key, message: &Outgoing<'_>) -> Signed {
        let t = message.timestamp.to_string();
        let signature = key.mac_hex(&[b"v0:", t.as_bytes(), b":", message.body]);
        Signed::with_headers(
            message,
            vec![
                (TIMESTAMP_HEADER, t),
                (SIGNATURE_HEADER, format!("v0={signature}")),
            ],
        )
    }
}

/// The signature and the signed timestamp of a request.
fn signed_parts<'a>(request: &Request<'a>) -> Result<(Vec<u8>, &'a str), VerifyError> {
    let value = headers::single(request.headers, SIGNATURE_HEADER)?;
    let timestamp = headers::single(request.headers, TIMESTAMP_HEADER)?;
    let signature = headers::prefixed_hex(
        value,
        "v0=",
        32,
        SIGNATURE_HEADER,
        "the value does not start with v0=",
    )?;
    Ok((signature, timestamp))
}

/// Whether `key` signed `request` (for picking the key of a verified handshake).
fn signature_matches(key: &Key, request: &Request<'_>) -> bool {
    let Ok((signature, timestamp)) = signed_parts(request) else {
        return false;
    };
    key.mac(&[b"v0:", timestamp.as_bytes(), b":", request.body])
        .is_some_and(|mac| super::keys::constant_time_eq(&mac, &signature))
}

#[derive(Deserialize)]
struct ZoomEvent {
    #[serde(default, deserialize_with = "lenient_string")]
    event: Option<String>,
    #[serde(default)]
    payload: Option<ZoomPayload>,
}

#[derive(Deserialize)]
struct ZoomPayload {
    #[serde(default, rename = "plainToken", deserialize_with = "lenient_string")]
    plain_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::super::VerifyError;
    use super::super::test_support::*;
    use crate::verify::Request;

    // No vector is published: computed with Python's hmac (research note), and checked
    // against the scheme's text above.
    const SECRET: &str = "zoom_secret_token";
    const TS: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"event":"endpoint.url_validation","payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1700000000000}"#;
    const SIG: &str = "v0=53f30a92c5e70d82f547b80d5567e38ce8b3aaf61acd9fd311ba037ecef5f5ec";
    const ENCRYPTED: &str = "bd48235863f4a6323ccc4963c594908b7c97f88b4a6a95278f4f093690b12726";

    fn signed(sig: &str, ts: &str) -> http::HeaderMap {
        headers(&[("x-zm-signature", sig), ("x-zm-request-timestamp", ts)])
    }

    #[test]
    fn url_validation_is_verified_then_answered_with_the_signing_key() {
        let v = verifier(scheme("zoom"), &["old_token", SECRET]);
        let h = signed(SIG, &TS.to_string());
        let request = Request::post(&h, BODY);
        assert_eq!(v.verify_request(&request, TS), Ok(()));
        let handshake = v.describe(&request).unwrap().handshake.unwrap();
        assert_eq!(handshake.kind, "endpoint.url_validation");
        let answer: serde_json::Value = serde_json::from_str(&handshake.answer.body).unwrap();
        assert_eq!(answer["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
        assert_eq!(answer["encryptedToken"], ENCRYPTED);
        assert_eq!(handshake.answer.content_type, Some("application/json"));
    }

    #[test]
    fn events_tampering_stale_and_bad_headers() {
        let v = verifier(scheme("zoom"), &[SECRET]);
        let h = signed(SIG, &TS.to_string());
        assert_eq!(
            v.verify(&h, &BODY[1..], TS),
            Err(VerifyError::SignatureMismatch)
        );
        assert!(matches!(
            v.verify(&h, BODY, TS + 301),
            Err(VerifyError::TimestampTooOld { .. })
        ));
        for (sig, ts) in [
            (&SIG[3..], "1700000000"),
            ("v0=zz", "1700000000"),
            (SIG, "soon"),
        ] {
            assert_eq!(
                v.verify(&signed(sig, ts), BODY, TS).map_err(|e| e.code()),
                Err("malformed_signature")
            );
        }
        let event = br#"{"event":"meeting.started","event_ts":1700000000000,"payload":{}}"#;
        let d = v.describe(&Request::post(&h, event)).unwrap();
        assert_eq!(d.event_type.as_deref(), Some("meeting.started"));
        assert!(d.handshake.is_none() && d.dedup_id.starts_with("sha256:"));
        // A validation without its token is malformed, not answered.
        let empty = br#"{"event":"endpoint.url_validation","payload":{}}"#;
        assert!(v.describe(&Request::post(&h, empty)).is_err());
    }
}
