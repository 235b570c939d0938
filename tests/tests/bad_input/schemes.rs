//! The corpus's vocabulary per signature scheme: which headers a scheme has, how it signs (an
//! HMAC signer of its own, independent of hookline's, that also signs timestamps that are not
//! numbers), and what "wrong prefix", "wrong encoding" or "wrong length" mean for it.

use base64::Engine as _;
use hmac::{Hmac, Mac};

/// The six schemes, with what a generic-hmac provider configures.
#[derive(Debug, Clone)]
pub enum Kind {
    Stripe,
    GitHub,
    Slack,
    Shopify,
    StandardWebhooks,
    Generic {
        header: String,
        prefix: String,
        sha512: bool,
        base64: bool,
    },
}

/// A provider's scheme and key.
#[derive(Debug, Clone)]
pub struct Scheme {
    pub kind: Kind,
    key: Vec<u8>,
}

/// A header the corpus names by its role (`signature`, `timestamp`, `id`) rather than by name.
pub const ROLES: [&str; 3] = ["signature", "timestamp", "id"];

impl Scheme {
    /// The scheme of a manifest provider, keyed with its local secret.
    pub fn new(provider: &hookline_manifest::Provider, secret: &str) -> Scheme {
        let signing = &provider.signing;
        let kind = match signing.scheme.as_str() {
            "stripe" => Kind::Stripe,
            "github" => Kind::GitHub,
            "slack" => Kind::Slack,
            "shopify" => Kind::Shopify,
            "standard-webhooks" => Kind::StandardWebhooks,
            "generic-hmac" => Kind::Generic {
                header: signing
                    .header
                    .clone()
                    .unwrap_or_else(|| "x-signature".into())
                    .to_ascii_lowercase(),
                prefix: signing.prefix.clone().unwrap_or_default(),
                sha512: match signing.algorithm.as_deref().unwrap_or("sha256") {
                    "sha256" => false,
                    "sha512" => true,
                    other => panic!("the corpus signer does not do {other}"),
                },
                base64: signing.encoding.as_deref() == Some("base64"),
            },
            other => panic!("unknown scheme {other}"),
        };
        // Standard Webhooks keys are the base64 after `whsec_`; everyone else signs with the
        // secret's bytes as they are.
        let key = match kind {
            Kind::StandardWebhooks => base64::engine::general_purpose::STANDARD
                .decode(secret.trim_start_matches("whsec_"))
                .unwrap(),
            _ => secret.as_bytes().to_vec(),
        };
        Scheme { kind, key }
    }

    /// The same scheme with another key (a sender that does not know the secret).
    pub fn with_other_key(&self) -> Scheme {
        Scheme {
            kind: self.kind.clone(),
            key: self.key.iter().map(|b| b ^ 0x5a).collect(),
        }
    }

    pub fn signs_timestamp(&self) -> bool {
        matches!(
            self.kind,
            Kind::Stripe | Kind::Slack | Kind::StandardWebhooks
        )
    }

    /// The header name of a role, `None` when the scheme has no such header. Stripe's timestamp
    /// is the `t=` entry of its signature header; the runner edits that entry instead.
    pub fn header(&self, role: &str) -> Option<String> {
        let name = match (role, &self.kind) {
            ("signature", Kind::Stripe) => "stripe-signature",
            ("signature", Kind::GitHub) => "x-hub-signature-256",
            ("signature", Kind::Slack) => "x-slack-signature",
            ("signature", Kind::Shopify) => "x-shopify-hmac-sha256",
            ("signature", Kind::StandardWebhooks) => "webhook-signature",
            ("signature", Kind::Generic { header, .. }) => header,
            ("timestamp", Kind::Slack) => "x-slack-request-timestamp",
            ("timestamp", Kind::StandardWebhooks) => "webhook-timestamp",
            ("id", Kind::StandardWebhooks) => "webhook-id",
            _ => return None,
        };
        Some(name.to_owned())
    }

    /// The MAC over what the scheme signs, with `timestamp` exactly as sent.
    pub fn mac(&self, timestamp: &str, id: &str, body: &[u8]) -> Vec<u8> {
        let t = timestamp.as_bytes();
        let parts: Vec<&[u8]> = match self.kind {
            Kind::Stripe => vec![t, b".", body],
            Kind::Slack => vec![b"v0:", t, b":", body],
            Kind::StandardWebhooks => vec![id.as_bytes(), b".", t, b".", body],
            _ => vec![body],
        };
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
            let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key).unwrap();
            for part in parts {
                mac.update(part);
            }
            mac.finalize().into_bytes().to_vec()
        }
        match self.kind {
            Kind::Generic { sha512: true, .. } => run::<Hmac<sha2::Sha512>>(&self.key, &parts),
            _ => run::<Hmac<sha2::Sha256>>(&self.key, &parts),
        }
    }

    fn base64(&self) -> bool {
        matches!(
            self.kind,
            Kind::Shopify | Kind::StandardWebhooks | Kind::Generic { base64: true, .. }
        )
    }

    /// A MAC in the scheme's encoding.
    pub fn encode(&self, mac: &[u8]) -> String {
        if self.base64() {
            base64::engine::general_purpose::STANDARD.encode(mac)
        } else {
            hex::encode(mac)
        }
    }

    /// A MAC in the other encoding (hex for base64 schemes and the reverse).
    pub fn encode_wrongly(&self, mac: &[u8]) -> String {
        if self.base64() {
            hex::encode(mac)
        } else {
            base64::engine::general_purpose::STANDARD.encode(mac)
        }
    }

    /// `n` characters of the encoding's alphabet (a well-formed value of any length).
    pub fn filler(&self, n: usize) -> String {
        if self.base64() { "A" } else { "a" }.repeat(n)
    }

    /// `n` characters outside the encoding's alphabet.
    pub fn not_the_alphabet(&self, n: usize) -> String {
        if self.base64() { "*" } else { "z" }.repeat(n)
    }

    /// The signature header's value around an encoded MAC.
    pub fn value(&self, timestamp: &str, encoded: &str) -> String {
        match &self.kind {
            Kind::Stripe => format!("t={timestamp},v1={encoded}"),
            Kind::GitHub => format!("sha256={encoded}"),
            Kind::Slack => format!("v0={encoded}"),
            Kind::Shopify => encoded.to_owned(),
            Kind::StandardWebhooks => format!("v1,{encoded}"),
            Kind::Generic { prefix, .. } => format!("{prefix}{encoded}"),
        }
    }

    /// The value with another version or algorithm prefix than the scheme's. Shopify's header has
    /// no prefix at all: there, any prefix is the wrong one.
    pub fn value_with_wrong_prefix(&self, timestamp: &str, encoded: &str) -> String {
        match &self.kind {
            Kind::Stripe => format!("t={timestamp},v2={encoded}"),
            Kind::GitHub => format!("sha1={encoded}"),
            Kind::Slack => format!("v1={encoded}"),
            Kind::Shopify => format!("sha256={encoded}"),
            Kind::StandardWebhooks => format!("v2,{encoded}"),
            Kind::Generic { prefix, .. } if prefix.starts_with("sha256") => {
                format!("{}{encoded}", prefix.replacen("sha256", "sha1", 1))
            }
            Kind::Generic { .. } => format!("v0={encoded}"),
        }
    }

    /// The value without its prefix; `None` for schemes whose value has none.
    pub fn value_without_prefix(&self, timestamp: &str, encoded: &str) -> Option<String> {
        match &self.kind {
            Kind::Stripe => Some(format!("t={timestamp},{encoded}")),
            Kind::Shopify => None,
            Kind::Generic { prefix, .. } if prefix.is_empty() => None,
            _ => Some(encoded.to_owned()),
        }
    }
}
