//! Signature verification and delivery metadata, one scheme per provider.
//!
//! Each scheme follows its provider's own specification: which bytes are signed and in what
//! order, the header format (including several signatures at once), the encoding, prefixes and
//! how the HMAC key is derived from the secret. A [`Verifier`] holds one scheme and every active
//! secret of a provider (rotation): a delivery is valid when any secret verifies it.
//!
//! Signatures are compared in constant time, and no error message ever contains a secret or a
//! signature.

mod discord;
mod error;
mod generic;
mod github;
pub(crate) mod headers;
mod hubspot;
pub(crate) mod keys;
mod linear;
mod mailgun;
mod paddle;
mod scheme;
mod sendgrid;
mod shopify;
mod slack;
mod square;
mod standard_webhooks;
mod stripe;
mod twilio;
mod twitch;
mod url;
mod zoom;

use std::fmt;
use std::time::Duration;

use http::HeaderMap;

pub use error::{KeyError, VerifyError};
pub use generic::{Algorithm, Encoding, GenericHmac, GenericHmacError};
use keys::Key;
pub use scheme::{Credentials, Outgoing, Request, Scheme, Signed, UnknownScheme, Unsignable};
pub(crate) use scheme::{Named, SchemeSpec};

/// Default tolerance between a signed timestamp and the receiver's clock, in both directions.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

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
            .map(|(i, secret)| key_of(secret.expose(), i + 1, |s| scheme.spec().key(s)))
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

    /// Verifies a delivery that signs no URL: `headers` as received (names are
    /// case-insensitive), `body` the raw bytes, `now_unix` the receiver's clock in seconds since
    /// the Unix epoch. URL-signed schemes need [`Verifier::verify_request`].
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now_unix: i64,
    ) -> Result<(), VerifyError> {
        self.verify_request(&Request::post(headers, body), now_unix)
    }

    /// Verifies one delivery as the provider sent it at `now_unix` (the receiver's clock).
    pub fn verify_request(&self, request: &Request<'_>, now_unix: i64) -> Result<(), VerifyError> {
        let ctx = Context {
            keys: &self.keys,
            tolerance_secs: self.tolerance.as_secs(),
            now_unix,
        };
        self.scheme.spec().verify(&ctx, request)
    }
}

impl Verifier {
    /// Describes a delivery this verifier accepted: event type, ids, handshake and answer.
    pub fn describe(
        &self,
        request: &Request<'_>,
    ) -> Result<crate::describe::Description, crate::describe::MalformedBody> {
        self.scheme.spec().describe(request, &self.keys)
    }
}

/// The key of secret `index` (1-based), through `derive`; errors name the secret by position.
pub(crate) fn key_of(
    secret: &str,
    index: usize,
    derive: impl FnOnce(&str) -> Result<Key, &'static str>,
) -> Result<Key, KeyError> {
    if secret.trim().is_empty() {
        return Err(KeyError::Empty { index });
    }
    derive(secret).map_err(|expected| KeyError::NotAKey { index, expected })
}

/// What every scheme's `verify` needs besides the request.
pub(crate) struct Context<'a> {
    keys: &'a [Key],
    tolerance_secs: u64,
    now_unix: i64,
}

impl Context<'_> {
    /// The keys to verify with (every active secret's).
    pub(crate) fn keys(&self) -> &[Key] {
        self.keys
    }

    /// True when any key's MAC over `parts` equals any of `candidates` (constant time per pair).
    pub(crate) fn any_mac_matches(&self, parts: &[&[u8]], candidates: &[Vec<u8>]) -> bool {
        self.keys.iter().any(|key| {
            key.mac(parts).is_some_and(|expected| {
                candidates
                    .iter()
                    .any(|c| keys::constant_time_eq(&expected, c))
            })
        })
    }

    /// `Ok` when any key's MAC over `parts` is one of `candidates`.
    pub(crate) fn expect_mac(
        &self,
        parts: &[&[u8]],
        candidates: &[Vec<u8>],
    ) -> Result<(), VerifyError> {
        if self.any_mac_matches(parts, candidates) {
            Ok(())
        } else {
            Err(VerifyError::SignatureMismatch)
        }
    }

    /// Checks a signed timestamp against the tolerance in both directions.
    pub(crate) fn check_timestamp(&self, timestamp: i64) -> Result<(), VerifyError> {
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
pub(crate) fn parse_unix_seconds(value: &str, header: &str) -> Result<i64, VerifyError> {
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
