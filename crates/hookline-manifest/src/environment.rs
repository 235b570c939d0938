//! The function-environment contract: what each function of a provider is given, from the
//! manifest. `hookline::config` reads these variables; this is their one writer. The local stack
//! runs its functions with this environment, and the resolved document carries it to the CDK app.
//!
//! Some values exist only once their resources do, so they are added where the resources are
//! made: the queue URL, the signing secret (its ARN on AWS, the secret itself locally), the
//! idempotency table and the body bucket. Their variable names travel too
//! ([`ResourceEnvironment`], and the resolved stage's `idempotency_table` and `body_bucket`),
//! so no other language spells them.

use std::collections::BTreeMap;

use hookline::config::DEFAULT_LOG;
/// The variable names, as the runtime defines them.
pub use hookline::config::vars;
use serde::{Deserialize, Serialize};

use crate::Provider;

/// The variables of a function, by name.
pub type Environment = BTreeMap<String, String>;

/// The ingest function's environment, without the resource values ([`ResourceEnvironment`]).
pub fn ingest(provider: &Provider) -> Environment {
    let mut env = common(provider);
    env.insert(vars::SCHEME.into(), provider.signing.scheme.clone());
    env.insert(
        vars::TIMESTAMP_TOLERANCE_SECS.into(),
        provider.ingest.timestamp_tolerance_secs.to_string(),
    );
    env.insert(
        vars::MAX_BODY_BYTES.into(),
        provider.ingest.max_body_bytes.to_string(),
    );
    if let Some(group_by) = &provider.queue.group_by {
        env.insert(vars::GROUP_BY.into(), group_by.to_string());
    }
    let s = &provider.signing;
    for (var, value) in [
        (vars::GENERIC_HEADER, &s.header),
        (vars::GENERIC_ALGORITHM, &s.algorithm),
        (vars::GENERIC_ENCODING, &s.encoding),
        (vars::GENERIC_PREFIX, &s.prefix),
        (vars::PUBLIC_URL, &s.public_url),
    ] {
        if let Some(value) = value {
            env.insert(var.into(), value.clone());
        }
    }
    env
}

/// The processor function's environment.
pub fn processor(provider: &Provider) -> Environment {
    let mut env = common(provider);
    env.insert(
        vars::PROCESS_CONCURRENCY.into(),
        provider.processor.concurrency.to_string(),
    );
    if let Some(ttl) = provider.processor.idempotency_ttl_secs {
        env.insert(vars::IDEMPOTENCY_TTL_SECS.into(), ttl.to_string());
    }
    env
}

/// A function's environment on a deployed stage: the stage is in its log lines and metrics. The
/// local stack leaves it out: the runtime's default is the local stage.
pub fn with_stage(mut env: Environment, stage: &str) -> Environment {
    env.insert(vars::STAGE.into(), stage.to_owned());
    env
}

/// A function's environment (ingest or processor) with the stage's body bucket, when the
/// provider uses it ([`Provider::uses_body_bucket`]); unchanged otherwise: without the variable
/// the runtime keeps every body in its queue message.
///
/// The local stack calls this with its bucket's name ([`crate::stage::body_bucket_name`]). The
/// CDK app cannot: on AWS the name exists only once CloudFormation made the bucket, and the
/// resolved document holds no placeholder for it. So it sets the variable the document names
/// (`stage.bodyBucket.environmentVariable`) on both functions of each provider with a
/// `bodyKeyPrefix`, as it does for the idempotency table. Which variable and which providers is
/// decided here alone either way: the document's fields come from this crate.
pub fn with_body_bucket(mut env: Environment, provider: &Provider, bucket: &str) -> Environment {
    if provider.uses_body_bucket() {
        env.insert(vars::BODY_BUCKET.into(), bucket.to_owned());
    }
    env
}

fn common(provider: &Provider) -> Environment {
    let mut env = Environment::new();
    env.insert(vars::PROVIDER.into(), provider.name.clone());
    env.insert(vars::LOG.into(), DEFAULT_LOG.into());
    env
}

/// The names of the ingest variables whose values exist only once the resources do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceEnvironment {
    /// Set to the queue's URL.
    pub queue_url: String,
    /// Set to the signing secret's ARN (AWS).
    pub signing_secret_arn: String,
    /// Set to the signing secret itself (the local stack, which has no Secrets Manager).
    pub signing_secret: String,
}

impl ResourceEnvironment {
    /// The contract's names.
    pub fn names() -> ResourceEnvironment {
        ResourceEnvironment {
            queue_url: vars::QUEUE_URL.into(),
            signing_secret_arn: vars::SIGNING_SECRET_ARN.into(),
            signing_secret: vars::SIGNING_SECRET.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use hookline::config::{IngestConfig, ProcessorConfig};

    use super::*;

    /// A body bucket's name, as the local stack gives it.
    const BUCKET: &str = "p-local-bodies";

    fn provider(extra: &str) -> Provider {
        let source = format!(
            "[project]\nname = \"p\"\n[[providers]]\nname = \"orders\"\ntemplate = \"generic-hmac\"\n{extra}"
        );
        crate::parse(&source, "hookline.toml")
            .unwrap()
            .providers
            .remove(0)
    }

    /// What the contract writes, the runtime reads back to the same settings.
    #[test]
    fn the_runtime_reads_what_the_manifest_writes() {
        let p = provider(
            "[providers.signing]\nheader = \"X-Orders-Sig\"\nalgorithm = \"sha512\"\nencoding = \"base64\"\nprefix = \"v1=\"\n[providers.ingest]\nmax_body_bytes = 4096\ntimestamp_tolerance_secs = 60\n[providers.processor]\nconcurrency = 3\n",
        );
        let mut env = ingest(&p);
        let names = ResourceEnvironment::names();
        env.insert(
            names.queue_url,
            "http://127.0.0.1:9324/000000000000/orders".into(),
        );
        env.insert(names.signing_secret, "s3cret".into());
        let config = IngestConfig::from_lookup(|var| env.get(var).cloned()).unwrap();
        assert_eq!(config.provider, "orders");
        assert_eq!(config.max_body_bytes, 4096);
        assert_eq!(config.tolerance.as_secs(), 60);
        let Some(generic) = config.scheme.generic_hmac_settings() else {
            panic!("not generic-hmac: {:?}", config.scheme)
        };
        assert_eq!(p.scheme(), Ok(config.scheme.clone()));
        assert_eq!(generic.header(), "x-orders-sig");
        assert_eq!(generic.prefix.as_deref(), Some("v1="));

        // The table is a resource value: without it, the window alone refuses to start.
        let mut env = processor(&p);
        assert!(ProcessorConfig::from_lookup(|var| env.get(var).cloned()).is_err());
        env.insert(vars::IDEMPOTENCY_TABLE.into(), "p-dev-idempotency".into());
        let config = ProcessorConfig::from_lookup(|var| env.get(var).cloned()).unwrap();
        assert_eq!(
            (config.provider.as_str(), config.concurrency),
            ("orders", 3)
        );
        let idempotency = config.idempotency.unwrap();
        assert_eq!(
            (idempotency.table.as_str(), idempotency.ttl.as_secs()),
            ("p-dev-idempotency", 72 * 3600)
        );
    }

    #[test]
    fn a_url_signed_scheme_gets_its_public_url_and_its_own_tolerance() {
        let p = provider(
            "[providers.signing]\nscheme = \"twilio\"\npublic_url = \"https://hooks.example.com/sms\"\n",
        );
        // The default body limit: with the body bucket, as the stacks give it.
        let mut env = with_body_bucket(ingest(&p), &p, BUCKET);
        let names = ResourceEnvironment::names();
        env.insert(
            names.queue_url,
            "http://127.0.0.1:9324/000000000000/orders".into(),
        );
        env.insert(names.signing_secret, "s3cret".into());
        let config = IngestConfig::from_lookup(|var| env.get(var).cloned()).unwrap();
        assert_eq!(
            config.max_body_bytes as u64,
            crate::limits::DEFAULT_MAX_BODY_BYTES
        );
        assert_eq!(config.scheme.name(), "twilio");
        assert_eq!(
            config.public_url.as_deref(),
            Some("https://hooks.example.com/sms")
        );
        let paddle = ingest(&provider("[providers.signing]\nscheme = \"paddle\"\n"));
        assert_eq!(paddle[vars::TIMESTAMP_TOLERANCE_SECS], "5");
    }

    #[test]
    fn every_variable_is_hooklines_and_defaults_are_written_out() {
        let p = provider("");
        let env = ingest(&p);
        assert!(env.keys().all(|k| k.starts_with("HOOKLINE_")), "{env:?}");
        assert_eq!(
            env[vars::MAX_BODY_BYTES],
            crate::limits::DEFAULT_MAX_BODY_BYTES.to_string()
        );
        assert_eq!(env[vars::LOG], "info");
        assert!(!env.contains_key(vars::GENERIC_HEADER));
        assert_eq!(processor(&p)[vars::PROCESS_CONCURRENCY], "8");
        assert!(
            !env.contains_key(vars::GROUP_BY),
            "a standard queue has no groups"
        );
    }

    #[test]
    fn only_a_provider_over_the_inline_limit_gets_the_body_bucket() {
        let bucket = crate::stage::body_bucket_name("p", crate::stage::LOCAL_STAGE);
        assert_eq!(bucket, BUCKET);
        let default = provider("");
        assert!(default.uses_body_bucket());
        for env in [ingest(&default), processor(&default)] {
            assert_eq!(
                with_body_bucket(env, &default, &bucket)[vars::BODY_BUCKET],
                BUCKET
            );
        }
        let inline = provider("[providers.ingest]\nmax_body_bytes = 1000000\n");
        assert!(!inline.uses_body_bucket());
        for env in [ingest(&inline), processor(&inline)] {
            let before = env.clone();
            assert_eq!(with_body_bucket(env, &inline, &bucket), before);
        }
        // The contract alone never names a bucket: its value is a resource's.
        assert!(!ingest(&default).contains_key(vars::BODY_BUCKET));
        assert!(!processor(&default).contains_key(vars::BODY_BUCKET));
    }

    #[test]
    fn a_fifo_provider_gets_its_group_by_and_the_runtime_reads_it_back() {
        for (extra, expected) in [
            ("", "provider"),
            (
                "group_by = \"/data/object/customer\"\n",
                "/data/object/customer",
            ),
            ("group_by = \"X-Shop\"\n", "x-shop"),
        ] {
            let p = provider(&format!("[providers.queue]\nkind = \"fifo\"\n{extra}"));
            let mut env = with_body_bucket(ingest(&p), &p, BUCKET);
            assert_eq!(env[vars::GROUP_BY], expected);
            let names = ResourceEnvironment::names();
            env.insert(
                names.queue_url,
                "http://127.0.0.1:9324/000000000000/orders.fifo".into(),
            );
            env.insert(names.signing_secret, "s3cret".into());
            let config = IngestConfig::from_lookup(|var| env.get(var).cloned()).unwrap();
            assert_eq!(Some(config.group_by), p.queue.group_by);
        }
    }
}
