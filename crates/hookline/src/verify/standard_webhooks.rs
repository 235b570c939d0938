//! Standard Webhooks (and Svix): `webhook-id`, `webhook-timestamp` and a space-separated
//! `webhook-signature: v1,<base64> [v1,<base64> ...]` over `"{id}.{timestamp}.{body}"`,
//! HMAC-SHA256 keyed with the base64-decoded secret (after `whsec_`).
//! Svix's `svix-*` header names are read when the `webhook-*` ones are absent.

use http::HeaderMap;

use super::keys::{BASE64, Key};
use super::{Context, Credentials, Named, Outgoing, Request, SchemeSpec, Signed, VerifyError};
use super::{headers, parse_unix_seconds};
use crate::describe::{Description, MalformedBody, TypedObject, header, json_object};

pub(crate) const ID_HEADERS: [&str; 2] = ["webhook-id", "svix-id"];
const TIMESTAMP_HEADERS: [&str; 2] = ["webhook-timestamp", "svix-timestamp"];
const SIGNATURE_HEADERS: [&str; 2] = ["webhook-signature", "svix-signature"];

/// The first of the header names present, read as a single header.
fn first_present<'a>(
    headers: &'a HeaderMap,
    names: [&'static str; 2],
) -> Result<(&'a str, &'static str), VerifyError> {
    for name in names {
        if let Some(value) = headers::optional(headers, name)? {
            return Ok((value, name));
        }
    }
    Err(VerifyError::MissingHeader {
        header: names[0].to_owned(),
    })
}

/// The Standard Webhooks scheme.
#[derive(Debug, Default)]
pub(crate) struct StandardWebhooks;

impl Named for StandardWebhooks {
    const NAME: &'static str = "standard-webhooks";
}

impl SchemeSpec for StandardWebhooks {
    fn signature_headers(&self) -> Vec<&str> {
        SIGNATURE_HEADERS.to_vec()
    }

    fn signs_timestamp(&self) -> bool {
        true
    }

    /// The key is the base64 text after `whsec_`; libraries also accept it without the prefix.
    fn key(&self, secret: &str) -> Result<Key, &'static str> {
        use base64::Engine as _;
        let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
        BASE64
            .decode(encoded)
            .ok()
            .and_then(|bytes| Key::hmac(super::Algorithm::Sha256, &bytes))
            .ok_or("a Standard Webhooks key: `whsec_` followed by base64")
    }

    fn verify(&self, ctx: &Context<'_>, request: &Request<'_>) -> Result<(), VerifyError> {
        let headers = request.headers;
        let (id, _) = first_present(headers, ID_HEADERS)?;
        let (timestamp, timestamp_header) = first_present(headers, TIMESTAMP_HEADERS)?;
        let (value, signature_header) = first_present(headers, SIGNATURE_HEADERS)?;
        // Other versions (e.g. asymmetric `v1a`) and malformed entries are skipped, as the
        // specification's reference libraries do: one bad entry never hides a valid signature.
        let signatures: Vec<Vec<u8>> = value
            .split(' ')
            .filter_map(|entry| entry.split_once(','))
            .filter(|(version, _)| *version == "v1")
            .filter_map(|(_, encoded)| headers::decode_base64(encoded, 32, signature_header).ok())
            .collect();
        if signatures.is_empty() {
            return Err(VerifyError::MalformedHeader {
                header: signature_header.to_owned(),
                reason: "no well-formed v1 signature",
            });
        }
        let unix = parse_unix_seconds(timestamp, timestamp_header)?;
        ctx.check_timestamp(unix)?;
        let parts: [&[u8]; 5] = [
            id.as_bytes(),
            b".",
            timestamp.as_bytes(),
            b".",
            request.body,
        ];
        ctx.expect_mac(&parts, &signatures)
    }

    /// `webhook-id` is signed; the event type is the body's `type`.
    fn describe(&self, request: &Request<'_>, _keys: &[Key]) -> Result<Description, MalformedBody> {
        let event: TypedObject = json_object(request.body)?;
        let id = ID_HEADERS
            .iter()
            .find_map(|name| header(request.headers, name));
        Ok(Description::signed_id(event.r#type, id, request.body))
    }

    fn sign(&self, key: &Key, message: &Outgoing<'_>) -> Signed {
        let t = message.timestamp.to_string();
        let id = message.delivery_id;
        let signature = key.mac_base64(&[id.as_bytes(), b".", t.as_bytes(), b".", message.body]);
        Signed::with_headers(
            message,
            vec![
                (ID_HEADERS[0], id.to_owned()),
                (TIMESTAMP_HEADERS[0], t),
                (SIGNATURE_HEADERS[0], format!("v1,{signature}")),
            ],
        )
    }

    fn local_credentials(&self, random: &[u8; 32]) -> Credentials {
        use base64::Engine as _;
        // The form the Svix dashboard shows: `whsec_` and 24 bytes of base64.
        let secret = format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(&random[..24])
        );
        Credentials {
            verify: secret.clone(),
            sign: secret,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::VerifyError;
    use super::super::test_support::*;

    // standard-webhooks/standard-webhooks libraries/python/tests/test_webhooks.py
    const KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn signed(sig: &str) -> http::HeaderMap {
        headers(&[
            ("webhook-id", ID),
            ("webhook-timestamp", &TS.to_string()),
            ("webhook-signature", sig),
        ])
    }

    #[test]
    fn published_vector_verifies() {
        let v = verifier(scheme("standard-webhooks"), &[KEY]);
        assert_eq!(v.verify(&signed(SIG), BODY, TS), Ok(()));
        // The key without its prefix is the same key.
        let bare = verifier(scheme("standard-webhooks"), &[&KEY[6..]]);
        assert_eq!(bare.verify(&signed(SIG), BODY, TS), Ok(()));
    }

    #[test]
    fn svix_headers_are_accepted() {
        let v = verifier(scheme("standard-webhooks"), &[KEY]);
        let h = headers(&[
            ("svix-id", ID),
            ("svix-timestamp", &TS.to_string()),
            ("svix-signature", SIG),
        ]);
        assert_eq!(v.verify(&h, BODY, TS), Ok(()));
    }

    #[test]
    fn several_signatures_and_other_versions() {
        let v = verifier(scheme("standard-webhooks"), &[KEY]);
        let other = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        let h = signed(&format!("v1a,c29tZXRoaW5nIGVsc2U= {other} {SIG}"));
        assert_eq!(v.verify(&h, BODY, TS), Ok(()));
        let only_other_versions = signed("v2,AAAA v1a,AAAA");
        assert_eq!(
            v.verify(&only_other_versions, BODY, TS)
                .map_err(|e| e.code()),
            Err("malformed_signature")
        );
    }

    /// The reference JavaScript library skips entries it cannot read (the Python one raises):
    /// one malformed entry never hides a valid signature (issue 13, item 6).
    #[test]
    fn malformed_entries_are_skipped() {
        let v = verifier(scheme("standard-webhooks"), &[KEY]);
        let h = signed(&format!("garbage v1,not*base64 v1,AAAA v1, {SIG}"));
        assert_eq!(v.verify(&h, BODY, TS), Ok(()));
        assert_eq!(
            v.verify(&signed("garbage v1,not*base64"), BODY, TS)
                .map_err(|e| e.code()),
            Err("malformed_signature")
        );
    }

    #[test]
    fn rotation_tampering_and_wrong_secret() {
        let rotated = verifier(scheme("standard-webhooks"), &["whsec_dGVzdA==", KEY]);
        assert_eq!(rotated.verify(&signed(SIG), BODY, TS), Ok(()));
        let v = verifier(scheme("standard-webhooks"), &[KEY]);
        assert_eq!(
            v.verify(&signed(SIG), br#"{"test": 2432232315}"#, TS),
            Err(VerifyError::SignatureMismatch)
        );
        let wrong = verifier(scheme("standard-webhooks"), &["whsec_dGVzdA=="]);
        assert_eq!(
            wrong.verify(&signed(SIG), BODY, TS),
            Err(VerifyError::SignatureMismatch)
        );
        // The id is signed.
        let mut other_id = signed(SIG);
        other_id.insert("webhook-id", http::HeaderValue::from_static("msg_other"));
        assert_eq!(
            v.verify(&other_id, BODY, TS),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn stale_and_future_timestamps_fail() {
        let v = verifier(scheme("standard-webhooks"), &[KEY]);
        assert!(matches!(
            v.verify(&signed(SIG), BODY, TS + 301),
            Err(VerifyError::TimestampTooOld { .. })
        ));
        assert!(matches!(
            v.verify(&signed(SIG), BODY, TS - 301),
            Err(VerifyError::TimestampInFuture { .. })
        ));
    }

    #[test]
    fn empty_and_non_utf8_bodies_verify_when_signed() {
        let v = verifier(scheme("standard-webhooks"), &["whsec_dGVzdA=="]);
        for body in [&b""[..], &[0xfe, 0xff][..]] {
            let sig = hmac_sha256_base64(b"test", &[b"id1.9.", body]);
            let h = headers(&[
                ("webhook-id", "id1"),
                ("webhook-timestamp", "9"),
                ("webhook-signature", &format!("v1,{sig}")),
            ]);
            assert_eq!(v.verify(&h, body, 9), Ok(()));
        }
    }

    #[test]
    fn bad_headers_are_rejected() {
        let v = verifier(scheme("standard-webhooks"), &[KEY]);
        for missing in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            let mut h = signed(SIG);
            h.remove(missing);
            assert_eq!(
                v.verify(&h, BODY, TS).map_err(|e| e.code()),
                Err("missing_signature"),
                "{missing}"
            );
        }
        for case in [
            "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", // no version
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O", // truncated
            "v1,83484cf52b04f8e4d3251aded9882ad4b26519537b8524425594d20e2c9d4e1", // hex, not base64
            "v1,!!!!",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=,v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ] {
            assert_eq!(
                v.verify(&signed(case), BODY, TS).map_err(|e| e.code()),
                Err("malformed_signature"),
                "{case}"
            );
        }
        let mut bad_ts = signed(SIG);
        bad_ts.insert(
            "webhook-timestamp",
            http::HeaderValue::from_static("-1614265330"),
        );
        assert_eq!(
            v.verify(&bad_ts, BODY, TS).map_err(|e| e.code()),
            Err("malformed_signature")
        );
        let mut twice = signed(SIG);
        twice.append("webhook-id", http::HeaderValue::from_static("msg_2"));
        assert!(matches!(
            v.verify(&twice, BODY, TS),
            Err(VerifyError::DuplicateHeader { .. })
        ));
    }
}
