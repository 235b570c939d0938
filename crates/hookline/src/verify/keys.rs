//! Keys and their algorithms, shared by the schemes: HMAC states, constant-time comparison and
//! the base64 alphabet the providers' libraries accept. Which key a scheme derives from a
//! secret is the scheme's business (its `key` method).

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

use super::Algorithm;

/// Standard base64 alphabet that accepts input with or without padding, as the providers' own
/// libraries do.
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A key a scheme verifies (or signs) with.
// A verifier holds one key per active secret: the HMAC state stays inline, the size is moot.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub(crate) enum Key {
    /// A shared secret already absorbed into an HMAC state: signing clones the state instead of
    /// re-hashing the key on every request.
    Hmac(HmacKey),
    /// An Ed25519 public key (verifying).
    Ed25519Public(ed25519_dalek::VerifyingKey),
    /// An Ed25519 private key (signing, for tools and tests).
    Ed25519Private(Box<ed25519_dalek::SigningKey>),
    /// An ECDSA P-256 public key (verifying).
    P256Public(p256::ecdsa::VerifyingKey),
    /// An ECDSA P-256 private key (signing, for tools and tests).
    P256Private(Box<p256::ecdsa::SigningKey>),
}

/// A keyed HMAC state of one algorithm.
#[derive(Clone)]
pub(crate) enum HmacKey {
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<sha2::Sha256>),
    Sha512(Hmac<sha2::Sha512>),
}

impl Key {
    /// An HMAC key of `algorithm` over `bytes`; `None` for no bytes.
    pub(crate) fn hmac(algorithm: Algorithm, bytes: &[u8]) -> Option<Key> {
        if bytes.is_empty() {
            return None;
        }
        // HMAC accepts keys of any length, so these constructors cannot fail.
        let key = match algorithm {
            Algorithm::Sha1 => Hmac::new_from_slice(bytes).ok().map(HmacKey::Sha1),
            Algorithm::Sha256 => Hmac::new_from_slice(bytes).ok().map(HmacKey::Sha256),
            Algorithm::Sha512 => Hmac::new_from_slice(bytes).ok().map(HmacKey::Sha512),
        };
        key.map(Key::Hmac)
    }

    /// HMAC-SHA256 keyed with a secret's bytes as is: what most providers do.
    pub(crate) fn hmac_sha256(secret: &str) -> Option<Key> {
        Key::hmac(Algorithm::Sha256, secret.as_bytes())
    }

    /// The MAC over the concatenation of `parts`; `None` for a key that is not an HMAC key.
    pub(crate) fn mac(&self, parts: &[&[u8]]) -> Option<Vec<u8>> {
        fn run<M: Mac + Clone>(mac: &M, parts: &[&[u8]]) -> Vec<u8> {
            let mut mac = mac.clone();
            for part in parts {
                mac.update(part);
            }
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            Key::Hmac(HmacKey::Sha1(mac)) => Some(run(mac, parts)),
            Key::Hmac(HmacKey::Sha256(mac)) => Some(run(mac, parts)),
            Key::Hmac(HmacKey::Sha512(mac)) => Some(run(mac, parts)),
            _ => None,
        }
    }

    /// The MAC over `parts`, hex-encoded (empty for a non-HMAC key).
    pub(crate) fn mac_hex(&self, parts: &[&[u8]]) -> String {
        self.mac(parts).map(hex::encode).unwrap_or_default()
    }

    /// The MAC over `parts`, standard base64 with padding (empty for a non-HMAC key).
    pub(crate) fn mac_base64(&self, parts: &[&[u8]]) -> String {
        self.mac(parts)
            .map(|m| base64::engine::general_purpose::STANDARD.encode(m))
            .unwrap_or_default()
    }
}

/// Compares two byte strings in time that depends only on their lengths (which are public).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// A local sample secret: random bytes as hex, the form most dashboards show.
pub(crate) fn hex_secret(random: &[u8; 32]) -> String {
    hex::encode(random)
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
    fn hmac_keys_need_bytes() {
        assert!(Key::hmac(Algorithm::Sha256, b"").is_none());
        let key = Key::hmac_sha256("It's a Secret to Everybody").unwrap();
        assert_eq!(
            key.mac_hex(&[b"Hello, ", b"World!"]),
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }
}
