//! Paddle Billing: `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=<hex>...]`, HMAC-SHA256 over
//! `"{ts}:{body}"` keyed with the whole secret (`pdl_ntfset_...`) as is, 5 s tolerance by
//! default (paddle-python-sdk `Notifications/Verifier.py`, `maximum_variance=5`; Paddle's
//! "Verify webhook signatures": "The SDK helper methods enforce a five-second timestamp
//! tolerance"). Any `h1` may match, as the Python SDK accepts; unknown keys are skipped like
//! the Node SDK does. `event_id` and `event_type` are in the signed body.

use std::time::Duration;

use serde::Deserialize;

use super::keys::Key;
use super::{Context, Named, Outgoing, Request, SchemeSpec, Signed, VerifyError};
use super::{headers, parse_unix_seconds};
use crate::describe::{Description, MalformedBody, json_object, lenient_string};

pub(crate) const SIGNATURE_HEADER: &str = "paddle-signature";

/// The Paddle Billing scheme.
#[derive(Debug, Default)]
pub(crate) struct Paddle;

impl Named for Paddle {
    const NAME: &'static str = "paddle";
}

impl SchemeSpec for Paddle {
    fn signature_headers(&self) -> Vec<&str> {
        vec![SIGNATURE_HEADER]
    }

    fn signs_timestamp(&self) -> bool {
        true
    }

    fn default_tolerance(&self) -> Duration {
        Duration::from_secs(5)
    }

    fn verify(&self, ctx: &Context<'_>, request: &Request<'_>) -> Result<(), VerifyError> {
        let value = headers::single(request.headers, SIGNATURE_HEADER)?;
        let malformed = |reason| VerifyError::MalformedHeader {
            header: SIGNATURE_HEADER.to_owned(),
            reason,
        };
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for (key, val) in value.split(';').filter_map(|e| e.trim().split_once('=')) {
            match key {
                "ts" if timestamp.is_some() => return Err(malformed("more than one timestamp")),
                "ts" => timestamp = Some(val),
                "h1" => signatures.extend(headers::decode_hex(val, 32, SIGNATURE_HEADER).ok()),
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or(malformed("no timestamp (ts=)"))?;
        if signatures.is_empty() {
            return Err(malformed("no well-formed h1 signature"));
        }
        ctx.check_timestamp(parse_unix_seconds(timestamp, SIGNATURE_HEADER)?)?;
        ctx.expect_mac(&[timestamp.as_bytes(), b":", request.body], &signatures)
    }

    fn describe(&self, request: &Request<'_>, _keys: &[Key]) -> Result<Description, MalformedBody> {
        let event: PaddleEvent = json_object(request.body)?;
        Ok(Description::signed_id(
            event.event_type,
            event.event_id,
            request.body,
        ))
    }

    fn sign(&self, key: &Key, message: &Outgoing<'_>) -> Signed {
        let ts = message.timestamp.to_string();
        let h1 = key.mac_hex(&[ts.as_bytes(), b":", message.body]);
        Signed::with_headers(
            message,
            vec![(SIGNATURE_HEADER, format!("ts={ts};h1={h1}"))],
        )
    }
}

#[derive(Deserialize)]
struct PaddleEvent {
    #[serde(default, deserialize_with = "lenient_string")]
    event_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    event_type: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::super::VerifyError;
    use super::super::test_support::*;
    use crate::describe::describe;
    use crate::verify::Request;

    // paddle-python-sdk tests/Unit/Notification/test_Verifier.py
    const SECRET: &str = "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_WvRO0eL4Bj9rgYYIBZY6wZhG4EHy9jzh";
    const TS: i64 = 1_696_195_954;
    const H1: &str = "d96299976a6eb066f484d7fde011ac56fc32b38fc9940bc419d6e537fdc6ef02";

    fn header(value: &str) -> http::HeaderMap {
        headers(&[("Paddle-Signature", value)])
    }

    fn paddle(secrets: &[&str]) -> crate::verify::Verifier {
        verifier_with_tolerance(scheme("paddle"), secrets, 5)
    }

    #[test]
    fn published_vector_verifies_with_any_h1() {
        let v = paddle(&[SECRET]);
        assert_eq!(
            v.verify(&header(&format!("ts={TS};h1={H1}")), b"hello-world", TS),
            Ok(())
        );
        // The SDK's own rotation case: a dummy h1 first.
        let h = header(&format!("ts={TS};h1=dummy;h1={H1};h2=unknown"));
        assert_eq!(v.verify(&h, b"hello-world", TS + 5), Ok(()));
        let rotated = paddle(&["pdl_ntfset_old", SECRET]);
        assert_eq!(
            rotated.verify(&header(&format!("ts={TS};h1={H1}")), b"hello-world", TS),
            Ok(())
        );
    }

    #[test]
    fn tampering_wrong_secret_and_five_seconds() {
        let v = paddle(&[SECRET]);
        let h = header(&format!("ts={TS};h1={H1}"));
        assert_eq!(
            v.verify(&h, b"hello-world!", TS),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            paddle(&["pdl_ntf_other"]).verify(&h, b"hello-world", TS),
            Err(VerifyError::SignatureMismatch)
        );
        assert!(matches!(
            v.verify(&h, b"hello-world", TS + 6),
            Err(VerifyError::TimestampTooOld { .. })
        ));
        assert_eq!(scheme("paddle").default_tolerance().as_secs(), 5);
    }

    #[test]
    fn bad_headers_are_rejected() {
        let v = paddle(&[SECRET]);
        for case in [
            format!("h1={H1}"),
            format!("ts={TS}"),
            format!("ts={TS};h1=zz"),
            format!("ts=abc;h1={H1}"),
            format!("ts={TS};ts={TS};h1={H1}"),
            "garbage".to_owned(),
        ] {
            assert_eq!(
                v.verify(&header(&case), b"hello-world", TS)
                    .map_err(|e| e.code()),
                Err("malformed_signature"),
                "{case}"
            );
        }
    }

    #[test]
    fn describes_event_id_and_type() {
        let body = br#"{"event_id":"evt_01h","event_type":"transaction.completed","notification_id":"ntf_1","data":{}}"#;
        let h = http::HeaderMap::new();
        let d = describe(&scheme("paddle"), &Request::post(&h, body)).unwrap();
        assert_eq!(d.event_type.as_deref(), Some("transaction.completed"));
        assert_eq!(d.dedup_id, "evt_01h");
    }
}
