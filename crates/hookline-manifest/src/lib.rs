//! `hookline.toml`: the one manifest that xtask, the local stack and the CDK app read.
//!
//! ```toml
//! [project]
//! name = "hookline"        # stack prefix
//! region = "eu-west-1"
//! architecture = "arm64"   # or "x86_64"
//! alarm_email = "ops@example.com"  # optional: alarms by email
//! tracing = true           # optional: X-Ray active tracing
//!
//! [[providers]]
//! name = "stripe"
//! template = "stripe"
//! ```
//!
//! Everything else has a default (see [`Provider`] and [`limits`]); [`parse`] fills them in and
//! checks every value against AWS's limits, with errors that name the file, the line and the
//! field. [`resolve`] then turns a manifest and a stage into the [`Resolved`] document that the
//! CDK app reads: every default applied, every derived name and value, and each function's
//! environment ([`environment`]). No rule of the manifest is written anywhere else.

pub mod environment;
pub mod limits;
pub mod monitoring;
mod raw;
mod resolved;
pub mod stage;
mod validate;

pub use resolved::{
    ProviderOutputs, RESOLVED_VERSION, ResolveError, Resolved, ResolvedBodyBucket, ResolvedIngest,
    ResolvedProvider, ResolvedTable, RouteThrottle, StageOptions, lambda_zip, provider_outputs,
    resolve,
};
pub use stage::{Stage, StageError};

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// The manifest's file name at the workspace root.
pub const MANIFEST_FILE: &str = "hookline.toml";

/// The signature schemes the runtime library implements (`HOOKLINE_SCHEME`).
pub const SCHEMES: [&str; hookline::verify::Scheme::NAMES.len()] = hookline::verify::Scheme::NAMES;

/// A validated manifest with every default filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Project-wide settings.
    pub project: Project,
    /// The providers, in file order.
    pub providers: Vec<Provider>,
}

/// Project-wide settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Stack prefix: stacks are named `<name>-<stage>`.
    pub name: String,
    /// Default AWS region.
    pub region: String,
    /// Default Lambda architecture.
    pub architecture: Architecture,
    /// An address subscribed (by email, through SNS) to the stack's alarms; none by default.
    pub alarm_email: Option<String>,
    /// X-Ray active tracing on every function (default off): a trace per delivery, from ingest
    /// through the queue to the processor.
    pub tracing: bool,
}

/// A Lambda architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// Graviton (the default: cheaper per millisecond).
    Arm64,
    /// x86-64.
    X86_64,
}

impl Architecture {
    /// The manifest's spelling (`arm64`, `x86_64`).
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::Arm64 => "arm64",
            Architecture::X86_64 => "x86_64",
        }
    }
}

/// One provider: its route, signing, ingest, queue and processor settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// `[a-z][a-z0-9-]*`; names the crate `functions/<name>` and its functions.
    pub name: String,
    /// The template under `templates/` the crate was generated from.
    pub template: String,
    /// The webhook route (default `/webhooks/<name>`).
    pub route: String,
    /// How deliveries are signed.
    pub signing: Signing,
    /// Ingest function settings.
    pub ingest: Ingest,
    /// Queue settings.
    pub queue: Queue,
    /// Processor function settings.
    pub processor: Processor,
    /// Template variables set at `cargo xtask new` (the template's defaults fill the rest).
    pub vars: BTreeMap<String, String>,
}

/// Signature scheme and where the signing secret lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signing {
    /// One of [`SCHEMES`] (default: the template's name).
    pub scheme: String,
    /// An existing Secrets Manager secret; `None`: the stack creates one.
    pub secret_arn: Option<String>,
    /// generic-hmac: the signature header.
    pub header: Option<String>,
    /// generic-hmac: `sha1`, `sha256` or `sha512`.
    pub algorithm: Option<String>,
    /// generic-hmac: `hex` or `base64`.
    pub encoding: Option<String>,
    /// generic-hmac: text before the signature.
    pub prefix: Option<String>,
    /// URL-signed schemes (Twilio, Square, HubSpot): the https URL the provider is configured
    /// to call, without query, when it is not the API's own (a custom domain with an API
    /// mapping, a proxy). `None`: rebuilt from each request.
    pub public_url: Option<String>,
}

/// Ingest function settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingest {
    /// Body limit in bytes (default: the largest an ingest function can be given,
    /// [`limits::DEFAULT_MAX_BODY_BYTES`]); over [`limits::MAX_INLINE_BODY_BYTES`], bodies too
    /// large for a queue message go to the stage's body bucket.
    pub max_body_bytes: u64,
    /// Allowed clock difference for signed timestamps (default 300).
    pub timestamp_tolerance_secs: u64,
    /// Function timeout (default 10, at most API Gateway's 30).
    pub timeout_secs: u32,
    /// Function memory (default 128).
    pub memory_mb: u32,
}

/// Standard or FIFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueKind {
    /// At-least-once, best-effort order, nearly unlimited throughput.
    Standard,
    /// Ordered per message group (`group_by`; default one group per provider), deduplicated
    /// by delivery id for 5 minutes.
    Fifo,
}

impl QueueKind {
    /// The manifest's spelling (`standard`, `fifo`).
    pub fn as_str(self) -> &'static str {
        match self {
            QueueKind::Standard => "standard",
            QueueKind::Fifo => "fifo",
        }
    }
}

/// Queue and event source settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    /// Standard (default) or FIFO.
    pub kind: QueueKind,
    /// Messages per processor invocation (default 10; 1–10 for FIFO, 1–10 000 for standard).
    pub batch_size: u32,
    /// Seconds to gather a batch (default 0; 0–300; FIFO: 0 only; ≥ 1 when batch size > 10).
    pub max_batching_window_secs: u32,
    /// Receives before a message moves to the DLQ (default 5; 1–1000).
    pub max_receive_count: u32,
    /// Visibility timeout (default 6 × the processor timeout + the batching window, as AWS
    /// recommends; at least that).
    pub visibility_timeout_secs: u32,
    /// Message retention (default 4 days; 60 s – 11 days for standard queues, whose messages
    /// keep their enqueue time in the 14-day DLQ; 60 s – 14 days for FIFO).
    pub retention_secs: u32,
    /// FIFO queues: where a delivery's message group id comes from (default: one group for the
    /// provider); `None` for standard queues, which have no groups.
    pub group_by: Option<hookline::queue::GroupBy>,
}

/// Processor function settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processor {
    /// Function timeout (default 30; 1–900).
    pub timeout_secs: u32,
    /// Function memory (default 256; 128–10 240).
    pub memory_mb: u32,
    /// Most concurrent invocations the event source starts (2–1000; default 10, see
    /// [`limits::DEFAULT_MAX_CONCURRENCY`]).
    pub max_concurrency: u32,
    /// Messages of a standard-queue batch one invocation handles at once (default 8; 1–1000;
    /// FIFO batches are always handled one at a time, in order).
    pub concurrency: u32,
    /// How long each delivery's handler is guaranteed to have run at most once to completion,
    /// in seconds (`idempotency_ttl_secs`, default 72 h; 60 s – 30 days); `None` with
    /// `idempotency = false`.
    pub idempotency_ttl_secs: Option<u32>,
}

/// A manifest problem, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ManifestError {
    /// The file's path as given.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The field, as a path (`providers[1].queue.batch_size`), when known.
    pub field: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Reads and validates a manifest file.
pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|err| ManifestError {
        file: file.clone(),
        line: None,
        field: None,
        message: format!("cannot read the manifest: {err}"),
    })?;
    parse(&source, &file)
}

/// Parses and validates manifest text; `file` names it in errors.
pub fn parse(source: &str, file: &str) -> Result<Manifest, ManifestError> {
    let raw: raw::RawManifest = toml::from_str(source).map_err(|err| ManifestError {
        file: file.to_owned(),
        line: err.span().map(|span| line_of(source, span.start)),
        field: None,
        message: err.message().trim().to_owned(),
    })?;
    validate::resolve(raw, source, file)
}

/// The 1-based line of a byte offset.
fn line_of(source: &str, offset: usize) -> usize {
    source.get(..offset).map_or(1, |before| {
        before.bytes().filter(|&b| b == b'\n').count() + 1
    })
}

/// Whether `name` is a valid provider, project or stage name: `[a-z][a-z0-9-]*`, at most 32
/// characters, no trailing or doubled hyphen.
pub fn is_valid_name(name: &str) -> bool {
    name.len() <= limits::MAX_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--")
}

impl Provider {
    /// The runtime's scheme with this provider's settings, read from the ingest environment
    /// exactly as the function reads it.
    pub fn scheme(&self) -> Result<hookline::Scheme, hookline::config::ConfigError> {
        let env = environment::ingest(self);
        hookline::config::scheme_from_lookup(|var| env.get(var).cloned())
    }

    /// Whether it uses the stage's body bucket: its body limit is over what one queue message
    /// carries, so its ingest function stores the bodies that do not fit there and its
    /// processor reads and deletes them (`hookline::claim_check`).
    pub fn uses_body_bucket(&self) -> bool {
        self.ingest.max_body_bytes > limits::MAX_INLINE_BODY_BYTES
    }

    /// The key prefix of its bodies in the body bucket (the runtime's), the only keys its
    /// functions may touch; `None` when it does not use the bucket.
    pub fn body_key_prefix(&self) -> Option<String> {
        self.uses_body_bucket()
            .then(|| hookline::claim_check::key_prefix(&self.name))
    }

    /// The crate directory, relative to the workspace root.
    pub fn crate_dir(&self) -> String {
        format!("functions/{}", self.name)
    }

    /// The ingest binary's name.
    pub fn ingest_binary(&self) -> String {
        format!("{}-ingest", self.name)
    }

    /// The processor binary's name.
    pub fn process_binary(&self) -> String {
        format!("{}-process", self.name)
    }
}

impl Manifest {
    /// A provider by name.
    pub fn provider(&self, name: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.name == name)
    }
}

#[cfg(test)]
mod tests;
