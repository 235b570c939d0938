//! Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(secret, body)>`, a preset of
//! generic-hmac; no timestamp. The topic (`X-Shopify-Topic`) and webhook id
//! (`X-Shopify-Webhook-Id`) are headers the signature does not cover, so the dedup id is the
//! digest of topic and body.

use super::keys::Key;
use super::{Algorithm, Context, Encoding, GenericHmac, Named, Outgoing, Request, SchemeSpec};
use super::{Signed, VerifyError};
use crate::describe::{Description, MalformedBody, header};

pub(crate) const SIGNATURE_HEADER: &str = "x-shopify-hmac-sha256";
pub(crate) const TOPIC_HEADER: &str = "x-shopify-topic";
pub(crate) const WEBHOOK_ID_HEADER: &str = "x-shopify-webhook-id";

/// The Shopify scheme.
#[derive(Debug)]
pub(crate) struct Shopify(GenericHmac);

impl Default for Shopify {
    fn default() -> Self {
        Shopify(GenericHmac::preset(
            SIGNATURE_HEADER,
            Algorithm::Sha256,
            Encoding::Base64,
            None,
        ))
    }
}

impl Named for Shopify {
    const NAME: &'static str = "shopify";
}

impl SchemeSpec for Shopify {
    fn signature_headers(&self) -> Vec<&str> {
        vec![SIGNATURE_HEADER]
    }

    fn signs_timestamp(&self) -> bool {
        false
    }

    fn verify(&self, ctx: &Context<'_>, request: &Request<'_>) -> Result<(), VerifyError> {
        self.0.verify(ctx, request)
    }

    fn describe(&self, request: &Request<'_>, _keys: &[Key]) -> Result<Description, MalformedBody> {
        Ok(Description::unsigned_id(
            header(request.headers, TOPIC_HEADER),
            header(request.headers, WEBHOOK_ID_HEADER),
            request.body,
        ))
    }

    fn sign(&self, key: &Key, message: &Outgoing<'_>) -> Signed {
        // The provider sends its id with every delivery, unsigned.
        let mut signed = self.0.sign(key, message);
        if !message.delivery_id.is_empty() {
            signed
                .headers
                .push((WEBHOOK_ID_HEADER.to_owned(), message.delivery_id.to_owned()));
        }
        signed
    }
}

#[cfg(test)]
mod tests {
    use super::super::VerifyError;
    use super::super::test_support::*;

    const VECTOR_SIG: &str = "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=";

    fn header(value: &str) -> http::HeaderMap {
        headers(&[("X-Shopify-Hmac-Sha256", value)])
    }

    #[test]
    fn published_vector_verifies() {
        // Shopify/shopify-app-js webhooks validate.test.ts.
        let v = verifier(scheme("shopify"), &["test_secret_key"]);
        assert_eq!(
            v.verify(&header(VECTOR_SIG), br#"{"foo": "bar"}"#, 0),
            Ok(())
        );
        // Unpadded base64 is accepted too.
        assert_eq!(
            v.verify(
                &header(VECTOR_SIG.trim_end_matches('=')),
                br#"{"foo": "bar"}"#,
                0
            ),
            Ok(())
        );
    }

    #[test]
    fn rotation_tampering_and_wrong_secret() {
        let body = br#"{"foo": "bar"}"#;
        let rotated = verifier(scheme("shopify"), &["new_secret", "test_secret_key"]);
        assert_eq!(rotated.verify(&header(VECTOR_SIG), body, 0), Ok(()));
        let v = verifier(scheme("shopify"), &["test_secret_key"]);
        assert_eq!(
            v.verify(&header(VECTOR_SIG), br#"{"foo":"bar"}"#, 0),
            Err(VerifyError::SignatureMismatch)
        );
        let wrong = verifier(scheme("shopify"), &["other"]);
        assert_eq!(
            wrong.verify(&header(VECTOR_SIG), body, 0),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn empty_and_non_utf8_bodies_verify_when_signed() {
        let v = verifier(scheme("shopify"), &["k"]);
        for body in [&b""[..], &[0x80, 0x81][..]] {
            let h = header(&hmac_sha256_base64(b"k", &[body]));
            assert_eq!(v.verify(&h, body, 0), Ok(()));
        }
    }

    #[test]
    fn bad_headers_are_rejected() {
        let v = verifier(scheme("shopify"), &["test_secret_key"]);
        let body = br#"{"foo": "bar"}"#;
        assert_eq!(
            v.verify(&http::HeaderMap::new(), body, 0)
                .map_err(|e| e.code()),
            Err("missing_signature")
        );
        let hex_sig = hmac_sha256_hex(b"test_secret_key", &[body]);
        for case in [
            "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7", // truncated
            "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7gAAA==", // long
            "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g*", // not base64
            "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=,B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=",
            hex_sig.as_str(), // right MAC, wrong encoding
        ] {
            assert_eq!(
                v.verify(&header(case), body, 0).map_err(|e| e.code()),
                Err("malformed_signature"),
                "{case}"
            );
        }
    }
}
