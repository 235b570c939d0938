//! What a scheme is: the [`SchemeSpec`] every scheme module implements, the [`Scheme`] handle
//! the rest of hookline holds, and the registry of schemes by name.
//!
//! A scheme module owns everything about its provider: which headers it reads, what is signed,
//! how a secret becomes a key, how a delivery is described (event type, delivery id, dedup id,
//! handshakes and how to acknowledge it) and how a sender signs. Adding a scheme is one module
//! and one line in [`REGISTRY`].

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;

use super::keys::{Key, hex_secret};
use super::{Context, DEFAULT_TOLERANCE, GenericHmac, VerifyError};
use super::{discord, github, hubspot, linear, mailgun, paddle, sendgrid, shopify, slack};
use super::{square, standard_webhooks, stripe, twilio, twitch, zoom};
use crate::describe::{Description, MalformedBody};

/// A delivery as the provider sent it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The URL the provider called, query string included (URL-signed schemes sign it).
    pub url: &'a str,
    /// The headers; names are case-insensitive.
    pub headers: &'a HeaderMap,
    /// The raw body bytes.
    pub body: &'a [u8],
}

impl<'a> Request<'a> {
    /// A POST of `body` with `headers` to an unknown URL: enough for schemes that sign no URL.
    pub fn post(headers: &'a HeaderMap, body: &'a [u8]) -> Self {
        Request {
            method: "POST",
            url: "",
            headers,
            body,
        }
    }
}

/// A delivery to sign, as a sender would.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// The URL it is posted to.
    pub url: &'a str,
    /// The body.
    pub body: &'a [u8],
    /// When it is sent, in Unix seconds.
    pub timestamp: i64,
    /// The sender's id for it (signed by the schemes that sign one).
    pub delivery_id: &'a str,
}

/// A signed delivery: post `body` to `url` with `headers`. Some schemes change the URL (Twilio
/// adds the body's hash) or the body (Mailgun signs inside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// Where to post it.
    pub url: String,
    /// The headers to add.
    pub headers: Vec<(String, String)>,
    /// The body to send.
    pub body: Vec<u8>,
}

impl Signed {
    /// The delivery unchanged, with `headers`.
    pub(crate) fn with_headers(message: &Outgoing<'_>, headers: Vec<(&str, String)>) -> Signed {
        Signed {
            url: message.url.to_owned(),
            headers: headers
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            body: message.body.to_vec(),
        }
    }
}

/// A body the scheme cannot carry a signature in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the {scheme} scheme signs inside a JSON object, and this body is not one")]
pub struct Unsignable {
    /// The scheme's name.
    pub scheme: &'static str,
}

/// A local stack's key pair for a provider: what ingest verifies with and what `send` signs
/// with. The same string for shared secrets; a public and a private key for public-key schemes.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// What the ingest function is configured with.
    pub verify: String,
    /// What a sender signs with.
    pub sign: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials(<redacted>)")
    }
}

/// Everything hookline knows about one provider's scheme. Implemented once per scheme module.
pub(crate) trait SchemeSpec: fmt::Debug + Send + Sync + 'static {
    /// Whether the scheme signs a timestamp (and so rejects stale deliveries).
    fn signs_timestamp(&self) -> bool;

    /// Whether the signature covers the URL the provider called (Twilio, Square, HubSpot).
    fn signs_url(&self) -> bool {
        false
    }

    /// Whether the scheme verifies with a public key (and signs with its private half).
    fn public_key(&self) -> bool {
        false
    }

    /// Whether the signature covers the body (all but Mailgun, which signs a token in it).
    fn signs_body(&self) -> bool {
        true
    }

    /// The tolerance the provider's own libraries apply to its signed timestamps.
    fn default_tolerance(&self) -> Duration {
        DEFAULT_TOLERANCE
    }

    /// The verifying key for a secret as the provider shows it, or what such a secret looks
    /// like (for the error message). Most providers key an HMAC-SHA256 with the secret's bytes.
    fn key(&self, secret: &str) -> Result<Key, &'static str> {
        Key::hmac_sha256(secret).ok_or("a non-empty secret")
    }

    /// The key a sender signs with: the same for shared secrets, the private half for
    /// public-key schemes.
    fn signing_key(&self, secret: &str) -> Result<Key, &'static str> {
        self.key(secret)
    }

    /// The request headers (lowercase) that carry the provider's signatures, the one verified
    /// and any the provider sends beside it: what a log or a console masks. No default, so that
    /// a new scheme says it; empty for a scheme that signs inside the body.
    fn signature_headers(&self) -> Vec<&str>;

    /// Verifies one delivery against every key in `ctx`.
    fn verify(&self, ctx: &Context<'_>, request: &Request<'_>) -> Result<(), VerifyError>;

    /// Describes a delivery this scheme has verified with one of `keys` (a handshake's answer
    /// may need the key: Zoom's does).
    fn describe(&self, request: &Request<'_>, keys: &[Key]) -> Result<Description, MalformedBody>;

    /// Whether the scheme can sign `body` (Linear and Mailgun sign inside a JSON object).
    fn can_sign(&self, _body: &[u8]) -> bool {
        true
    }

    /// Signs a delivery as the provider does, with a key from [`SchemeSpec::signing_key`].
    fn sign(&self, key: &Key, message: &Outgoing<'_>) -> Signed;

    /// New local credentials in the form the provider's dashboard shows, from random bytes.
    fn local_credentials(&self, random: &[u8; 32]) -> Credentials {
        let secret = hex_secret(random);
        Credentials {
            verify: secret.clone(),
            sign: secret,
        }
    }

    /// The generic-hmac settings, for the scheme that has them.
    fn generic_hmac(&self) -> Option<&GenericHmac> {
        None
    }
}

/// One of hookline's signature schemes, with its settings. Cheap to clone.
#[derive(Clone)]
pub struct Scheme {
    name: &'static str,
    spec: Arc<dyn SchemeSpec>,
}

impl Scheme {
    pub(crate) fn new(name: &'static str, spec: impl SchemeSpec) -> Scheme {
        Scheme {
            name,
            spec: Arc::new(spec),
        }
    }

    /// The generic-hmac scheme with `settings`.
    pub fn generic_hmac(settings: GenericHmac) -> Scheme {
        Scheme::new(GenericHmac::NAME, settings)
    }

    /// The scheme's name as used in configuration (`stripe`, `standard-webhooks`, ...).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The names accepted by [`Scheme::from_str`] and the manifest, in registry order.
    pub const NAMES: [&'static str; REGISTRY.len()] = {
        let mut names = [""; REGISTRY.len()];
        let mut i = 0;
        while i < REGISTRY.len() {
            names[i] = REGISTRY[i].name;
            i += 1;
        }
        names
    };

    /// Whether the scheme signs a timestamp (and so rejects stale deliveries).
    pub fn signs_timestamp(&self) -> bool {
        self.spec.signs_timestamp()
    }

    /// Whether the signature covers the URL the provider called.
    pub fn signs_url(&self) -> bool {
        self.spec.signs_url()
    }

    /// Whether the scheme verifies with a public key: the secret ingest holds is public, and
    /// senders sign with its private half.
    pub fn uses_public_keys(&self) -> bool {
        self.spec.public_key()
    }

    /// Whether the signature covers the body (a changed body is refused).
    pub fn signs_body(&self) -> bool {
        self.spec.signs_body()
    }

    /// The timestamp tolerance when none is configured: the provider's libraries' own.
    pub fn default_tolerance(&self) -> Duration {
        self.spec.default_tolerance()
    }

    /// The request headers (lowercase) that carry the provider's signatures: the one verified
    /// and any the provider sends beside it (GitHub's SHA-1 `x-hub-signature`). Empty for
    /// Mailgun, which signs inside the body.
    pub fn signature_headers(&self) -> Vec<&str> {
        self.spec.signature_headers()
    }

    /// The generic-hmac settings, when this is generic-hmac.
    pub fn generic_hmac_settings(&self) -> Option<&GenericHmac> {
        self.spec.generic_hmac()
    }

    /// New local credentials for this scheme from 32 random bytes.
    pub fn local_credentials(&self, random: &[u8; 32]) -> Credentials {
        self.spec.local_credentials(random)
    }

    /// Whether the scheme can sign `body` (Linear and Mailgun sign inside a JSON object).
    pub fn can_sign(&self, body: &[u8]) -> bool {
        self.spec.can_sign(body)
    }

    pub(crate) fn spec(&self) -> &dyn SchemeSpec {
        &*self.spec
    }
}

impl fmt::Debug for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.spec.generic_hmac() {
            Some(settings) => write!(f, "{}({settings:?})", self.name),
            None => f.write_str(self.name),
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for Scheme {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.spec.generic_hmac() == other.spec.generic_hmac()
    }
}

impl Eq for Scheme {}

/// A scheme's name and how to make it with its defaults.
pub(crate) struct Registration {
    name: &'static str,
    make: fn() -> Scheme,
}

/// A scheme module's name and defaults.
pub(crate) trait Named: SchemeSpec + Default {
    /// The name in configuration.
    const NAME: &'static str;
}

const fn register<S: Named>() -> Registration {
    fn make<S: Named>() -> Scheme {
        Scheme::new(S::NAME, S::default())
    }
    Registration {
        name: S::NAME,
        make: make::<S>,
    }
}

/// Every scheme hookline implements, one line each.
const REGISTRY: [Registration; 16] = [
    register::<stripe::Stripe>(),
    register::<github::GitHub>(),
    register::<slack::Slack>(),
    register::<shopify::Shopify>(),
    register::<standard_webhooks::StandardWebhooks>(),
    register::<GenericHmac>(),
    register::<zoom::Zoom>(),
    register::<twitch::Twitch>(),
    register::<paddle::Paddle>(),
    register::<linear::Linear>(),
    register::<twilio::Twilio>(),
    register::<square::Square>(),
    register::<hubspot::HubSpot>(),
    register::<discord::Discord>(),
    register::<mailgun::Mailgun>(),
    register::<sendgrid::SendGrid>(),
];

/// Other names a scheme is known by (not offered in the manifest).
const ALIASES: [(&str, &str); 1] = [("svix", standard_webhooks::StandardWebhooks::NAME)];

/// The error for a scheme name that hookline does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown signature scheme `{name}`: expected one of {}", Scheme::NAMES.join(", "))]
pub struct UnknownScheme {
    /// The name given.
    pub name: String,
}

impl FromStr for Scheme {
    type Err = UnknownScheme;

    /// Parses a scheme name into the scheme with its defaults (`generic-hmac`: `x-signature`,
    /// SHA-256, hex, no prefix; configure it with [`Scheme::generic_hmac`]).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let name = ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .map_or(name, |(_, target)| target);
        REGISTRY
            .iter()
            .find(|r| r.name == name)
            .map(|r| (r.make)())
            .ok_or_else(|| UnknownScheme {
                name: name.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_name_parses_to_itself_once() {
        for name in Scheme::NAMES {
            assert_eq!(name.parse::<Scheme>().map(|s| s.name()), Ok(name));
            assert_eq!(Scheme::NAMES.iter().filter(|n| **n == name).count(), 1);
        }
        assert_eq!(
            "svix".parse::<Scheme>().map(|s| s.name()),
            Ok("standard-webhooks")
        );
        let err = "nope".parse::<Scheme>().unwrap_err().to_string();
        assert!(
            err.contains("`nope`") && err.contains("stripe, github"),
            "{err}"
        );
    }
}
