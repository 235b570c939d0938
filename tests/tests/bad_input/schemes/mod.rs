//! The corpus's vocabulary per signature scheme: which headers a scheme has, where its timestamp
//! and signature travel, how it signs (`signer`, independent of hookline's, that also signs
//! timestamps that are not numbers), and what "wrong prefix", "wrong encoding" or "wrong length"
//! mean for it.

use base64::Engine as _;

mod signer;
pub use signer::Message;

/// The sixteen schemes, with what a generic-hmac provider configures.
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
    Twilio,
    Zoom,
    Discord,
    Twitch,
    Paddle,
    Square,
    HubSpot,
    Linear,
    Mailgun,
    SendGrid,
}

/// Where a scheme's signed timestamp travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampAt {
    /// It signs none.
    Nowhere,
    /// A header of its own.
    Header,
    /// An entry of the signature header (`t=` for Stripe, `ts=` for Paddle).
    Entry { key: &'static str, separator: char },
    /// A field of the JSON body (Linear's `webhookTimestamp`, Mailgun's `signature.timestamp`).
    Body,
}

/// A property a case needs of a scheme (`requires` in ingest.toml); a provider whose scheme
/// lacks it is skipped with the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    /// Signs a timestamp, wherever it travels.
    Timestamp,
    /// Its timestamp is a header or an entry of one (something to drop or send twice).
    TimestampHeader,
    /// Signs an id header.
    IdHeader,
    /// Its signature is a header.
    SignatureHeader,
    /// Its signature value has a version or algorithm prefix.
    Prefix,
    /// Signs the URL.
    Url,
}

/// A provider's scheme and key.
#[derive(Debug, Clone)]
pub struct Scheme {
    pub kind: Kind,
    key: signer::Key,
}

/// A header the corpus names by its role (`signature`, `timestamp`, `id`) rather than by name.
pub const ROLES: [&str; 3] = ["signature", "timestamp", "id"];

impl Scheme {
    /// The scheme of a manifest provider, keyed with its local secret, or for public-key
    /// schemes the private key the local stack made beside it.
    pub fn new(provider: &hookline_manifest::Provider, secret: &str, signing_key: &str) -> Scheme {
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
            "twilio" => Kind::Twilio,
            "zoom" => Kind::Zoom,
            "discord" => Kind::Discord,
            "twitch" => Kind::Twitch,
            "paddle" => Kind::Paddle,
            "square" => Kind::Square,
            "hubspot" => Kind::HubSpot,
            "linear" => Kind::Linear,
            "mailgun" => Kind::Mailgun,
            "sendgrid" => Kind::SendGrid,
            other => panic!("the corpus has no signer for scheme {other}"),
        };
        let key = signer::Key::new(&kind, secret, signing_key);
        Scheme { kind, key }
    }

    /// The same scheme with another key (a sender that does not know the secret).
    pub fn with_other_key(&self) -> Scheme {
        Scheme {
            kind: self.kind.clone(),
            key: self.key.other(),
        }
    }

    /// The raw signature (MAC or public-key signature) of a request.
    pub fn sign(&self, message: &Message<'_>) -> Vec<u8> {
        signer::signature(&self.kind, &self.key, message)
    }

    pub fn timestamp_at(&self) -> TimestampAt {
        match self.kind {
            Kind::GitHub | Kind::Shopify | Kind::Generic { .. } | Kind::Twilio | Kind::Square => {
                TimestampAt::Nowhere
            }
            Kind::Stripe => TimestampAt::Entry {
                key: "t=",
                separator: ',',
            },
            Kind::Paddle => TimestampAt::Entry {
                key: "ts=",
                separator: ';',
            },
            Kind::Linear | Kind::Mailgun => TimestampAt::Body,
            _ => TimestampAt::Header,
        }
    }

    pub fn signs_timestamp(&self) -> bool {
        self.timestamp_at() != TimestampAt::Nowhere
    }

    /// The signature travels in the body (Mailgun), not in a header.
    pub fn signature_in_body(&self) -> bool {
        matches!(self.kind, Kind::Mailgun)
    }

    pub fn has(&self, requirement: Requirement) -> bool {
        match requirement {
            Requirement::Timestamp => self.signs_timestamp(),
            Requirement::TimestampHeader => matches!(
                self.timestamp_at(),
                TimestampAt::Header | TimestampAt::Entry { .. }
            ),
            Requirement::IdHeader => self.header("id").is_some(),
            Requirement::SignatureHeader => !self.signature_in_body(),
            Requirement::Prefix => self.value_without_prefix("0", "x").is_some(),
            Requirement::Url => matches!(self.kind, Kind::Twilio | Kind::Square | Kind::HubSpot),
        }
    }

    /// Why a provider of this scheme is skipped by a case that needs `requirement`.
    pub fn lacks(requirement: Requirement) -> &'static str {
        match requirement {
            Requirement::Timestamp => "signs no timestamp",
            Requirement::TimestampHeader => "signs no timestamp header",
            Requirement::IdHeader => "signs no id header",
            Requirement::SignatureHeader => "its signature is inside the body",
            Requirement::Prefix => "its signature value has no prefix to leave out",
            Requirement::Url => "signs no URL",
        }
    }

    /// A time (Unix seconds) as the scheme sends it: Twitch in RFC 3339, HubSpot and Linear in
    /// milliseconds, everyone else in seconds.
    pub fn format_time(&self, seconds: i64) -> String {
        match self.kind {
            Kind::Twitch => chrono::DateTime::from_timestamp(seconds, 0)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
                .unwrap_or_else(|| seconds.to_string()),
            Kind::HubSpot | Kind::Linear => (seconds * 1000).to_string(),
            _ => seconds.to_string(),
        }
    }

    /// The header name of a role, `None` when the scheme has no such header. A timestamp that
    /// is an entry of the signature header is edited there by the runner instead.
    pub fn header(&self, role: &str) -> Option<String> {
        let name = match (role, &self.kind) {
            ("signature", Kind::Stripe) => "stripe-signature",
            ("signature", Kind::GitHub) => "x-hub-signature-256",
            ("signature", Kind::Slack) => "x-slack-signature",
            ("signature", Kind::Shopify) => "x-shopify-hmac-sha256",
            ("signature", Kind::StandardWebhooks) => "webhook-signature",
            ("signature", Kind::Generic { header, .. }) => header,
            ("signature", Kind::Twilio) => "x-twilio-signature",
            ("signature", Kind::Zoom) => "x-zm-signature",
            ("signature", Kind::Discord) => "x-signature-ed25519",
            ("signature", Kind::Twitch) => "twitch-eventsub-message-signature",
            ("signature", Kind::Paddle) => "paddle-signature",
            ("signature", Kind::Square) => "x-square-hmacsha256-signature",
            ("signature", Kind::HubSpot) => "x-hubspot-signature-v3",
            ("signature", Kind::Linear) => "linear-signature",
            ("signature", Kind::SendGrid) => "x-twilio-email-event-webhook-signature",
            ("timestamp", Kind::Slack) => "x-slack-request-timestamp",
            ("timestamp", Kind::StandardWebhooks) => "webhook-timestamp",
            ("timestamp", Kind::Zoom) => "x-zm-request-timestamp",
            ("timestamp", Kind::Discord) => "x-signature-timestamp",
            ("timestamp", Kind::Twitch) => "twitch-eventsub-message-timestamp",
            ("timestamp", Kind::HubSpot) => "x-hubspot-request-timestamp",
            ("timestamp", Kind::SendGrid) => "x-twilio-email-event-webhook-timestamp",
            ("id", Kind::StandardWebhooks) => "webhook-id",
            ("id", Kind::Twitch) => "twitch-eventsub-message-id",
            _ => return None,
        };
        Some(name.to_owned())
    }

    fn base64(&self) -> bool {
        matches!(
            self.kind,
            Kind::Shopify
                | Kind::StandardWebhooks
                | Kind::Generic { base64: true, .. }
                | Kind::Twilio
                | Kind::Square
                | Kind::HubSpot
                | Kind::SendGrid
        )
    }

    /// A signature in the scheme's encoding.
    pub fn encode(&self, signature: &[u8]) -> String {
        if self.base64() {
            base64::engine::general_purpose::STANDARD.encode(signature)
        } else {
            hex::encode(signature)
        }
    }

    /// A signature in the other encoding (hex for base64 schemes and the reverse).
    pub fn encode_wrongly(&self, signature: &[u8]) -> String {
        if self.base64() {
            hex::encode(signature)
        } else {
            base64::engine::general_purpose::STANDARD.encode(signature)
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

    /// The signature's value around an encoded signature.
    pub fn value(&self, timestamp: &str, encoded: &str) -> String {
        match &self.kind {
            Kind::Stripe => format!("t={timestamp},v1={encoded}"),
            Kind::Paddle => format!("ts={timestamp};h1={encoded}"),
            Kind::GitHub | Kind::Twitch => format!("sha256={encoded}"),
            Kind::Slack | Kind::Zoom => format!("v0={encoded}"),
            Kind::StandardWebhooks => format!("v1,{encoded}"),
            Kind::Generic { prefix, .. } => format!("{prefix}{encoded}"),
            _ => encoded.to_owned(),
        }
    }

    /// The value with another version or algorithm prefix than the scheme's. A value without
    /// a prefix gets one: there, any prefix is the wrong one.
    pub fn value_with_wrong_prefix(&self, timestamp: &str, encoded: &str) -> String {
        match &self.kind {
            Kind::Stripe => format!("t={timestamp},v2={encoded}"),
            Kind::Paddle => format!("ts={timestamp};h2={encoded}"),
            Kind::GitHub | Kind::Twitch => format!("sha1={encoded}"),
            Kind::Slack | Kind::Zoom => format!("v1={encoded}"),
            Kind::StandardWebhooks => format!("v2,{encoded}"),
            Kind::Generic { prefix, .. } if prefix.starts_with("sha256") => {
                format!("{}{encoded}", prefix.replacen("sha256", "sha1", 1))
            }
            Kind::Generic { prefix, .. } if !prefix.is_empty() => format!("v0={encoded}"),
            _ => format!("sha256={encoded}"),
        }
    }

    /// The value without its prefix; `None` for schemes whose value has none.
    pub fn value_without_prefix(&self, timestamp: &str, encoded: &str) -> Option<String> {
        match &self.kind {
            Kind::Stripe => Some(format!("t={timestamp},{encoded}")),
            Kind::Paddle => Some(format!("ts={timestamp};{encoded}")),
            Kind::GitHub | Kind::Twitch | Kind::Slack | Kind::Zoom | Kind::StandardWebhooks => {
                Some(encoded.to_owned())
            }
            Kind::Generic { prefix, .. } if !prefix.is_empty() => Some(encoded.to_owned()),
            _ => None,
        }
    }

    /// An answer body that is the provider's own acknowledgement of a delivery, where it is not
    /// hookline's `received` JSON: Slack's empty 200 for a form (a slash command or an
    /// interaction), Twilio's empty TwiML `<Response/>` (Twilio's "TwiML" docs), Discord's
    /// deferred response to an interaction (type 5, or 6 for a component: Discord's
    /// "Interaction Response Type").
    pub fn acknowledges(&self, body: &[u8]) -> bool {
        match self.kind {
            Kind::Slack => body.is_empty(),
            Kind::Twilio => {
                let text = String::from_utf8_lossy(body);
                text.starts_with("<?xml") && text.contains("<Response")
            }
            Kind::Discord => serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| {
                v == serde_json::json!({"type": 5}) || v == serde_json::json!({"type": 6})
            }),
            _ => false,
        }
    }

    /// The body with the signature a sample carries inside it removed (Mailgun's `signature`
    /// object): what an unsigned request sends.
    pub fn strip(&self, body: &[u8]) -> Vec<u8> {
        let Kind::Mailgun = self.kind else {
            return body.to_vec();
        };
        match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body) {
            Ok(mut object) => {
                object.remove("signature");
                serde_json::to_vec(&object).unwrap()
            }
            Err(_) => body.to_vec(),
        }
    }

    /// The body as sent, with what the scheme carries inside it: Linear's `webhookTimestamp`
    /// (milliseconds) is set before signing; Mailgun's `signature` object (timestamp, token,
    /// signature) after. Only a JSON object can carry them: any other body is sent as it is.
    /// `timestamp` goes in as a JSON number when it is one, else as a string; `value` as is,
    /// so that a value that is not UTF-8 makes the body unreadable, as it would on the wire.
    pub fn embed(&self, body: &[u8], timestamp: &str, id: &str, value: Option<&[u8]>) -> Vec<u8> {
        let (field, inner): (&str, Vec<u8>) = match (&self.kind, value) {
            (Kind::Linear, None) => {
                let number = serde_json::from_str::<serde_json::Value>(timestamp)
                    .is_ok_and(|v| v.is_number());
                let raw = if number {
                    timestamp.to_owned()
                } else {
                    serde_json::to_string(timestamp).unwrap()
                };
                ("webhookTimestamp", raw.into_bytes())
            }
            (Kind::Mailgun, Some(value)) => {
                let mut inner = format!(
                    r#"{{"timestamp":{},"token":{},"signature":""#,
                    serde_json::to_string(timestamp).unwrap(),
                    serde_json::to_string(id).unwrap()
                )
                .into_bytes();
                inner.extend_from_slice(value);
                inner.extend_from_slice(b"\"}");
                ("signature", inner)
            }
            _ => return body.to_vec(),
        };
        let Ok(mut object) =
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body)
        else {
            return body.to_vec();
        };
        object.remove(field);
        let mut out = serde_json::to_vec(&object).unwrap();
        out.pop(); // the closing brace
        if out.len() > 1 {
            out.push(b',');
        }
        out.extend_from_slice(format!("\"{field}\":").as_bytes());
        out.extend_from_slice(&inner);
        out.push(b'}');
        out
    }
}
