//! The functions' environment in the local stack: the manifest's contract, with the local
//! resources (queue URL, the secret itself, the idempotency table, the body bucket) and the
//! local endpoint.

use std::collections::BTreeMap;

use hookline_manifest::environment::{self, ResourceEnvironment, vars};
use hookline_manifest::stage::{LOCAL_STAGE, body_bucket_name};
use hookline_manifest::{Manifest, Provider, ResolvedTable};

/// Where the local stack keeps bodies too large for a queue message: the S3 endpoint and the
/// body bucket (`<project>-local-bodies`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalBodies {
    /// The S3 endpoint (`AWS_ENDPOINT_URL_S3`): an IP address, so that the AWS SDK addresses
    /// buckets path-style (its endpoint rules do for IP hosts; `localhost` would not).
    pub endpoint: String,
    /// The bucket.
    pub bucket: String,
}

impl LocalBodies {
    /// The body bucket of `manifest`'s local stack, served at `endpoint`.
    pub fn of(manifest: &Manifest, endpoint: &str) -> LocalBodies {
        LocalBodies {
            endpoint: endpoint.to_owned(),
            bucket: body_bucket_name(&manifest.project.name, LOCAL_STAGE),
        }
    }

    /// The bucket and its endpoint, for a provider that uses the body bucket (the manifest
    /// says which: [`Provider::uses_body_bucket`]).
    fn add_to(
        &self,
        env: BTreeMap<String, String>,
        provider: &Provider,
    ) -> BTreeMap<String, String> {
        let mut env = environment::with_body_bucket(env, provider, &self.bucket);
        if provider.uses_body_bucket() {
            env.insert("AWS_ENDPOINT_URL_S3".into(), self.endpoint.clone());
        }
        env
    }
}

/// An ingest function's environment: the manifest's contract (`hookline_manifest::environment`,
/// the same as on AWS) with the local queue, the local secret itself, the local endpoint and
/// the body bucket.
pub fn ingest_env(
    provider: &Provider,
    queue_url: &str,
    secret: &str,
    sqs_endpoint: &str,
    bodies: &LocalBodies,
) -> BTreeMap<String, String> {
    let names = ResourceEnvironment::names();
    let mut env = environment::ingest(provider);
    env.insert(names.queue_url, queue_url.into());
    env.insert(names.signing_secret, secret.into());
    env.extend(local_aws_env(sqs_endpoint));
    bodies.add_to(env, provider)
}

/// A processor function's environment: the manifest's contract, the local endpoint (for SQS and
/// DynamoDB), the idempotency table's name and the body bucket.
pub fn processor_env(
    provider: &Provider,
    endpoint: &str,
    idempotency_table: &ResolvedTable,
    bodies: &LocalBodies,
) -> BTreeMap<String, String> {
    let mut env = bodies.add_to(environment::processor(provider), provider);
    env.extend(local_aws_env(endpoint));
    env.insert("AWS_ENDPOINT_URL_DYNAMODB".into(), endpoint.into());
    // Only a provider whose handlers use the store gets the table: its presence turns it on.
    if provider.processor.idempotency_ttl_secs.is_some() {
        env.insert(
            idempotency_table.environment_variable.clone(),
            idempotency_table.table_name.clone(),
        );
    }
    env
}

/// The idempotency table of the local stack: stage [`LOCAL_STAGE`] of the manifest's project.
pub fn local_idempotency_table(manifest: &Manifest) -> ResolvedTable {
    ResolvedTable::idempotency(&manifest.project.name, LOCAL_STAGE)
}

/// What makes the AWS SDK in a function talk to the local endpoint, plus what is passed through
/// from the developer's shell (`HOOKLINE_LOG` overrides the contract's log level).
fn local_aws_env(sqs_endpoint: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert("AWS_REGION".into(), crate::aws_local::REGION.into());
    env.insert("AWS_DEFAULT_REGION".into(), crate::aws_local::REGION.into());
    env.insert("AWS_ENDPOINT_URL_SQS".into(), sqs_endpoint.into());
    // Local credentials: the SDK signs requests, and must never reach a real account.
    env.insert("AWS_ACCESS_KEY_ID".into(), "hookline-local".into());
    env.insert("AWS_SECRET_ACCESS_KEY".into(), "hookline-local".into());
    env.insert("AWS_EC2_METADATA_DISABLED".into(), "true".into());
    for var in ["PATH", vars::LOG, "RUST_BACKTRACE"] {
        if let Ok(value) = std::env::var(var) {
            env.insert(var.into(), value);
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processors_get_the_endpoint_for_sqs_and_dynamodb_and_the_table() {
        let manifest = hookline_manifest::parse(
            "[project]\nname = \"shop\"\n[[providers]]\nname = \"acme\"\ntemplate = \"github\"\n",
            "hookline.toml",
        )
        .unwrap();
        let table = local_idempotency_table(&manifest);
        assert_eq!(table.table_name, "shop-local-idempotency");
        let bodies = LocalBodies::of(&manifest, "http://127.0.0.1:9324");
        let env = processor_env(
            &manifest.providers[0],
            "http://127.0.0.1:9324",
            &table,
            &bodies,
        );
        assert_eq!(env["AWS_ENDPOINT_URL_SQS"], "http://127.0.0.1:9324");
        assert_eq!(env["AWS_ENDPOINT_URL_DYNAMODB"], "http://127.0.0.1:9324");
        assert_eq!(env[vars::IDEMPOTENCY_TABLE], "shop-local-idempotency");
        assert_eq!(env[vars::IDEMPOTENCY_TTL_SECS], "259200");
    }

    #[test]
    fn a_provider_without_idempotency_gets_no_table() {
        let manifest = hookline_manifest::parse(
            "[project]\nname = \"shop\"\n[[providers]]\nname = \"acme\"\ntemplate = \"github\"\n[providers.processor]\nidempotency = false\n",
            "hookline.toml",
        )
        .unwrap();
        let table = local_idempotency_table(&manifest);
        let bodies = LocalBodies::of(&manifest, "http://127.0.0.1:9324");
        let env = processor_env(
            &manifest.providers[0],
            "http://127.0.0.1:9324",
            &table,
            &bodies,
        );
        assert!(!env.contains_key(vars::IDEMPOTENCY_TABLE), "{env:?}");
        assert!(!env.contains_key(vars::IDEMPOTENCY_TTL_SECS), "{env:?}");
        let config =
            hookline::config::ProcessorConfig::from_lookup(|var| env.get(var).cloned()).unwrap();
        assert_eq!(config.idempotency, None);
    }

    #[test]
    fn both_functions_get_the_body_bucket_only_when_their_provider_uses_it() {
        let manifest = hookline_manifest::parse(
            "[project]\nname = \"shop\"\n[[providers]]\nname = \"big\"\ntemplate = \"github\"\n[[providers]]\nname = \"small\"\ntemplate = \"github\"\n[providers.ingest]\nmax_body_bytes = 100000\n",
            "hookline.toml",
        )
        .unwrap();
        let endpoint = "http://127.0.0.1:9324";
        let bodies = LocalBodies::of(&manifest, endpoint);
        assert_eq!(bodies.bucket, "shop-local-bodies");
        let table = local_idempotency_table(&manifest);
        let (big, small) = (&manifest.providers[0], &manifest.providers[1]);
        for env in [
            ingest_env(big, "http://q", "s", endpoint, &bodies),
            processor_env(big, endpoint, &table, &bodies),
        ] {
            assert_eq!(env[vars::BODY_BUCKET], "shop-local-bodies");
            assert_eq!(env["AWS_ENDPOINT_URL_S3"], endpoint);
        }
        // The runtime reads it back: the largest limit, with its bucket.
        let env = ingest_env(big, "http://q", "s", endpoint, &bodies);
        let config = hookline::config::IngestConfig::from_lookup(|v| env.get(v).cloned()).unwrap();
        assert_eq!(config.max_body_bytes, hookline::ingest::MAX_BODY_BYTES);
        for env in [
            ingest_env(small, "http://q", "s", endpoint, &bodies),
            processor_env(small, endpoint, &table, &bodies),
        ] {
            assert!(!env.contains_key(vars::BODY_BUCKET), "{env:?}");
            assert!(!env.contains_key("AWS_ENDPOINT_URL_S3"), "{env:?}");
        }
    }
}
