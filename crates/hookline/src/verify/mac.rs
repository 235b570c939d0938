//! Keyed HMAC states, key derivation per scheme and constant-time comparison.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

use super::{Algorithm, KeyError, Scheme};

/// Standard base64 alphabet that accepts input with or without padding, as the providers' own
/// libraries do.
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A key already absorbed into an HMAC state: signing clones the state instead of re-hashing the
/// key on every request.
#[derive(Clone)]
pub(crate) enum Key {
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<sha2::Sha256>),
    Sha512(Hmac<sha2::Sha512>),
}

impl Key {
    /// Derives the HMAC key for `scheme` from a secret as the provider shows it.
    /// `index` (1-based) names the secret in errors without revealing it.
    pub(crate) fn derive(scheme: &Scheme, secret: &str, index: usize) -> Result<Key, KeyError> {
        if secret.trim().is_empty() {
            return Err(KeyError::Empty { index });
        }
        let key_bytes: Vec<u8> = match scheme {
            // Standard Webhooks: the key is the base64 text after `whsec_`; libraries also accept
            // it without the prefix.
            Scheme::StandardWebhooks => {
                let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
                BASE64
                    .decode(encoded)
                    .map_err(|_| KeyError::NotBase64 { index })?
            }
            // Everyone else signs with the secret string's bytes as is (prefixes included).
            _ => secret.as_bytes().to_vec(),
        };
        if key_bytes.is_empty() {
            return Err(KeyError::Empty { index });
        }
        let algorithm = match scheme {
            Scheme::GenericHmac(generic) => generic.algorithm,
            _ => Algorithm::Sha256,
        };
        // HMAC accepts keys of any length, so these constructors cannot fail; map the error
        // anyway rather than panic.
        let key = match algorithm {
            Algorithm::Sha1 => Hmac::new_from_slice(&key_bytes).map(Key::Sha1),
            Algorithm::Sha256 => Hmac::new_from_slice(&key_bytes).map(Key::Sha256),
            Algorithm::Sha512 => Hmac::new_from_slice(&key_bytes).map(Key::Sha512),
        };
        key.map_err(|_| KeyError::Empty { index })
    }

    /// The MAC over the concatenation of `parts`.
    pub(crate) fn sign(&self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<M: Mac + Clone>(mac: &M, parts: &[&[u8]]) -> Vec<u8> {
            let mut mac = mac.clone();
            for part in parts {
                mac.update(part);
            }
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            Key::Sha1(mac) => run(mac, parts),
            Key::Sha256(mac) => run(mac, parts),
            Key::Sha512(mac) => run(mac, parts),
        }
    }
}

/// Compares two byte strings in time that depends only on their lengths (which are public).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn standard_webhooks_key_accepts_missing_prefix_and_padding() {
        let with_prefix = Key::derive(&Scheme::StandardWebhooks, "whsec_dGVzdA==", 1);
        let without_prefix = Key::derive(&Scheme::StandardWebhooks, "dGVzdA", 1);
        let (Ok(a), Ok(b)) = (with_prefix, without_prefix) else {
            panic!("both forms must derive a key");
        };
        assert_eq!(a.sign(&[b"x"]), b.sign(&[b"x"]));
    }

    #[test]
    fn standard_webhooks_key_rejects_non_base64() {
        let err = Key::derive(&Scheme::StandardWebhooks, "whsec_not base64!", 2).err();
        assert_eq!(err, Some(KeyError::NotBase64 { index: 2 }));
    }

    #[test]
    fn empty_secrets_are_rejected() {
        assert_eq!(
            Key::derive(&Scheme::Stripe, "  ", 3).err(),
            Some(KeyError::Empty { index: 3 })
        );
        assert_eq!(
            Key::derive(&Scheme::StandardWebhooks, "whsec_", 1).err(),
            Some(KeyError::Empty { index: 1 })
        );
    }
}
