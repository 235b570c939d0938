//! Standard Webhooks (and Svix): `webhook-id`, `webhook-timestamp` and a space-separated
//! `webhook-signature: v1,<base64> [v1,<base64> ...]` over `"{id}.{timestamp}.{body}"`,
//! HMAC-SHA256 keyed with the base64-decoded secret (after `whsec_`).
//! Svix's `svix-*` header names are read when the `webhook-*` ones are absent.

use http::HeaderMap;

use super::{Context, VerifyError, headers, parse_unix_seconds};

pub(crate) const ID_HEADERS: [&str; 2] = ["webhook-id", "svix-id"];
const TIMESTAMP_HEADERS: [&str; 2] = ["webhook-timestamp", "svix-timestamp"];
const SIGNATURE_HEADERS: [&str; 2] = ["webhook-signature", "svix-signature"];

/// The first of the header names present, read as a single header.
pub(crate) fn first_present<'a>(
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

pub(crate) fn verify(
    ctx: &Context<'_>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), VerifyError> {
    let (id, _) = first_present(headers, ID_HEADERS)?;
    let (timestamp, timestamp_header) = first_present(headers, TIMESTAMP_HEADERS)?;
    let (value, signature_header) = first_present(headers, SIGNATURE_HEADERS)?;
    let mut signatures = Vec::new();
    for entry in value.split(' ').filter(|e| !e.is_empty()) {
        let (version, encoded) = entry.split_once(',').ok_or(VerifyError::MalformedHeader {
            header: signature_header.to_owned(),
            reason: "an entry is not of the form v1,<base64>",
        })?;
        // Other versions (e.g. asymmetric `v1a`) are skipped, as the specification says.
        if version == "v1" {
            signatures.push(headers::decode_base64(encoded, 32, signature_header)?);
        }
    }
    if signatures.is_empty() {
        return Err(VerifyError::MalformedHeader {
            header: signature_header.to_owned(),
            reason: "no v1 signature",
        });
    }
    let unix = parse_unix_seconds(timestamp, timestamp_header)?;
    ctx.check_timestamp(unix)?;
    let parts: [&[u8]; 5] = [id.as_bytes(), b".", timestamp.as_bytes(), b".", body];
    if ctx.any_matches(&parts, &signatures) {
        Ok(())
    } else {
        Err(VerifyError::SignatureMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{Scheme, VerifyError};

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
        let v = verifier(Scheme::StandardWebhooks, &[KEY]);
        assert_eq!(v.verify(&signed(SIG), BODY, TS), Ok(()));
        // The key without its prefix is the same key.
        let bare = verifier(Scheme::StandardWebhooks, &[&KEY[6..]]);
        assert_eq!(bare.verify(&signed(SIG), BODY, TS), Ok(()));
    }

    #[test]
    fn svix_headers_are_accepted() {
        let v = verifier(Scheme::StandardWebhooks, &[KEY]);
        let h = headers(&[
            ("svix-id", ID),
            ("svix-timestamp", &TS.to_string()),
            ("svix-signature", SIG),
        ]);
        assert_eq!(v.verify(&h, BODY, TS), Ok(()));
    }

    #[test]
    fn several_signatures_and_other_versions() {
        let v = verifier(Scheme::StandardWebhooks, &[KEY]);
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

    #[test]
    fn rotation_tampering_and_wrong_secret() {
        let rotated = verifier(Scheme::StandardWebhooks, &["whsec_dGVzdA==", KEY]);
        assert_eq!(rotated.verify(&signed(SIG), BODY, TS), Ok(()));
        let v = verifier(Scheme::StandardWebhooks, &[KEY]);
        assert_eq!(
            v.verify(&signed(SIG), br#"{"test": 2432232315}"#, TS),
            Err(VerifyError::SignatureMismatch)
        );
        let wrong = verifier(Scheme::StandardWebhooks, &["whsec_dGVzdA=="]);
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
        let v = verifier(Scheme::StandardWebhooks, &[KEY]);
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
        let v = verifier(Scheme::StandardWebhooks, &["whsec_dGVzdA=="]);
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
        let v = verifier(Scheme::StandardWebhooks, &[KEY]);
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
