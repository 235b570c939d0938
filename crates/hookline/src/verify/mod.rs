//! Signature verification and delivery metadata, one scheme per provider.
//!
//! Each scheme follows its provider's own specification: which bytes are signed and in what
//! order, the header format (including several signatures at once), the encoding, prefixes and
//! how the HMAC key is derived from the secret. A [`Verifier`] holds one scheme and every active
//! secret of a provider (rotation): a delivery is valid when any secret verifies it.
//!
//! Signatures are compared in constant time, and no error message ever contains a secret or a
//! signature.

mod generic;
mod github;
mod headers;
pub(crate) mod mac;
mod shopify;
mod slack;
mod standard_webhooks;
mod stripe;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use http::HeaderMap;

pub use generic::{Algorithm, Encoding, GenericHmac};
use mac::Key;

/// Default tolerance between a signed timestamp and the receiver's clock, in both directions.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// How a provider signs and describes its deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    /// Stripe: `Stripe-Signature: t=<unix>,v1=<hex>` over `"{t}.{body}"`.
    Stripe,
    /// GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body.
    GitHub,
    /// Slack: `X-Slack-Signature: v0=<hex>` over `"v0:{ts}:{body}"`.
    Slack,
    /// Shopify: `X-Shopify-Hmac-Sha256: <base64>` over the body.
    Shopify,
    /// Standard Webhooks (Svix and senders built on it): `webhook-signature: v1,<base64>` over
    /// `"{id}.{ts}.{body}"` with a base64 key.
    StandardWebhooks,
    /// A configurable HMAC over the raw body, for providers without a built-in scheme.
    GenericHmac(GenericHmac),
}

impl Scheme {
    /// The scheme's name as used in configuration (`stripe`, `standard-webhooks`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Scheme::Stripe => "stripe",
            Scheme::GitHub => "github",
            Scheme::Slack => "slack",
            Scheme::Shopify => "shopify",
            Scheme::StandardWebhooks => "standard-webhooks",
            Scheme::GenericHmac(_) => "generic-hmac",
        }
    }

    /// The names accepted by [`Scheme::from_str`].
    pub const NAMES: [&'static str; 6] = [
        "stripe",
        "github",
        "slack",
        "shopify",
        "standard-webhooks",
        "generic-hmac",
    ];

    /// Whether the scheme signs a timestamp (and so rejects stale deliveries).
    pub fn signs_timestamp(&self) -> bool {
        matches!(
            self,
            Scheme::Stripe | Scheme::Slack | Scheme::StandardWebhooks
        )
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a scheme name that hookline does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown signature scheme `{0}`: expected one of stripe, github, slack, shopify, standard-webhooks, generic-hmac"
)]
pub struct UnknownScheme(pub String);

impl FromStr for Scheme {
    type Err = UnknownScheme;

    /// Parses a scheme name. `generic-hmac` parses to its defaults (`x-signature`, SHA-256,
    /// hex, no prefix); configure it with [`GenericHmac`] for anything else.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "stripe" => Ok(Scheme::Stripe),
            "github" => Ok(Scheme::GitHub),
            "slack" => Ok(Scheme::Slack),
            "shopify" => Ok(Scheme::Shopify),
            "standard-webhooks" | "svix" => Ok(Scheme::StandardWebhooks),
            "generic-hmac" => Ok(Scheme::GenericHmac(GenericHmac::default())),
            other => Err(UnknownScheme(other.to_owned())),
        }
    }
}

/// One signing secret. Its `Debug` output is redacted so it never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(String);

impl SigningSecret {
    /// Wraps a secret exactly as the provider shows it (e.g. `whsec_...`).
    pub fn new(secret: impl Into<String>) -> Self {
        SigningSecret(secret.into())
    }

    /// The secret as the provider shows it. Handle with care: never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(<redacted>)")
    }
}

/// Why a set of secrets cannot be used for a scheme. Messages name the secret by position only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No secret was given.
    #[error("no signing secret is configured; refusing to accept unsigned traffic")]
    NoSecrets,
    /// A secret is empty (or only whitespace).
    #[error("signing secret #{index} is empty")]
    Empty {
        /// 1-based position of the secret.
        index: usize,
    },
    /// A Standard Webhooks secret is not base64 after its `whsec_` prefix.
    #[error(
        "signing secret #{index} is not a Standard Webhooks key: expected `whsec_` followed by base64"
    )]
    NotBase64 {
        /// 1-based position of the secret.
        index: usize,
    },
}

/// Why a delivery was rejected. Every variant maps to HTTP 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A header the scheme needs is absent or empty.
    #[error("missing {header} header")]
    MissingHeader {
        /// The header's name.
        header: String,
    },
    /// A header the scheme needs appears more than once.
    #[error("the {header} header appears more than once")]
    DuplicateHeader {
        /// The header's name.
        header: String,
    },
    /// A header is present but cannot be parsed.
    #[error("the {header} header is malformed: {reason}")]
    MalformedHeader {
        /// The header's name.
        header: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The signed timestamp is older than the tolerance.
    #[error("the signed timestamp is {age_secs} s old, beyond the {tolerance_secs} s tolerance")]
    TimestampTooOld {
        /// How old the timestamp is.
        age_secs: u64,
        /// The configured tolerance.
        tolerance_secs: u64,
    },
    /// The signed timestamp is further in the future than the tolerance.
    #[error(
        "the signed timestamp is {ahead_secs} s in the future, beyond the {tolerance_secs} s tolerance"
    )]
    TimestampInFuture {
        /// How far ahead the timestamp is.
        ahead_secs: u64,
        /// The configured tolerance.
        tolerance_secs: u64,
    },
    /// The signatures are well formed but none matches the body with any secret.
    #[error("no signature matches the request body with any configured secret")]
    SignatureMismatch,
}

impl VerifyError {
    /// A stable short code for API responses and logs.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::MissingHeader { .. } => "missing_signature",
            VerifyError::DuplicateHeader { .. } | VerifyError::MalformedHeader { .. } => {
                "malformed_signature"
            }
            VerifyError::TimestampTooOld { .. } | VerifyError::TimestampInFuture { .. } => {
                "timestamp_out_of_tolerance"
            }
            VerifyError::SignatureMismatch => "invalid_signature",
        }
    }
}

/// Verifies deliveries of one provider against all of its active secrets.
#[derive(Clone)]
pub struct Verifier {
    scheme: Scheme,
    keys: Vec<Key>,
    tolerance: Duration,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("scheme", &self.scheme)
            .field("secrets", &format_args!("<{} redacted>", self.keys.len()))
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

impl Verifier {
    /// Builds a verifier; fails when there is no secret or a secret cannot be a key.
    pub fn new(
        scheme: Scheme,
        secrets: &[SigningSecret],
        tolerance: Duration,
    ) -> Result<Self, KeyError> {
        if secrets.is_empty() {
            return Err(KeyError::NoSecrets);
        }
        let keys = secrets
            .iter()
            .enumerate()
            .map(|(i, secret)| Key::derive(&scheme, secret.expose(), i + 1))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Verifier {
            scheme,
            keys,
            tolerance,
        })
    }

    /// The scheme this verifier checks.
    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// The timestamp tolerance in force.
    pub fn tolerance(&self) -> Duration {
        self.tolerance
    }

    /// Verifies one delivery: `headers` as received (names are case-insensitive), `body` the raw
    /// bytes, `now_unix` the receiver's clock in seconds since the Unix epoch.
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now_unix: i64,
    ) -> Result<(), VerifyError> {
        let ctx = Context {
            keys: &self.keys,
            tolerance_secs: self.tolerance.as_secs(),
            now_unix,
        };
        match &self.scheme {
            Scheme::Stripe => stripe::verify(&ctx, headers, body),
            Scheme::GitHub => github::verify(&ctx, headers, body),
            Scheme::Slack => slack::verify(&ctx, headers, body),
            Scheme::Shopify => shopify::verify(&ctx, headers, body),
            Scheme::StandardWebhooks => standard_webhooks::verify(&ctx, headers, body),
            Scheme::GenericHmac(generic) => generic.verify(&ctx, headers, body),
        }
    }
}

/// What every scheme's `verify` needs besides the request.
pub(crate) struct Context<'a> {
    keys: &'a [Key],
    tolerance_secs: u64,
    now_unix: i64,
}

impl Context<'_> {
    /// True when any key's MAC over `parts` equals any of `candidates` (constant time per pair).
    fn any_matches(&self, parts: &[&[u8]], candidates: &[Vec<u8>]) -> bool {
        self.keys.iter().any(|key| {
            let expected = key.sign(parts);
            candidates
                .iter()
                .any(|c| mac::constant_time_eq(&expected, c))
        })
    }

    /// Checks a signed timestamp against the tolerance in both directions.
    fn check_timestamp(&self, timestamp: i64) -> Result<(), VerifyError> {
        let tolerance_secs = self.tolerance_secs;
        if self.now_unix >= timestamp {
            let age_secs = self.now_unix.abs_diff(timestamp);
            if age_secs > tolerance_secs {
                return Err(VerifyError::TimestampTooOld {
                    age_secs,
                    tolerance_secs,
                });
            }
        } else {
            let ahead_secs = timestamp.abs_diff(self.now_unix);
            if ahead_secs > tolerance_secs {
                return Err(VerifyError::TimestampInFuture {
                    ahead_secs,
                    tolerance_secs,
                });
            }
        }
        Ok(())
    }
}

/// Parses a Unix timestamp in seconds: ASCII digits only, no sign, at most 12 digits.
fn parse_unix_seconds(value: &str, header: &str) -> Result<i64, VerifyError> {
    let malformed = |reason| VerifyError::MalformedHeader {
        header: header.to_owned(),
        reason,
    };
    if value.is_empty() || value.len() > 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed("the timestamp is not a number of seconds"));
    }
    value
        .parse()
        .map_err(|_| malformed("the timestamp is not a number of seconds"))
}

#[cfg(test)]
pub(crate) mod test_support;
