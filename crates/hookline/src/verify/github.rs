//! GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`, a preset of
//! generic-hmac. The event type (`X-GitHub-Event`) and delivery id (`X-GitHub-Delivery`) are
//! headers the signature does not cover, so the dedup id is the digest of type and body.
//!
//! The legacy SHA-1 `X-Hub-Signature` header is deliberately not accepted: GitHub always sends
//! the SHA-256 one, and accepting SHA-1 alone would let a downgrade through.

use super::keys::Key;
use super::{Algorithm, Context, Encoding, GenericHmac, Named, Outgoing, Request, SchemeSpec};
use super::{Signed, VerifyError};
use crate::describe::{Description, MalformedBody, header};

pub(crate) const SIGNATURE_HEADER: &str = "x-hub-signature-256";
pub(crate) const EVENT_HEADER: &str = "x-github-event";
pub(crate) const DELIVERY_HEADER: &str = "x-github-delivery";

/// The GitHub scheme.
#[derive(Debug)]
pub(crate) struct GitHub(GenericHmac);

impl Default for GitHub {
    fn default() -> Self {
        GitHub(GenericHmac::preset(
            SIGNATURE_HEADER,
            Algorithm::Sha256,
            Encoding::Hex,
            Some("sha256="),
        ))
    }
}

impl Named for GitHub {
    const NAME: &'static str = "github";
}

impl SchemeSpec for GitHub {
    fn signature_headers(&self) -> Vec<&str> {
        // GitHub sends the SHA-1 `x-hub-signature` beside the SHA-256 one it verifies.
        vec![SIGNATURE_HEADER, "x-hub-signature"]
    }

    fn signs_timestamp(&self) -> bool {
        false
    }

    fn verify(&self, ctx: &Context<'_>, request: &Request<'_>) -> Result<(), VerifyError> {
        self.0.verify(ctx, request)
    }

    fn describe(&self, request: &Request<'_>, _keys: &[Key]) -> Result<Description, MalformedBody> {
        Ok(Description::unsigned_id(
            header(request.headers, EVENT_HEADER),
            header(request.headers, DELIVERY_HEADER),
            request.body,
        ))
    }

    fn sign(&self, key: &Key, message: &Outgoing<'_>) -> Signed {
        // The provider sends its id with every delivery, unsigned.
        let mut signed = self.0.sign(key, message);
        if !message.delivery_id.is_empty() {
            signed
                .headers
                .push((DELIVERY_HEADER.to_owned(), message.delivery_id.to_owned()));
        }
        signed
    }
}

#[cfg(test)]
mod tests {
    use super::super::VerifyError;
    use super::super::test_support::*;

    fn header(value: &str) -> http::HeaderMap {
        headers(&[("X-Hub-Signature-256", value)])
    }

    #[test]
    fn published_vectors_verify() {
        // docs.github.com "Validating webhook deliveries".
        let v = verifier(scheme("github"), &["It's a Secret to Everybody"]);
        let h = header("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
        assert_eq!(v.verify(&h, b"Hello, World!", 0), Ok(()));
        // octokit/webhooks-methods.js test/sign.test.ts.
        let v = verifier(scheme("github"), &["mysecret"]);
        let h = header("sha256=4864d2759938a15468b5df9ade20bf161da9b4f737ea61794142f3484236bda3");
        assert_eq!(v.verify(&h, br#"{"foo":"bar"}"#, 0), Ok(()));
    }

    #[test]
    fn uppercase_hex_and_rotation_are_accepted() {
        let v = verifier(scheme("github"), &["old", "mysecret"]);
        let h = header("sha256=4864D2759938A15468B5DF9ADE20BF161DA9B4F737EA61794142F3484236BDA3");
        assert_eq!(v.verify(&h, br#"{"foo":"bar"}"#, 0), Ok(()));
    }

    #[test]
    fn tampered_body_and_wrong_secret_fail() {
        let h = header("sha256=4864d2759938a15468b5df9ade20bf161da9b4f737ea61794142f3484236bda3");
        let v = verifier(scheme("github"), &["mysecret"]);
        assert_eq!(
            v.verify(&h, br#"{"foo":"baz"}"#, 0),
            Err(VerifyError::SignatureMismatch)
        );
        let v = verifier(scheme("github"), &["notmysecret"]);
        assert_eq!(
            v.verify(&h, br#"{"foo":"bar"}"#, 0),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn empty_and_non_utf8_bodies_verify_when_signed() {
        let v = verifier(scheme("github"), &["s"]);
        for body in [&b""[..], &[0xc3, 0x28, 0xff][..]] {
            let h = header(&format!("sha256={}", hmac_sha256_hex(b"s", &[body])));
            assert_eq!(v.verify(&h, body, 0), Ok(()));
        }
    }

    #[test]
    fn bad_headers_are_rejected() {
        let v = verifier(scheme("github"), &["mysecret"]);
        let body = br#"{"foo":"bar"}"#;
        let good = "4864d2759938a15468b5df9ade20bf161da9b4f737ea61794142f3484236bda3";
        let sha1_only = headers(&[(
            "x-hub-signature",
            "sha1=0123456789abcdef0123456789abcdef01234567",
        )]);
        assert_eq!(
            v.verify(&sha1_only, body, 0).map_err(|e| e.code()),
            Err("missing_signature")
        );
        assert_eq!(
            v.verify(&header(" "), body, 0).map_err(|e| e.code()),
            Err("missing_signature")
        );
        for case in [
            good.to_owned(),                        // no prefix
            format!("sha1={good}"),                 // wrong prefix
            format!("sha256={}", &good[..63]),      // odd length
            format!("sha256={}", &good[..62]),      // short
            format!("sha256={good}ab"),             // long
            format!("sha256={}", "g".repeat(64)),   // not hex
            format!("sha256={good},sha256={good}"), // two joined headers
        ] {
            assert_eq!(
                v.verify(&header(&case), body, 0).map_err(|e| e.code()),
                Err("malformed_signature"),
                "{case}"
            );
        }
        let twice = headers(&[
            ("x-hub-signature-256", &format!("sha256={good}")),
            ("x-hub-signature-256", &format!("sha256={good}")),
        ]);
        assert!(matches!(
            v.verify(&twice, body, 0),
            Err(VerifyError::DuplicateHeader { .. })
        ));
    }
}
