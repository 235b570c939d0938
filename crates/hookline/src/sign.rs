//! Signing deliveries exactly as each provider does: for `cargo xtask send`, load tests and your
//! own tests. The inverse of [`crate::verify`]; each scheme module signs its own way.

use crate::verify::keys::Key;
use crate::verify::{KeyError, Outgoing, Scheme, Signed, Unsignable, key_of};

/// The URL tools sign for when they have no real one (the fuzz seeds and targets): a URL-signed
/// scheme's delivery verifies only at the URL it was signed for.
pub const SAMPLE_URL: &str = "https://hooks.example.com/webhooks/sample?src=hookline";

/// Signs deliveries for one scheme with one secret (the private key of public-key schemes).
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
        let key = key_of(secret, 1, |s| scheme.spec().signing_key(s))?;
        Ok(Signer { scheme, key })
    }

    /// The scheme it signs for.
    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// Signs `message` as the provider would send it; fails only for a body the scheme cannot
    /// sign inside ([`Scheme::can_sign`]).
    pub fn sign(&self, message: &Outgoing<'_>) -> Result<Signed, Unsignable> {
        if self.scheme.can_sign(message.body) {
            Ok(self.scheme.spec().sign(&self.key, message))
        } else {
            Err(Unsignable {
                scheme: self.scheme.name(),
            })
        }
    }

    /// The headers for `body` sent at `timestamp` (Unix seconds) with `delivery_id`, for schemes
    /// that sign neither the URL nor inside the body (see [`Signer::sign`] for those).
    pub fn headers(
        &self,
        body: &[u8],
        timestamp: i64,
        delivery_id: &str,
    ) -> Result<Vec<(String, String)>, Unsignable> {
        self.sign(&Outgoing {
            url: "",
            body,
            timestamp,
            delivery_id,
        })
        .map(|signed| signed.headers)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::verify::test_support::{headers, scheme};
    use crate::verify::{Request, SigningSecret, Verifier};

    #[test]
    fn what_a_signer_signs_verifies_for_every_scheme_and_nothing_else() {
        for name in Scheme::NAMES {
            let scheme = scheme(name);
            let credentials = scheme.local_credentials(&[7; 32]);
            let signer = Signer::new(scheme.clone(), &credentials.sign).unwrap();
            let signed = signer
                .sign(&Outgoing {
                    url: "https://abc123.execute-api.eu-west-1.amazonaws.com/hooks/x?a=1",
                    body: br#"{"id":"evt_1","type":"a.b"}"#,
                    timestamp: 1_700_000_000,
                    delivery_id: "msg_1",
                })
                .unwrap();
            let refs: Vec<(&str, &str)> = signed
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let verifier = Verifier::new(
                scheme.clone(),
                &[SigningSecret::new(credentials.verify)],
                Duration::from_secs(300),
            )
            .unwrap();
            let headers = headers(&refs);
            let request = Request {
                method: "POST",
                url: &signed.url,
                headers: &headers,
                body: &signed.body,
            };
            assert_eq!(
                verifier.verify_request(&request, 1_700_000_000),
                Ok(()),
                "{name}"
            );
            // Another key, another URL (URL-signed), a stale clock (signed timestamps): refused.
            let other = scheme.local_credentials(&[8; 32]);
            let wrong_key = Verifier::new(
                scheme.clone(),
                &[SigningSecret::new(other.verify)],
                Duration::from_secs(300),
            )
            .unwrap();
            assert!(
                wrong_key.verify_request(&request, 1_700_000_000).is_err(),
                "{name}"
            );
            if scheme.signs_url() {
                let elsewhere = Request {
                    url: "https://abc123.execute-api.eu-west-1.amazonaws.com/hooks/y?a=1",
                    ..request
                };
                assert!(
                    verifier.verify_request(&elsewhere, 1_700_000_000).is_err(),
                    "{name}"
                );
            }
            if scheme.signs_timestamp() {
                let late = 1_700_000_000 + 301;
                assert!(verifier.verify_request(&request, late).is_err(), "{name}");
            }
            // The signature covers the body (Mailgun signs only a token inside it).
            if !scheme.signs_body() {
                continue;
            }
            let mut changed = signed.body.clone();
            changed.push(b' ');
            let request = Request {
                body: &changed,
                ..request
            };
            assert!(
                verifier.verify_request(&request, 1_700_000_000).is_err(),
                "{name}"
            );
        }
    }

    /// What a console masks is what carries the signature: without those headers a signed
    /// delivery no longer verifies (Mailgun, which signs inside the body, lists none).
    #[test]
    fn signature_headers_are_what_carries_the_signature() {
        for name in Scheme::NAMES {
            let scheme = scheme(name);
            let names = scheme.signature_headers();
            assert!(
                names.iter().all(|n| *n == n.to_ascii_lowercase()),
                "{name}: {names:?}"
            );
            if !scheme.signs_body() {
                assert!(names.is_empty(), "{name}");
                continue;
            }
            assert!(!names.is_empty(), "{name}");
            let credentials = scheme.local_credentials(&[7; 32]);
            let signed = Signer::new(scheme.clone(), &credentials.sign)
                .unwrap()
                .sign(&Outgoing {
                    url: "https://hooks.example.com/x",
                    body: br#"{"id":"evt_1","type":"a.b"}"#,
                    timestamp: 1_700_000_000,
                    delivery_id: "msg_1",
                })
                .unwrap();
            let kept: Vec<(&str, &str)> = signed
                .headers
                .iter()
                .filter(|(k, _)| !names.contains(&k.to_ascii_lowercase().as_str()))
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            assert!(kept.len() < signed.headers.len(), "{name}: nothing masked");
            let verifier = Verifier::new(
                scheme.clone(),
                &[SigningSecret::new(credentials.verify)],
                Duration::from_secs(300),
            )
            .unwrap();
            let headers = headers(&kept);
            let request = Request {
                method: "POST",
                url: &signed.url,
                headers: &headers,
                body: &signed.body,
            };
            assert!(
                verifier.verify_request(&request, 1_700_000_000).is_err(),
                "{name}"
            );
        }
    }

    #[test]
    fn signer_matches_the_published_vectors() {
        let github = Signer::new(scheme("github"), "It's a Secret to Everybody").unwrap();
        assert_eq!(
            github.headers(b"Hello, World!", 0, "").unwrap()[0].1,
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        let svix = Signer::new(
            scheme("standard-webhooks"),
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        )
        .unwrap();
        let pairs = svix
            .headers(
                br#"{"test": 2432232314}"#,
                1_614_265_330,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
            )
            .unwrap();
        assert_eq!(
            pairs[2].1,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert!(!format!("{github:?}").contains("Secret"));
    }
}
