use std::collections::HashMap;

use super::*;
use crate::verify::{Algorithm, Encoding};

fn config(pairs: &[(&str, &str)]) -> Result<IngestConfig, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    IngestConfig::from_lookup(|k| map.get(k).cloned())
}

const BASE: [(&str, &str); 4] = [
    ("HOOKLINE_PROVIDER", "stripe"),
    ("HOOKLINE_SCHEME", "stripe"),
    (
        "HOOKLINE_QUEUE_URL",
        "http://127.0.0.1:9324/000000000000/stripe",
    ),
    ("HOOKLINE_SIGNING_SECRET", "whsec_topsecret"),
];

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut pairs = BASE.to_vec();
    for (k, v) in extra {
        pairs.retain(|(key, _)| key != k);
        pairs.push((k, v));
    }
    pairs
}

#[test]
fn defaults_apply() {
    let c = config(&BASE).unwrap();
    assert_eq!(c.scheme.name(), "stripe");
    assert_eq!(c.tolerance, Duration::from_secs(300));
    assert_eq!(c.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
    assert_eq!(c.secret_source, SecretSource::Env("whsec_topsecret".into()));
}

#[test]
fn debug_never_shows_the_secret() {
    let c = config(&BASE).unwrap();
    let debug = format!("{c:?}");
    assert!(!debug.contains("topsecret"), "{debug}");
    assert!(debug.contains("stripe"));
}

#[test]
fn missing_and_invalid_values_name_their_variable() {
    for var in ["HOOKLINE_PROVIDER", "HOOKLINE_SCHEME", "HOOKLINE_QUEUE_URL"] {
        let pairs: Vec<_> = BASE.iter().copied().filter(|(k, _)| *k != var).collect();
        assert_eq!(config(&pairs), Err(ConfigError::Missing { var }));
    }
    let cases: [(&str, &str); 6] = [
        ("HOOKLINE_SCHEME", "paypal"),
        ("HOOKLINE_PROVIDER", "Stripe!"),
        ("HOOKLINE_QUEUE_URL", "stripe-queue"),
        ("HOOKLINE_TIMESTAMP_TOLERANCE_SECS", "0"),
        ("HOOKLINE_TIMESTAMP_TOLERANCE_SECS", "five"),
        ("HOOKLINE_MAX_BODY_BYTES", "2000000"),
    ];
    for (var, value) in cases {
        match config(&with(&[(var, value)])) {
            Err(ConfigError::Invalid { var: v, reason }) => {
                assert_eq!(v, var);
                assert!(!reason.is_empty());
            }
            other => panic!("{var}={value}: {other:?}"),
        }
    }
}

#[test]
fn exactly_one_secret_source() {
    let none: Vec<_> = BASE
        .iter()
        .copied()
        .filter(|(k, _)| *k != "HOOKLINE_SIGNING_SECRET")
        .collect();
    assert_eq!(config(&none), Err(ConfigError::SecretSource));
    let empty = with(&[("HOOKLINE_SIGNING_SECRET", "   ")]);
    assert_eq!(config(&empty), Err(ConfigError::SecretSource));
    let both = with(&[(
        "HOOKLINE_SIGNING_SECRET_ARN",
        "arn:aws:secretsmanager:eu-west-1:1:secret:x",
    )]);
    assert_eq!(config(&both), Err(ConfigError::SecretSource));
    let arn = with(&[
        ("HOOKLINE_SIGNING_SECRET", ""),
        ("HOOKLINE_SIGNING_SECRET_ARN", "arn:x"),
    ]);
    assert_eq!(
        config(&arn).map(|c| c.secret_source),
        Ok(SecretSource::SecretsManager {
            arn: "arn:x".into()
        })
    );
}

#[test]
fn generic_hmac_is_configurable() {
    let c = config(&with(&[
        ("HOOKLINE_SCHEME", "generic-hmac"),
        ("HOOKLINE_GENERIC_HEADER", "X-PagerDuty-Signature"),
        ("HOOKLINE_GENERIC_ALGORITHM", "sha512"),
        ("HOOKLINE_GENERIC_ENCODING", "base64"),
        ("HOOKLINE_GENERIC_PREFIX", "v1="),
    ]))
    .unwrap();
    let Some(g) = c.scheme.generic_hmac_settings().cloned() else {
        panic!("not generic")
    };
    assert_eq!(
        (g.header(), g.algorithm, g.encoding, g.prefix.as_deref()),
        (
            "x-pagerduty-signature",
            Algorithm::Sha512,
            Encoding::Base64,
            Some("v1=")
        )
    );
    let bad = config(&with(&[
        ("HOOKLINE_SCHEME", "generic-hmac"),
        ("HOOKLINE_GENERIC_ALGORITHM", "md5"),
    ]));
    assert!(matches!(
        bad,
        Err(ConfigError::Invalid {
            var: "HOOKLINE_GENERIC_ALGORITHM",
            ..
        })
    ));
}

#[test]
fn group_by_is_read_and_checked() {
    assert_eq!(config(&BASE).unwrap().group_by, GroupBy::Provider);
    let c = config(&with(&[("HOOKLINE_GROUP_BY", "/data/object/customer")])).unwrap();
    assert_eq!(c.group_by, GroupBy::Pointer("/data/object/customer".into()));
    let c = config(&with(&[("HOOKLINE_GROUP_BY", "X-Shop-Domain")])).unwrap();
    assert_eq!(c.group_by, GroupBy::Header("x-shop-domain".into()));
    match config(&with(&[("HOOKLINE_GROUP_BY", "/a~2")])) {
        Err(ConfigError::Invalid { var, reason }) => {
            assert_eq!(var, "HOOKLINE_GROUP_BY");
            assert!(reason.contains("RFC 6901"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_stage_defaults_to_the_local_stacks_and_is_checked() {
    assert_eq!(config(&BASE).unwrap().stage, DEFAULT_STAGE);
    assert_eq!(
        config(&with(&[("HOOKLINE_STAGE", "pr-42")])).unwrap().stage,
        "pr-42"
    );
    assert!(matches!(
        config(&with(&[("HOOKLINE_STAGE", "Prod!")])),
        Err(ConfigError::Invalid {
            var: "HOOKLINE_STAGE",
            ..
        })
    ));
    let processor = ProcessorConfig::from_lookup(|k| match k {
        "HOOKLINE_PROVIDER" => Some("github".into()),
        "HOOKLINE_STAGE" => Some("prod".into()),
        _ => None,
    });
    assert_eq!(processor.map(|c| c.stage), Ok("prod".to_owned()));
}

#[test]
fn processor_config_reads_concurrency() {
    let c = ProcessorConfig::from_lookup(|k| match k {
        "HOOKLINE_PROVIDER" => Some("github".into()),
        "HOOKLINE_PROCESS_CONCURRENCY" => Some("3".into()),
        _ => None,
    });
    assert_eq!(
        c,
        Ok(ProcessorConfig {
            provider: "github".into(),
            concurrency: 3,
            stage: "local".into(),
            idempotency: None,
            body_bucket: None,
        })
    );
    let bad = ProcessorConfig::from_lookup(|k| {
        (k == "HOOKLINE_PROVIDER")
            .then(|| "github".into())
            .or_else(|| (k == "HOOKLINE_PROCESS_CONCURRENCY").then(|| "0".into()))
    });
    assert!(matches!(bad, Err(ConfigError::Invalid { .. })));
}

#[test]
fn processor_config_reads_the_idempotency_store() {
    let read = |pairs: &'static [(&'static str, &'static str)]| {
        ProcessorConfig::from_lookup(|k| {
            std::iter::once(("HOOKLINE_PROVIDER", "stripe"))
                .chain(pairs.iter().copied())
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_owned())
        })
        .map(|c| c.idempotency)
    };
    let table = |ttl| {
        Ok(Some(IdempotencyConfig {
            table: "app-dev-idempotency".into(),
            ttl: Duration::from_secs(ttl),
        }))
    };
    assert_eq!(read(&[]), Ok(None));
    assert_eq!(
        read(&[("HOOKLINE_IDEMPOTENCY_TABLE", "app-dev-idempotency")]),
        table(DEFAULT_IDEMPOTENCY_TTL_SECS)
    );
    assert_eq!(
        read(&[
            ("HOOKLINE_IDEMPOTENCY_TABLE", "app-dev-idempotency"),
            ("HOOKLINE_IDEMPOTENCY_TTL_SECS", "3600"),
        ]),
        table(3600)
    );
    assert_eq!(
        read(&[("HOOKLINE_IDEMPOTENCY_TTL_SECS", "3600")]),
        Err(ConfigError::Missing {
            var: "HOOKLINE_IDEMPOTENCY_TABLE"
        })
    );
    assert!(matches!(
        read(&[
            ("HOOKLINE_IDEMPOTENCY_TABLE", "t"),
            ("HOOKLINE_IDEMPOTENCY_TTL_SECS", "0"),
        ]),
        Err(ConfigError::Invalid { .. })
    ));
}

#[test]
fn a_body_bucket_raises_the_default_and_largest_body_limit() {
    let c = config(&with(&[("HOOKLINE_BODY_BUCKET", "bodies")])).unwrap();
    assert_eq!(
        (c.max_body_bytes, c.body_bucket.as_deref()),
        (MAX_BODY_BYTES, Some("bodies"))
    );
    let c = config(&with(&[
        ("HOOKLINE_BODY_BUCKET", "bodies"),
        ("HOOKLINE_MAX_BODY_BYTES", "3000000"),
    ]))
    .unwrap();
    assert_eq!(c.max_body_bytes, 3_000_000);
    let over = (MAX_BODY_BYTES + 1).to_string();
    let over: &'static str = Box::leak(over.into_boxed_str());
    assert!(matches!(
        config(&with(&[
            ("HOOKLINE_BODY_BUCKET", "bodies"),
            ("HOOKLINE_MAX_BODY_BYTES", over)
        ])),
        Err(ConfigError::Invalid {
            var: "HOOKLINE_MAX_BODY_BYTES",
            ..
        })
    ));
    // Without a bucket, a limit over one queue message says what it needs.
    match config(&with(&[("HOOKLINE_MAX_BODY_BYTES", "3000000")])) {
        Err(ConfigError::Invalid { reason, .. }) => {
            assert!(reason.contains("HOOKLINE_BODY_BUCKET"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn processor_config_reads_the_body_bucket() {
    let c = ProcessorConfig::from_lookup(|k| match k {
        "HOOKLINE_PROVIDER" => Some("github".into()),
        "HOOKLINE_BODY_BUCKET" => Some(" bodies ".into()),
        _ => None,
    })
    .unwrap();
    assert_eq!(c.body_bucket.as_deref(), Some("bodies"));
}
