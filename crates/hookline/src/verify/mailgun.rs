//! Mailgun: the signature is inside the body. JSON webhooks carry
//! `{"signature": {"timestamp", "token", "signature"}, "event-data": {...}}`; form posts (Routes'
//! `forward()`, legacy webhooks) carry top-level `timestamp`, `token` and `signature` fields.
//! `signature` is the hex HMAC-SHA256 of `timestamp + token` keyed with the webhook signing key
//! (Mailgun's "Securing webhooks"). The official SDK (`mailgun.security.SecurityGuard`) refuses
//! timestamps more than 900 s away; that is the default here.
//!
//! Only timestamp and token are signed, not the event: the body is not protected by the
//! signature, and a captured signature block verifies with any body for as long as its
//! timestamp is within the tolerance. Mailgun says to remember tokens and refuse a token seen
//! before; the dedup id is the token (signed, one per delivery), which does exactly that for
//! processors that deduplicate.

use std::time::Duration;

use serde::Deserialize;

use super::keys::Key;
use super::{Context, Named, Outgoing, Request, SchemeSpec, Signed, VerifyError};
use super::{headers, parse_unix_seconds};
use crate::describe::{Description, MalformedBody, lenient_string};

/// Where the signature is, named as in errors.
const SIGNATURE_FIELD: &str = "signature (in the body)";

/// The Mailgun scheme.
#[derive(Debug, Default)]
pub(crate) struct Mailgun;

impl Named for Mailgun {
    const NAME: &'static str = "mailgun";
}

/// The signed fields, wherever the body keeps them.
struct Signature {
    timestamp: String,
    token: String,
    signature: String,
}

impl SchemeSpec for Mailgun {
    fn signature_headers(&self) -> Vec<&str> {
        // Mailgun signs inside the body: no header carries a signature.
        Vec::new()
    }

    fn signs_timestamp(&self) -> bool {
        true
    }

    fn default_tolerance(&self) -> Duration {
        Duration::from_secs(900)
    }

    fn signs_body(&self) -> bool {
        false
    }

    fn verify(&self, ctx: &Context<'_>, request: &Request<'_>) -> Result<(), VerifyError> {
        let found = signature(request.body).ok_or(VerifyError::MissingHeader {
            header: SIGNATURE_FIELD.to_owned(),
        })?;
        let signature = headers::decode_hex(&found.signature, 32, SIGNATURE_FIELD)?;
        ctx.check_timestamp(parse_unix_seconds(&found.timestamp, SIGNATURE_FIELD)?)?;
        ctx.expect_mac(
            &[found.timestamp.as_bytes(), found.token.as_bytes()],
            &[signature],
        )
    }

    fn describe(&self, request: &Request<'_>, _keys: &[Key]) -> Result<Description, MalformedBody> {
        let event_type = if is_json(request.body) {
            let body: JsonBody =
                serde_json::from_slice(request.body).map_err(|_| MalformedBody::NotJsonObject)?;
            body.event_data.and_then(|e| e.event)
        } else {
            form_field(request.body, "event")
        };
        let token = signature(request.body).map(|s| s.token);
        Ok(Description {
            dedup_id: match &token {
                Some(token) => format!("token:{token}"),
                None => crate::describe::body_digest(event_type.as_deref(), request.body),
            },
            ..Description::unsigned_id(event_type, token, request.body)
        })
    }

    fn can_sign(&self, body: &[u8]) -> bool {
        !is_json(body)
            || serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body).is_ok()
    }

    /// Mailgun signs inside the body: a JSON object gets a `signature` object (re-serialised), a
    /// form gets the three fields appended. The token is derived from the delivery id.
    fn sign(&self, key: &Key, message: &Outgoing<'_>) -> Signed {
        use sha2::Digest as _;
        let timestamp = message.timestamp.to_string();
        let token =
            hex::encode(sha2::Sha256::digest(message.delivery_id.as_bytes()))[..50].to_owned();
        let signature = key.mac_hex(&[timestamp.as_bytes(), token.as_bytes()]);
        let body = if is_json(message.body) {
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(message.body)
                .ok()
                .and_then(|mut object| {
                    object.insert(
                        "signature".to_owned(),
                        serde_json::json!({
                            "timestamp": timestamp, "token": token, "signature": signature
                        }),
                    );
                    serde_json::to_vec(&object).ok()
                })
                .unwrap_or_else(|| message.body.to_vec())
        } else {
            let mut form = form_urlencoded::Serializer::new(String::new());
            for (k, v) in form_urlencoded::parse(message.body)
                .filter(|(k, _)| !matches!(&**k, "timestamp" | "token" | "signature"))
            {
                form.append_pair(&k, &v);
            }
            form.append_pair("timestamp", &timestamp)
                .append_pair("token", &token)
                .append_pair("signature", &signature);
            form.finish().into_bytes()
        };
        Signed::with_headers(
            &Outgoing {
                body: &body,
                ..*message
            },
            Vec::new(),
        )
    }
}

fn is_json(body: &[u8]) -> bool {
    body.trim_ascii_start().first() == Some(&b'{')
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// The signed fields of a JSON or form body.
fn signature(body: &[u8]) -> Option<Signature> {
    if is_json(body) {
        let body: JsonBody = serde_json::from_slice(body).ok()?;
        let s = body.signature?;
        Some(Signature {
            timestamp: s.timestamp?,
            token: s.token?,
            signature: s.signature?,
        })
    } else {
        Some(Signature {
            timestamp: form_field(body, "timestamp")?,
            token: form_field(body, "token")?,
            signature: form_field(body, "signature")?,
        })
    }
}

#[derive(Deserialize)]
struct JsonBody {
    #[serde(default)]
    signature: Option<JsonSignature>,
    #[serde(default, rename = "event-data")]
    event_data: Option<EventData>,
}

#[derive(Deserialize)]
struct JsonSignature {
    #[serde(default, deserialize_with = "string_or_number")]
    timestamp: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    token: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    signature: Option<String>,
}

#[derive(Deserialize)]
struct EventData {
    #[serde(default, deserialize_with = "lenient_string")]
    event: Option<String>,
}

/// Mailgun's docs show the timestamp as a string; accept a JSON integer too.
fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) if n.is_u64() => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::VerifyError;
    use super::super::test_support::*;
    use crate::verify::Request;

    // No vector is published (the docs' sample signature is fake): computed with Python's hmac.
    const KEY: &str = "key-mailgun-signing";
    const TS: i64 = 1_700_000_000;
    const TOKEN: &str = "e0b5477167110d68991efc6b9f89f0a11066af27834600e123";
    const SIG: &str = "464aca3c933f0941885cec9a3a7a9df046ec64473c45a6d3ea0223200593ebbe";

    fn json(sig: &str, ts: &str) -> Vec<u8> {
        format!(
            r#"{{"signature":{{"timestamp":"{ts}","token":"{TOKEN}","signature":"{sig}"}},"event-data":{{"event":"delivered","id":"CPgfbmQMTCKtHW6uIWtuVe"}}}}"#
        )
        .into_bytes()
    }

    fn check(body: &[u8], now: i64) -> Result<(), VerifyError> {
        let h = headers(&[]);
        verifier_with_tolerance(scheme("mailgun"), &[KEY], 900)
            .verify_request(&Request::post(&h, body), now)
    }

    #[test]
    fn json_and_form_bodies_verify() {
        assert_eq!(check(&json(SIG, "1700000000"), TS), Ok(()));
        let form = format!("sender=a%40b.c&timestamp={TS}&token={TOKEN}&signature={SIG}");
        assert_eq!(check(form.as_bytes(), TS + 900), Ok(()));
        let h = headers(&[]);
        let d = verifier(scheme("mailgun"), &[KEY])
            .describe(&Request::post(&h, &json(SIG, "1700000000")))
            .unwrap();
        assert_eq!(d.event_type.as_deref(), Some("delivered"));
        assert_eq!(d.dedup_id, format!("token:{TOKEN}"));
    }

    #[test]
    fn stale_wrong_key_and_missing_signature() {
        assert!(matches!(
            check(&json(SIG, "1700000000"), TS + 901),
            Err(VerifyError::TimestampTooOld { .. })
        ));
        // The timestamp is signed.
        assert_eq!(
            check(&json(SIG, "1700000001"), TS),
            Err(VerifyError::SignatureMismatch)
        );
        let h = headers(&[]);
        let other = verifier(scheme("mailgun"), &["other"])
            .verify_request(&Request::post(&h, &json(SIG, "1700000000")), TS);
        assert_eq!(other, Err(VerifyError::SignatureMismatch));
        for body in [&br#"{"event-data":{}}"#[..], b"", b"token=x"] {
            assert_eq!(
                check(body, TS).map_err(|e| e.code()),
                Err("missing_signature")
            );
        }
        assert_eq!(
            check(&json("zz", "1700000000"), TS).map_err(|e| e.code()),
            Err("malformed_signature")
        );
    }
}
