//! Typed configuration, read once at cold start from the environment and validated.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `HOOKLINE_PROVIDER` | provider name from the manifest | required |
//! | `HOOKLINE_SCHEME` | a scheme name ([`Scheme::NAMES`]) | required (ingest) |
//! | `HOOKLINE_QUEUE_URL` | SQS queue URL (`.fifo` suffix = FIFO) | required (ingest) |
//! | `HOOKLINE_SIGNING_SECRET` | the secret, or a JSON array of secrets in rotation (local) | one of these two |
//! | `HOOKLINE_SIGNING_SECRET_ARN` | a Secrets Manager secret holding the same (deployed) | one of these two |
//! | `HOOKLINE_TIMESTAMP_TOLERANCE_SECS` | allowed clock difference for signed timestamps | the scheme's ([`Scheme::default_tolerance`]) |
//! | `HOOKLINE_MAX_BODY_BYTES` | body limit (ingest) | what fits one SQS message; with a body bucket, the largest an ingest can be given |
//! | `HOOKLINE_BODY_BUCKET` | the S3 bucket of bodies too large for a queue message (ingest writes, processor reads: [`crate::claim_check`]) | unset: no claim check |
//! | `HOOKLINE_PUBLIC_URL` | URL-signed schemes: the URL the provider calls, without query | rebuilt from the request |
//! | `HOOKLINE_GENERIC_HEADER` | generic-hmac: signature header | `x-signature` |
//! | `HOOKLINE_GENERIC_ALGORITHM` | generic-hmac: `sha1`, `sha256`, `sha512` | `sha256` |
//! | `HOOKLINE_GENERIC_ENCODING` | generic-hmac: `hex` or `base64` | `hex` |
//! | `HOOKLINE_GENERIC_PREFIX` | generic-hmac: text before the signature, e.g. `sha256=` | none |
//! | `HOOKLINE_GROUP_BY` | ingest, FIFO queues: `provider`, a header name or a JSON pointer into the body ([`GroupBy`]) | `provider` |
//! | `HOOKLINE_PROCESS_CONCURRENCY` | processor: messages of a standard batch handled at once | `8` |
//! | `HOOKLINE_IDEMPOTENCY_TABLE` | processor: the DynamoDB table of idempotency records; set = each delivery's handler runs at most once to completion | unset: off |
//! | `HOOKLINE_IDEMPOTENCY_TTL_SECS` | processor: how long a completed delivery's record is kept | `259200` (72 h) |
//! | `HOOKLINE_STAGE` | the stage, in log lines and metrics (both functions) | `local` |
//! | `HOOKLINE_LOG` | log filter of both functions | `info` |
//!
//! The names are the constants of [`vars`]; the one writer of these variables is
//! `hookline_manifest::environment`, from the manifest (the local stack and the CDK app both use
//! its output). The AWS SDK reads its own variables (`AWS_REGION`, `AWS_ENDPOINT_URL_SQS`, ...).

use std::fmt;
use std::time::Duration;

use crate::ingest::{DEFAULT_MAX_BODY_BYTES, MAX_BODY_BYTES};
use crate::process::DEFAULT_CONCURRENCY;
use crate::queue::{GroupBy, SQS_MAX_MESSAGE_BYTES};
use crate::secrets::SecretSource;
use crate::verify::{GenericHmac, Scheme};

/// The variables a function reads, by name: the contract between the manifest's writer and
/// this reader.
pub mod vars {
    /// Provider name (both functions).
    pub const PROVIDER: &str = "HOOKLINE_PROVIDER";
    /// Signature scheme (ingest).
    pub const SCHEME: &str = "HOOKLINE_SCHEME";
    /// Queue URL (ingest; known only once the queue exists).
    pub const QUEUE_URL: &str = "HOOKLINE_QUEUE_URL";
    /// The signing secret itself (local stack).
    pub const SIGNING_SECRET: &str = "HOOKLINE_SIGNING_SECRET";
    /// The Secrets Manager secret holding it (deployed; known only once the secret exists).
    pub const SIGNING_SECRET_ARN: &str = "HOOKLINE_SIGNING_SECRET_ARN";
    /// Allowed clock difference for signed timestamps, in seconds (ingest).
    pub const TIMESTAMP_TOLERANCE_SECS: &str = "HOOKLINE_TIMESTAMP_TOLERANCE_SECS";
    /// Body limit in bytes (ingest).
    pub const MAX_BODY_BYTES: &str = "HOOKLINE_MAX_BODY_BYTES";
    /// The URL the provider is configured to call, without query (ingest, URL-signed schemes).
    pub const PUBLIC_URL: &str = "HOOKLINE_PUBLIC_URL";
    /// generic-hmac: the signature header.
    pub const GENERIC_HEADER: &str = "HOOKLINE_GENERIC_HEADER";
    /// generic-hmac: `sha1`, `sha256` or `sha512`.
    pub const GENERIC_ALGORITHM: &str = "HOOKLINE_GENERIC_ALGORITHM";
    /// generic-hmac: `hex` or `base64`.
    pub const GENERIC_ENCODING: &str = "HOOKLINE_GENERIC_ENCODING";
    /// generic-hmac: text before the signature.
    pub const GENERIC_PREFIX: &str = "HOOKLINE_GENERIC_PREFIX";
    /// Where a FIFO queue's message group id comes from (ingest).
    pub const GROUP_BY: &str = "HOOKLINE_GROUP_BY";
    /// Messages of a standard batch handled at once (processor).
    pub const PROCESS_CONCURRENCY: &str = "HOOKLINE_PROCESS_CONCURRENCY";
    /// The idempotency table (processor; known only once the table exists). Unset: off.
    pub const IDEMPOTENCY_TABLE: &str = "HOOKLINE_IDEMPOTENCY_TABLE";
    /// How long a completed delivery's idempotency record is kept, in seconds (processor).
    pub const IDEMPOTENCY_TTL_SECS: &str = "HOOKLINE_IDEMPOTENCY_TTL_SECS";
    /// The S3 bucket of bodies too large for a queue message (ingest and processor). Unset: a
    /// body over one queue message is refused with 413.
    pub const BODY_BUCKET: &str = "HOOKLINE_BODY_BUCKET";
    /// Log filter (both functions): a level, or `target=level` directives.
    pub const LOG: &str = "HOOKLINE_LOG";
    /// The stage the function belongs to (both functions), in its log lines and metrics.
    pub const STAGE: &str = "HOOKLINE_STAGE";
}

/// The idempotency table's layout, as the idempotency store reads and writes it: the table is
/// made with this partition key (a string) and TTL on this attribute (epoch seconds).
pub mod idempotency_table {
    /// The partition key attribute (S).
    pub const PARTITION_KEY: &str = crate::idempotency::attributes::ID;
    /// The TTL attribute: when a record expires, in epoch seconds (N).
    pub const TTL_ATTRIBUTE: &str = crate::idempotency::attributes::EXPIRATION;
}

/// How long a completed delivery's idempotency record is kept by default: 72 hours. The window
/// starts when the handler completed, after the provider's first attempt, from which the longest
/// retry windows documented in docs/providers.md count (Stripe's and Paddle's three days): every
/// documented retry of a delivery falls inside it.
pub const DEFAULT_IDEMPOTENCY_TTL_SECS: u64 = 72 * 3600;

/// The longest idempotency window: 30 days (records are small, but a window longer than the
/// queues' 14-day retention and any provider's retries protects nothing more).
pub const MAX_IDEMPOTENCY_TTL_SECS: u64 = 30 * 86_400;
/// The stage when `HOOKLINE_STAGE` is unset: the local stack's (`cargo xtask dev`).
pub const DEFAULT_STAGE: &str = "local";

/// The log filter when `HOOKLINE_LOG` is unset.
pub const DEFAULT_LOG: &str = "info";

/// The largest timestamp tolerance: one day (a signed timestamp older than that protects nothing).
pub const MAX_TOLERANCE_SECS: u64 = 86_400;

/// The most messages of a batch handled at once (Lambda's largest standard batch is 10 000, but
/// more than 1000 handlers at once only queue up on the function's memory).
pub const MAX_PROCESS_CONCURRENCY: u64 = 1000;

/// A configuration problem, named by its variable. The function fails its init with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("{var} is not set")]
    Missing {
        /// The variable.
        var: &'static str,
    },
    /// A variable has a value that cannot be used.
    #[error("{var} is invalid: {reason}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// Why (never the value of a secret).
        reason: String,
    },
    /// Neither or both secret sources are set.
    #[error(
        "set exactly one of HOOKLINE_SIGNING_SECRET (local) and HOOKLINE_SIGNING_SECRET_ARN (AWS Secrets Manager); refusing to accept unsigned traffic"
    )]
    SecretSource,
}

/// What an ingest function needs.
#[derive(Clone, PartialEq, Eq)]
pub struct IngestConfig {
    /// Provider name from the manifest.
    pub provider: String,
    /// The signature scheme.
    pub scheme: Scheme,
    /// The queue URL.
    pub queue_url: String,
    /// Where the signing secrets are.
    pub secret_source: SecretSource,
    /// Allowed difference between a signed timestamp and the clock.
    pub tolerance: Duration,
    /// Body limit in bytes.
    pub max_body_bytes: usize,
    /// The body bucket, for bodies too large for a queue message.
    pub body_bucket: Option<String>,
    /// The URL the provider calls, for URL-signed schemes behind a custom domain or a proxy.
    pub public_url: Option<String>,
    /// Where a FIFO queue's message group id comes from.
    pub group_by: GroupBy,
    /// The stage, in log lines and metrics.
    pub stage: String,
}

impl fmt::Debug for IngestConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IngestConfig")
            .field("provider", &self.provider)
            .field("scheme", &self.scheme)
            .field("queue_url", &self.queue_url)
            .field("secret_source", &self.secret_source)
            .field("tolerance", &self.tolerance)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("body_bucket", &self.body_bucket)
            .field("public_url", &self.public_url)
            .field("group_by", &self.group_by)
            .field("stage", &self.stage)
            .finish()
    }
}

/// What a processor function needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessorConfig {
    /// Provider name from the manifest.
    pub provider: String,
    /// Messages of a standard-queue batch handled at once.
    pub concurrency: usize,
    /// The stage, in log lines and metrics.
    pub stage: String,
    /// Where idempotency records are kept, when handlers run at most once per delivery.
    pub idempotency: Option<IdempotencyConfig>,
    /// The body bucket, where bodies too large for a queue message are read from.
    pub body_bucket: Option<String>,
}

/// The idempotency store's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyConfig {
    /// The DynamoDB table.
    pub table: String,
    /// How long a completed delivery's record is kept.
    pub ttl: Duration,
}

/// Reads variables through a lookup function, so tests need not touch the process environment.
struct Vars<F>(F);

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    fn optional(&self, var: &'static str) -> Option<String> {
        (self.0)(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn required(&self, var: &'static str) -> Result<String, ConfigError> {
        self.optional(var).ok_or(ConfigError::Missing { var })
    }

    fn number(
        &self,
        var: &'static str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        let Some(text) = self.optional(var) else {
            return Ok(default);
        };
        let invalid = || ConfigError::Invalid {
            var,
            reason: format!("expected a whole number from {min} to {max}, got `{text}`"),
        };
        let n: u64 = text.parse().map_err(|_| invalid())?;
        if (min..=max).contains(&n) {
            Ok(n)
        } else {
            Err(invalid())
        }
    }

    fn parsed<T, E: fmt::Display>(
        &self,
        var: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, ConfigError> {
        self.optional(var)
            .map(|text| {
                parse(&text).map_err(|e| ConfigError::Invalid {
                    var,
                    reason: e.to_string(),
                })
            })
            .transpose()
    }
}

fn provider_name<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<String, ConfigError> {
    let provider = vars.required(vars::PROVIDER)?;
    let valid = provider.starts_with(|c: char| c.is_ascii_lowercase())
        && provider
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(provider)
    } else {
        Err(ConfigError::Invalid {
            var: vars::PROVIDER,
            reason: format!("`{provider}` is not a provider name ([a-z][a-z0-9-]*)"),
        })
    }
}

/// `HOOKLINE_STAGE`: a stage name as the manifest allows them (it becomes a metric dimension).
fn stage_name<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<String, ConfigError> {
    let Some(stage) = vars.optional(vars::STAGE) else {
        return Ok(DEFAULT_STAGE.to_owned());
    };
    let valid = stage.len() <= 64
        && stage.starts_with(|c: char| c.is_ascii_lowercase())
        && stage
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(stage)
    } else {
        Err(ConfigError::Invalid {
            var: vars::STAGE,
            reason: format!("`{stage}` is not a stage name ([a-z][a-z0-9-]*)"),
        })
    }
}

impl IngestConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|var| std::env::var(var).ok())
    }

    /// Reads variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(lookup);
        let provider = provider_name(&vars)?;
        let scheme = scheme(&vars)?;
        let queue_url = vars.required(vars::QUEUE_URL)?;
        if !(queue_url.starts_with("https://") || queue_url.starts_with("http://")) {
            return Err(ConfigError::Invalid {
                var: vars::QUEUE_URL,
                reason: format!("`{queue_url}` is not an http(s) URL"),
            });
        }
        let secret_source = match (
            vars.optional(vars::SIGNING_SECRET),
            vars.optional(vars::SIGNING_SECRET_ARN),
        ) {
            (Some(value), None) => SecretSource::Env(value),
            (None, Some(arn)) => SecretSource::SecretsManager { arn },
            _ => return Err(ConfigError::SecretSource),
        };
        let tolerance = vars.number(
            vars::TIMESTAMP_TOLERANCE_SECS,
            scheme.default_tolerance().as_secs(),
            1,
            MAX_TOLERANCE_SECS,
        )?;
        let body_bucket = vars.optional(vars::BODY_BUCKET);
        // With a body bucket, anything the gateway can hand over; without, one queue message.
        let (default_max, max) = match body_bucket {
            Some(_) => (MAX_BODY_BYTES, MAX_BODY_BYTES),
            None => (DEFAULT_MAX_BODY_BYTES, SQS_MAX_MESSAGE_BYTES),
        };
        let max_body_bytes = vars
            .number(vars::MAX_BODY_BYTES, default_max as u64, 1, max as u64)
            .map_err(|err| match (err, &body_bucket) {
                (ConfigError::Invalid { var, reason }, None) => ConfigError::Invalid {
                    var,
                    reason: format!(
                        "{reason}; a larger limit needs a body bucket ({})",
                        vars::BODY_BUCKET
                    ),
                },
                (err, _) => err,
            })?;
        let public_url = vars.optional(vars::PUBLIC_URL);
        if let Some(url) = &public_url
            && (!url.starts_with("https://") || url.contains(['?', '#']))
        {
            return Err(ConfigError::Invalid {
                var: vars::PUBLIC_URL,
                reason: format!("`{url}` is not an https URL without query or fragment"),
            });
        }
        let group_by = vars
            .parsed(vars::GROUP_BY, str::parse::<GroupBy>)?
            .unwrap_or_default();
        Ok(IngestConfig {
            provider,
            scheme,
            queue_url,
            secret_source,
            tolerance: Duration::from_secs(tolerance),
            max_body_bytes: usize::try_from(max_body_bytes).unwrap_or(default_max),
            body_bucket,
            public_url,
            group_by,
            stage: stage_name(&vars)?,
        })
    }
}

/// The scheme an ingest environment names, with its settings: what [`IngestConfig`] reads, for
/// tools that sign as the provider does.
pub fn scheme_from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Scheme, ConfigError> {
    scheme(&Vars(lookup))
}

fn scheme<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Scheme, ConfigError> {
    let scheme: Scheme = vars
        .parsed(vars::SCHEME, str::parse)?
        .ok_or(ConfigError::Missing { var: vars::SCHEME })?;
    Ok(match scheme.generic_hmac_settings() {
        Some(defaults) => Scheme::generic_hmac(generic_hmac(vars, defaults.clone())?),
        None => scheme,
    })
}

fn generic_hmac<F: Fn(&str) -> Option<String>>(
    vars: &Vars<F>,
    defaults: GenericHmac,
) -> Result<GenericHmac, ConfigError> {
    let header = vars
        .optional(vars::GENERIC_HEADER)
        .unwrap_or_else(|| defaults.header().to_owned());
    let algorithm = vars
        .parsed(vars::GENERIC_ALGORITHM, str::parse)?
        .unwrap_or(defaults.algorithm);
    let encoding = vars
        .parsed(vars::GENERIC_ENCODING, str::parse)?
        .unwrap_or(defaults.encoding);
    let prefix = vars.optional(vars::GENERIC_PREFIX);
    GenericHmac::new(&header, algorithm, encoding, prefix).map_err(|e| ConfigError::Invalid {
        var: vars::GENERIC_HEADER,
        reason: e.to_string(),
    })
}

impl ProcessorConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|var| std::env::var(var).ok())
    }

    /// Reads variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(lookup);
        let provider = provider_name(&vars)?;
        let concurrency = vars.number(
            vars::PROCESS_CONCURRENCY,
            DEFAULT_CONCURRENCY as u64,
            1,
            MAX_PROCESS_CONCURRENCY,
        )?;
        let ttl = vars.number(
            vars::IDEMPOTENCY_TTL_SECS,
            DEFAULT_IDEMPOTENCY_TTL_SECS,
            1,
            MAX_IDEMPOTENCY_TTL_SECS,
        )?;
        let idempotency = match vars.optional(vars::IDEMPOTENCY_TABLE) {
            Some(table) => Some(IdempotencyConfig {
                table,
                ttl: Duration::from_secs(ttl),
            }),
            // A window without a table is a half-configured store: refuse, rather than run every
            // duplicate's handler again unnoticed.
            None if vars.optional(vars::IDEMPOTENCY_TTL_SECS).is_some() => {
                return Err(ConfigError::Missing {
                    var: vars::IDEMPOTENCY_TABLE,
                });
            }
            None => None,
        };
        Ok(ProcessorConfig {
            provider,
            concurrency: usize::try_from(concurrency).unwrap_or(DEFAULT_CONCURRENCY),
            idempotency,
            stage: stage_name(&vars)?,
            body_bucket: vars.optional(vars::BODY_BUCKET),
        })
    }
}

#[cfg(test)]
mod tests;
