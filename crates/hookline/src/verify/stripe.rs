//! Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, HMAC-SHA256 over `"{t}.{body}"`,
//! keyed with the `whsec_...` secret's bytes as is. The event's `id` and `type` are in the
//! signed body. Entries of other schemes (`v0=`) and malformed entries are skipped, as
//! stripe-node's `parseHeader` does, so one bad entry never hides a valid signature.

use super::keys::{Key, hex_secret};
use super::{Context, Credentials, Named, Outgoing, Request, SchemeSpec, Signed, VerifyError};
use super::{headers, parse_unix_seconds};
use crate::describe::{Description, MalformedBody, TypedObject, json_object};

pub(crate) const SIGNATURE_HEADER: &str = "stripe-signature";

/// The Stripe scheme.
#[derive(Debug, Default)]
pub(crate) struct Stripe;

impl Named for Stripe {
    const NAME: &'static str = "stripe";
}

impl SchemeSpec for Stripe {
    fn signature_headers(&self) -> Vec<&str> {
        vec![SIGNATURE_HEADER]
    }

    fn signs_timestamp(&self) -> bool {
        true
    }

    fn verify(&self, ctx: &Context<'_>, request: &Request<'_>) -> Result<(), VerifyError> {
        let value = headers::single(request.headers, SIGNATURE_HEADER)?;
        let malformed = |reason| VerifyError::MalformedHeader {
            header: SIGNATURE_HEADER.to_owned(),
            reason,
        };
        let mut timestamp: Option<&str> = None;
        let mut signatures = Vec::new();
        for item in value.split(',') {
            let Some((key, val)) = item.trim().split_once('=') else {
                continue;
            };
            match key {
                // A second `t` means two headers were joined: which one was signed is unknowable.
                "t" if timestamp.is_some() => return Err(malformed("more than one timestamp")),
                "t" => timestamp = Some(val),
                "v1" => {
                    if let Ok(signature) = headers::decode_hex(val, 32, SIGNATURE_HEADER) {
                        signatures.push(signature);
                    }
                }
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or(malformed("no timestamp (t=)"))?;
        if signatures.is_empty() {
            return Err(malformed("no well-formed v1 signature"));
        }
        let unix = parse_unix_seconds(timestamp, SIGNATURE_HEADER)?;
        ctx.check_timestamp(unix)?;
        ctx.expect_mac(&[timestamp.as_bytes(), b".", request.body], &signatures)
    }

    fn describe(&self, request: &Request<'_>, _keys: &[Key]) -> Result<Description, MalformedBody> {
        let event: TypedObject = json_object(request.body)?;
        Ok(Description::signed_id(event.r#type, event.id, request.body))
    }

    fn sign(&self, key: &Key, message: &Outgoing<'_>) -> Signed {
        let t = message.timestamp.to_string();
        let signature = key.mac_hex(&[t.as_bytes(), b".", message.body]);
        Signed::with_headers(
            message,
            vec![(SIGNATURE_HEADER, format!("t={t},v1={signature}"))],
        )
    }

    fn local_credentials(&self, random: &[u8; 32]) -> Credentials {
        // The form Stripe's dashboard shows: `whsec_` and the rest.
        let secret = format!("whsec_{}", hex_secret(random));
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

    /// stripe/stripe-dotnet `EventUtilityTest.cs` with `Resources/event_test_signature.json`.
    const VECTOR_BODY: &[u8] =
        include_bytes!("../../tests/fixtures/vectors/stripe_event_test_signature.json");
    const VECTOR_T: i64 = 1_533_204_620;
    const VECTOR_SIG: &str = "2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7";

    fn header(value: &str) -> http::HeaderMap {
        headers(&[("Stripe-Signature", value)])
    }

    #[test]
    fn published_vector_verifies() {
        let v = verifier(scheme("stripe"), &["webhook_secret"]);
        let h = header(&format!("t={VECTOR_T},v1={VECTOR_SIG}"));
        assert_eq!(v.verify(&h, VECTOR_BODY, VECTOR_T + 10), Ok(()));
    }

    #[test]
    fn any_of_several_signatures_and_extra_schemes_are_accepted() {
        let v = verifier(scheme("stripe"), &["webhook_secret"]);
        let other = "0".repeat(64);
        let h = header(&format!(
            "t={VECTOR_T},v0={other},v1={other},v1={VECTOR_SIG},x=y"
        ));
        assert_eq!(v.verify(&h, VECTOR_BODY, VECTOR_T), Ok(()));
    }

    /// stripe-node's `parseHeader` skips what it cannot use: a malformed entry never hides a
    /// valid signature (issue 13, item 6).
    #[test]
    fn malformed_entries_are_skipped() {
        let v = verifier(scheme("stripe"), &["webhook_secret"]);
        let h = header(&format!(
            "t={VECTOR_T},garbage,v1=,v1=zz,v1={},v1={VECTOR_SIG}",
            &VECTOR_SIG[..10]
        ));
        assert_eq!(v.verify(&h, VECTOR_BODY, VECTOR_T), Ok(()));
        let only_bad = header(&format!("t={VECTOR_T},v1=zz,garbage"));
        assert_eq!(
            v.verify(&only_bad, VECTOR_BODY, VECTOR_T)
                .map_err(|e| e.code()),
            Err("malformed_signature")
        );
    }

    #[test]
    fn any_active_secret_verifies() {
        let v = verifier(scheme("stripe"), &["whsec_old", "webhook_secret"]);
        let h = header(&format!("t={VECTOR_T},v1={VECTOR_SIG}"));
        assert_eq!(v.verify(&h, VECTOR_BODY, VECTOR_T), Ok(()));
    }

    #[test]
    fn whsec_prefix_is_part_of_the_key() {
        let body = br#"{"id":"evt_1","type":"invoice.paid"}"#;
        let sig = hmac_sha256_hex(b"whsec_abc", &[b"100.", body]);
        let h = header(&format!("t=100,v1={sig}"));
        assert_eq!(
            verifier(scheme("stripe"), &["whsec_abc"]).verify(&h, body, 100),
            Ok(())
        );
        assert_eq!(
            verifier(scheme("stripe"), &["abc"]).verify(&h, body, 100),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn tampered_body_and_wrong_secret_fail() {
        let h = header(&format!("t={VECTOR_T},v1={VECTOR_SIG}"));
        let mut tampered = VECTOR_BODY.to_vec();
        tampered[10] ^= 1;
        let v = verifier(scheme("stripe"), &["webhook_secret"]);
        assert_eq!(
            v.verify(&h, &tampered, VECTOR_T),
            Err(VerifyError::SignatureMismatch)
        );
        let wrong = verifier(scheme("stripe"), &["whsec_wrong"]);
        assert_eq!(
            wrong.verify(&h, VECTOR_BODY, VECTOR_T),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn stale_and_future_timestamps_fail() {
        let v = verifier(scheme("stripe"), &["webhook_secret"]);
        let h = header(&format!("t={VECTOR_T},v1={VECTOR_SIG}"));
        assert_eq!(v.verify(&h, VECTOR_BODY, VECTOR_T + 300), Ok(()));
        assert_eq!(
            v.verify(&h, VECTOR_BODY, VECTOR_T + 301),
            Err(VerifyError::TimestampTooOld {
                age_secs: 301,
                tolerance_secs: 300
            })
        );
        assert_eq!(
            v.verify(&h, VECTOR_BODY, VECTOR_T - 301),
            Err(VerifyError::TimestampInFuture {
                ahead_secs: 301,
                tolerance_secs: 300
            })
        );
    }

    #[test]
    fn tolerance_is_configurable() {
        let v = verifier_with_tolerance(scheme("stripe"), &["webhook_secret"], 10);
        let h = header(&format!("t={VECTOR_T},v1={VECTOR_SIG}"));
        assert_eq!(v.verify(&h, VECTOR_BODY, VECTOR_T + 10), Ok(()));
        assert!(matches!(
            v.verify(&h, VECTOR_BODY, VECTOR_T + 11),
            Err(VerifyError::TimestampTooOld { .. })
        ));
    }

    #[test]
    fn empty_and_non_utf8_bodies_verify_when_signed() {
        let v = verifier(scheme("stripe"), &["whsec_k"]);
        for body in [&b""[..], &[0xff, 0xfe, 0x00, 0x80][..]] {
            let sig = hmac_sha256_hex(b"whsec_k", &[b"5.", body]);
            assert_eq!(v.verify(&header(&format!("t=5,v1={sig}")), body, 5), Ok(()));
        }
    }

    #[test]
    fn bad_headers_are_rejected_with_a_reason() {
        let v = verifier(scheme("stripe"), &["webhook_secret"]);
        let body = VECTOR_BODY;
        let t = VECTOR_T;
        assert_eq!(
            v.verify(&http::HeaderMap::new(), body, t)
                .map_err(|e| e.code()),
            Err("missing_signature")
        );
        let cases = [
            format!("v1={VECTOR_SIG}"),                             // no timestamp
            format!("t={t}"),                                       // no signature
            format!("t={t},v1={}", &VECTOR_SIG[..62]),              // short
            format!("t={t},v1={VECTOR_SIG}00"),                     // long
            format!("t={t},v1={}", "zz".repeat(32)),                // not hex
            format!("t=-{t},v1={VECTOR_SIG}"),                      // negative
            format!("t=abc,v1={VECTOR_SIG}"),                       // not a number
            format!("t={t},v1={VECTOR_SIG},t={t},v1={VECTOR_SIG}"), // two joined headers
            "garbage".to_owned(),
            format!("t={t};v1={VECTOR_SIG}"),
        ];
        for case in cases {
            assert_eq!(
                v.verify(&header(&case), body, t).map_err(|e| e.code()),
                Err("malformed_signature"),
                "{case}"
            );
        }
        let twice = headers(&[
            ("stripe-signature", &format!("t={t},v1={VECTOR_SIG}")),
            ("stripe-signature", &format!("t={t},v1={VECTOR_SIG}")),
        ]);
        assert!(matches!(
            v.verify(&twice, body, t),
            Err(VerifyError::DuplicateHeader { .. })
        ));
    }
}
