//! The stage's resources its providers share, as the resolved document describes them: the
//! idempotency table and the body bucket.

use serde::{Deserialize, Serialize};

use crate::stage::idempotency_table_name;
use crate::{Provider, environment, limits};

/// A DynamoDB table the functions use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedTable {
    /// Its name.
    pub table_name: String,
    /// Its partition key attribute (a string; no sort key).
    pub partition_key: String,
    /// The attribute its TTL reads (epoch seconds).
    pub time_to_live_attribute: String,
    /// The processor variable set to its name.
    pub environment_variable: String,
}

impl ResolvedTable {
    /// The idempotency table of `project`'s `stage`, as the runtime's idempotency store uses it.
    pub fn idempotency(project: &str, stage: &str) -> ResolvedTable {
        use hookline::config::idempotency_table;
        ResolvedTable {
            table_name: idempotency_table_name(project, stage),
            partition_key: idempotency_table::PARTITION_KEY.to_owned(),
            time_to_live_attribute: idempotency_table::TTL_ATTRIBUTE.to_owned(),
            environment_variable: environment::vars::IDEMPOTENCY_TABLE.to_owned(),
        }
    }
}

/// The stage's body bucket: where the ingest functions of the providers with a
/// [`body_key_prefix`](super::ResolvedProvider::body_key_prefix) store bodies that do not fit a
/// queue message, each under its prefix, and their processors read and delete them. Its name is
/// CloudFormation's (bucket names are global: see [`crate::stage::body_bucket_name`]), so the
/// CDK app sets the variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedBodyBucket {
    /// The variable of both functions set to its name.
    pub environment_variable: String,
    /// Days after which its lifecycle rule deletes an object: the longest any of its providers
    /// needs ([`limits::body_expiration_days`]).
    pub expiration_days: u64,
}

impl ResolvedBodyBucket {
    /// The body bucket of a stage with these providers; `None` when none of them uses it.
    pub fn for_providers(providers: &[Provider]) -> Option<ResolvedBodyBucket> {
        providers
            .iter()
            .filter(|p| p.uses_body_bucket())
            .map(|p| limits::body_expiration_days(u64::from(p.queue.retention_secs)))
            .max()
            .map(|expiration_days| ResolvedBodyBucket {
                environment_variable: environment::vars::BODY_BUCKET.to_owned(),
                expiration_days,
            })
    }
}
