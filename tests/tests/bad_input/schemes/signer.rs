//! The corpus's own signer: keys and the raw signature (an HMAC, an Ed25519 or an ECDSA P-256
//! signature) over what each scheme signs, written from the providers' documentation and
//! independent of hookline's signer, so that a mistake in one is not hidden by the other.

use base64::Engine as _;
use ed25519_dalek::Signer as _;
use hmac::{Hmac, Mac};

use super::Kind;

/// A key the corpus signs with.
#[derive(Clone)]
pub enum Key {
    Hmac {
        algorithm: Algorithm,
        bytes: Vec<u8>,
    },
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

#[derive(Debug, Clone, Copy)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

impl std::fmt::Debug for Key {
    /// Never the key itself: a failure message must not carry it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Hmac { algorithm, .. } => write!(f, "Hmac({algorithm:?})"),
            Key::Ed25519(_) => f.write_str("Ed25519"),
            Key::P256(_) => f.write_str("P256"),
        }
    }
}

/// What one signed request is made of.
pub struct Message<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub timestamp: &'a str,
    pub id: &'a str,
    pub body: &'a [u8],
}

impl Key {
    /// The key of a provider from what the local stack made for it: the secret, or for a
    /// public-key scheme the private key (hex) the sender signs with.
    pub fn new(kind: &Kind, secret: &str, signing_key: &str) -> Key {
        let hmac = |algorithm, bytes: &[u8]| Key::Hmac {
            algorithm,
            bytes: bytes.to_vec(),
        };
        match kind {
            // Standard Webhooks keys are the base64 after `whsec_`.
            Kind::StandardWebhooks => hmac(
                Algorithm::Sha256,
                &base64::engine::general_purpose::STANDARD
                    .decode(secret.trim_start_matches("whsec_"))
                    .unwrap(),
            ),
            Kind::Generic { sha512: true, .. } => hmac(Algorithm::Sha512, secret.as_bytes()),
            // Twilio: HMAC-SHA1 keyed with the auth token.
            Kind::Twilio => hmac(Algorithm::Sha1, secret.as_bytes()),
            // Discord: the Ed25519 seed; SendGrid: the P-256 scalar (both hex).
            Kind::Discord => Key::Ed25519(ed25519_dalek::SigningKey::from_bytes(
                &hex::decode(signing_key).unwrap().try_into().unwrap(),
            )),
            Kind::SendGrid => Key::P256(
                p256::ecdsa::SigningKey::from_slice(&hex::decode(signing_key).unwrap()).unwrap(),
            ),
            _ => hmac(Algorithm::Sha256, secret.as_bytes()),
        }
    }

    /// Another key of the same kind (a sender that does not know the secret).
    pub fn other(&self) -> Key {
        match self {
            Key::Hmac { algorithm, bytes } => Key::Hmac {
                algorithm: *algorithm,
                bytes: bytes.iter().map(|b| b ^ 0x5a).collect(),
            },
            Key::Ed25519(_) => Key::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[7; 32])),
            Key::P256(_) => Key::P256(p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap()),
        }
    }

    /// The raw signature over the concatenation of `parts`: MAC bytes, Ed25519's 64 bytes, or
    /// an ECDSA signature in DER (what SendGrid sends, base64-encoded).
    fn sign(&self, parts: &[&[u8]]) -> Vec<u8> {
        fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
            let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key).unwrap();
            for part in parts {
                mac.update(part);
            }
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            Key::Hmac { algorithm, bytes } => match algorithm {
                Algorithm::Sha1 => mac::<Hmac<sha1::Sha1>>(bytes, parts),
                Algorithm::Sha256 => mac::<Hmac<sha2::Sha256>>(bytes, parts),
                Algorithm::Sha512 => mac::<Hmac<sha2::Sha512>>(bytes, parts),
            },
            Key::Ed25519(key) => key.sign(&parts.concat()).to_bytes().to_vec(),
            Key::P256(key) => {
                let signature: p256::ecdsa::Signature =
                    p256::ecdsa::signature::Signer::sign(key, &parts.concat());
                signature.to_der().as_bytes().to_vec()
            }
        }
    }
}

/// The raw signature of `m` as `kind` signs it.
pub fn signature(kind: &Kind, key: &Key, m: &Message<'_>) -> Vec<u8> {
    let (t, id, body) = (m.timestamp.as_bytes(), m.id.as_bytes(), m.body);
    let twilio_params;
    let parts: Vec<&[u8]> = match kind {
        // Stripe: `{t}.{body}`; Paddle: `{ts}:{body}`.
        Kind::Stripe => vec![t, b".", body],
        Kind::Paddle => vec![t, b":", body],
        // Slack and Zoom: `v0:{timestamp}:{body}`.
        Kind::Slack | Kind::Zoom => vec![b"v0:", t, b":", body],
        // Standard Webhooks: `{id}.{timestamp}.{body}`; Twitch: id, timestamp and body, joined.
        Kind::StandardWebhooks => vec![id, b".", t, b".", body],
        Kind::Twitch => vec![id, t, body],
        // Discord and SendGrid sign the timestamp followed by the body.
        Kind::Discord | Kind::SendGrid => vec![t, body],
        // Twilio: the full URL, then every form parameter sorted by name, name and value
        // concatenated (Twilio's "Webhooks security" page).
        Kind::Twilio => {
            twilio_params = sorted_form(body);
            vec![m.url.as_bytes(), twilio_params.as_bytes()]
        }
        // Square: the notification URL followed by the body.
        Kind::Square => vec![m.url.as_bytes(), body],
        // HubSpot v3: method, URI, body, timestamp (the URI here has no escapes to decode).
        Kind::HubSpot => vec![m.method.as_bytes(), m.url.as_bytes(), body, t],
        // Mailgun signs the timestamp and the token (the corpus's id), not the body.
        Kind::Mailgun => vec![t, id],
        Kind::GitHub | Kind::Shopify | Kind::Generic { .. } | Kind::Linear => vec![body],
    };
    key.sign(&parts)
}

fn sorted_form(body: &[u8]) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    // twilio-python's `compute_signature`: each name's distinct values, sorted.
    pairs.sort();
    pairs.dedup();
    pairs.into_iter().map(|(k, v)| k + &v).collect()
}
