//! The manifest as written: every field optional, unknown keys rejected, positions kept.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawManifest {
    pub project: Option<Spanned<RawProject>>,
    #[serde(default)]
    pub providers: Vec<Spanned<RawProvider>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProject {
    pub name: Option<Spanned<String>>,
    pub region: Option<Spanned<String>>,
    pub architecture: Option<Spanned<String>>,
    pub alarm_email: Option<Spanned<String>>,
    pub tracing: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProvider {
    pub name: Option<Spanned<String>>,
    pub template: Option<Spanned<String>>,
    pub route: Option<Spanned<String>>,
    #[serde(default)]
    pub signing: RawSigning,
    #[serde(default)]
    pub ingest: RawIngest,
    #[serde(default)]
    pub queue: RawQueue,
    #[serde(default)]
    pub processor: RawProcessor,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSigning {
    pub scheme: Option<Spanned<String>>,
    pub secret_arn: Option<Spanned<String>>,
    pub header: Option<Spanned<String>>,
    pub algorithm: Option<Spanned<String>>,
    pub encoding: Option<Spanned<String>>,
    pub prefix: Option<Spanned<String>>,
    pub public_url: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIngest {
    pub max_body_bytes: Option<Spanned<i64>>,
    pub timestamp_tolerance_secs: Option<Spanned<i64>>,
    pub timeout_secs: Option<Spanned<i64>>,
    pub memory_mb: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQueue {
    pub kind: Option<Spanned<String>>,
    pub batch_size: Option<Spanned<i64>>,
    pub max_batching_window_secs: Option<Spanned<i64>>,
    pub max_receive_count: Option<Spanned<i64>>,
    pub visibility_timeout_secs: Option<Spanned<i64>>,
    pub retention_secs: Option<Spanned<i64>>,
    pub group_by: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProcessor {
    pub timeout_secs: Option<Spanned<i64>>,
    pub memory_mb: Option<Spanned<i64>>,
    pub max_concurrency: Option<Spanned<i64>>,
    pub concurrency: Option<Spanned<i64>>,
    pub idempotency: Option<Spanned<bool>>,
    pub idempotency_ttl_secs: Option<Spanned<i64>>,
}
