//! Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(secret, body)>`; no timestamp.

use http::HeaderMap;

use super::{Context, VerifyError, headers};

pub(crate) const SIGNATURE_HEADER: &str = "x-shopify-hmac-sha256";

pub(crate) fn verify(
    ctx: &Context<'_>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), VerifyError> {
    let value = headers::single(headers, SIGNATURE_HEADER)?;
    let signature = headers::decode_base64(value, 32, SIGNATURE_HEADER)?;
    if ctx.any_matches(&[body], &[signature]) {
        Ok(())
    } else {
        Err(VerifyError::SignatureMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{Scheme, VerifyError};

    const VECTOR_SIG: &str = "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=";

    fn header(value: &str) -> http::HeaderMap {
        headers(&[("X-Shopify-Hmac-Sha256", value)])
    }

    #[test]
    fn published_vector_verifies() {
        // Shopify/shopify-app-js webhooks validate.test.ts.
        let v = verifier(Scheme::Shopify, &["test_secret_key"]);
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
        let rotated = verifier(Scheme::Shopify, &["new_secret", "test_secret_key"]);
        assert_eq!(rotated.verify(&header(VECTOR_SIG), body, 0), Ok(()));
        let v = verifier(Scheme::Shopify, &["test_secret_key"]);
        assert_eq!(
            v.verify(&header(VECTOR_SIG), br#"{"foo":"bar"}"#, 0),
            Err(VerifyError::SignatureMismatch)
        );
        let wrong = verifier(Scheme::Shopify, &["other"]);
        assert_eq!(
            wrong.verify(&header(VECTOR_SIG), body, 0),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn empty_and_non_utf8_bodies_verify_when_signed() {
        let v = verifier(Scheme::Shopify, &["k"]);
        for body in [&b""[..], &[0x80, 0x81][..]] {
            let h = header(&hmac_sha256_base64(b"k", &[body]));
            assert_eq!(v.verify(&h, body, 0), Ok(()));
        }
    }

    #[test]
    fn bad_headers_are_rejected() {
        let v = verifier(Scheme::Shopify, &["test_secret_key"]);
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
