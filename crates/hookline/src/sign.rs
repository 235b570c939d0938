//! Signing deliveries exactly as each provider does: for `cargo xtask send`, load tests and your
//! own tests. The inverse of [`crate::verify`], from the same key derivation.

use base64::Engine as _;

use crate::verify::mac::Key;
use crate::verify::{KeyError, Scheme};

/// Signs deliveries for one scheme with one secret.
#[derive(Clone)]
pub struct Signer {
    scheme: Scheme,
    key: Key,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("scheme", &self.scheme)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Signer {
    /// A signer for `scheme` with `secret` as the provider shows it.
    pub fn new(scheme: Scheme, secret: &str) -> Result<Signer, KeyError> {
        let key = Key::derive(&scheme, secret, 1)?;
        Ok(Signer { scheme, key })
    }

    /// The signature headers for `body` sent at `timestamp` (Unix seconds). `delivery_id` is
    /// signed by Standard Webhooks (`webhook-id`); the other schemes ignore it here.
    pub fn headers(&self, body: &[u8], timestamp: i64, delivery_id: &str) -> Vec<(String, String)> {
        let t = timestamp.to_string();
        let hex = |parts: &[&[u8]]| hex::encode(self.key.sign(parts));
        let b64 = |parts: &[&[u8]]| {
            base64::engine::general_purpose::STANDARD.encode(self.key.sign(parts))
        };
        let pairs: Vec<(&str, String)> = match &self.scheme {
            Scheme::Stripe => vec![(
                "stripe-signature",
                format!("t={t},v1={}", hex(&[t.as_bytes(), b".", body])),
            )],
            Scheme::GitHub => vec![("x-hub-signature-256", format!("sha256={}", hex(&[body])))],
            Scheme::Slack => vec![
                ("x-slack-request-timestamp", t.clone()),
                (
                    "x-slack-signature",
                    format!("v0={}", hex(&[b"v0:", t.as_bytes(), b":", body])),
                ),
            ],
            Scheme::Shopify => vec![("x-shopify-hmac-sha256", b64(&[body]))],
            Scheme::StandardWebhooks => vec![
                ("webhook-id", delivery_id.to_owned()),
                ("webhook-timestamp", t.clone()),
                (
                    "webhook-signature",
                    format!(
                        "v1,{}",
                        b64(&[delivery_id.as_bytes(), b".", t.as_bytes(), b".", body])
                    ),
                ),
            ],
            Scheme::GenericHmac(generic) => {
                let raw = self.key.sign(&[body]);
                let encoded = match generic.encoding {
                    crate::verify::Encoding::Hex => hex::encode(raw),
                    crate::verify::Encoding::Base64 => {
                        base64::engine::general_purpose::STANDARD.encode(raw)
                    }
                };
                vec![(
                    generic.header(),
                    format!("{}{encoded}", generic.prefix.as_deref().unwrap_or_default()),
                )]
            }
        };
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::verify::test_support::headers;
    use crate::verify::{GenericHmac, SigningSecret, Verifier};

    #[test]
    fn what_a_signer_signs_verifies_for_every_scheme() {
        let schemes = [
            (Scheme::Stripe, "whsec_abc"),
            (Scheme::GitHub, "It's a Secret to Everybody"),
            (Scheme::Slack, "8f742231b10e8888abcd99yyyzzz85a5"),
            (Scheme::Shopify, "test_secret_key"),
            (
                Scheme::StandardWebhooks,
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            ),
            (Scheme::GenericHmac(GenericHmac::default()), "k"),
        ];
        for (scheme, secret) in schemes {
            let signer = Signer::new(scheme.clone(), secret).unwrap();
            let body = br#"{"id":"evt_1"}"#;
            let pairs = signer.headers(body, 1_700_000_000, "msg_1");
            let refs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let verifier = Verifier::new(
                scheme.clone(),
                &[SigningSecret::new(secret)],
                Duration::from_secs(300),
            )
            .unwrap();
            assert_eq!(
                verifier.verify(&headers(&refs), body, 1_700_000_000),
                Ok(()),
                "{scheme}"
            );
        }
    }

    #[test]
    fn signer_matches_the_published_vectors() {
        let github = Signer::new(Scheme::GitHub, "It's a Secret to Everybody").unwrap();
        assert_eq!(
            github.headers(b"Hello, World!", 0, "")[0].1,
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        let svix = Signer::new(
            Scheme::StandardWebhooks,
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        )
        .unwrap();
        let pairs = svix.headers(
            br#"{"test": 2432232314}"#,
            1_614_265_330,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
        );
        assert_eq!(
            pairs[2].1,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert!(!format!("{github:?}").contains("Secret"));
    }
}
