//! Helpers for the scheme tests: header maps, verifiers and reference signatures.

use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::{Scheme, SigningSecret, Verifier};

pub(crate) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
        map.append(name, HeaderValue::from_str(value).unwrap());
    }
    map
}

pub(crate) fn verifier(scheme: Scheme, secrets: &[&str]) -> Verifier {
    verifier_with_tolerance(scheme, secrets, 300)
}

pub(crate) fn verifier_with_tolerance(scheme: Scheme, secrets: &[&str], secs: u64) -> Verifier {
    let secrets: Vec<_> = secrets.iter().map(|s| SigningSecret::new(*s)).collect();
    Verifier::new(scheme, &secrets, Duration::from_secs(secs)).unwrap()
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

pub(crate) fn hmac_sha256_hex(key: &[u8], parts: &[&[u8]]) -> String {
    hex::encode(hmac_sha256(key, parts))
}

pub(crate) fn hmac_sha256_base64(key: &[u8], parts: &[&[u8]]) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(key, parts))
}

/// The raw HMAC key of a Standard Webhooks secret.
pub(crate) fn standard_webhooks_key(secret: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap()
}

/// A registered scheme by name, with its defaults.
pub(crate) fn scheme(name: &str) -> Scheme {
    name.parse().unwrap()
}
