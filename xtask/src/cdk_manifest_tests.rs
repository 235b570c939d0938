//! The CDK app reads hookline.toml with its own TypeScript reader (cdk/lib/manifest.ts). Both
//! readers must agree: cdk/test/manifest-cases.json holds manifests with the values, or the
//! error (field and message), that both must produce. cdk/test/manifest.test.ts runs the same
//! cases against the TypeScript reader.

use hookline_manifest::{Manifest, Provider, parse};
use serde_json::{Map, Value, json};

use crate::tools;

/// A manifest in the shape of the TypeScript reader's (camelCase, absent options omitted).
fn to_json(manifest: &Manifest) -> Value {
    let mut project = json!({
        "name": manifest.project.name,
        "region": manifest.project.region,
        "architecture": manifest.project.architecture.as_str(),
    });
    if let Some(email) = &manifest.project.alarm_email {
        project["alarmEmail"] = email.clone().into();
    }
    json!({
        "project": project,
        "providers": manifest.providers.iter().map(provider).collect::<Vec<_>>(),
    })
}

fn provider(p: &Provider) -> Value {
    let mut signing = Map::new();
    signing.insert("scheme".into(), p.signing.scheme.clone().into());
    for (key, value) in [
        ("secretArn", &p.signing.secret_arn),
        ("header", &p.signing.header),
        ("algorithm", &p.signing.algorithm),
        ("encoding", &p.signing.encoding),
        ("prefix", &p.signing.prefix),
    ] {
        if let Some(value) = value {
            signing.insert(key.into(), value.clone().into());
        }
    }
    let mut processor = json!({
        "timeoutSecs": p.processor.timeout_secs,
        "memoryMb": p.processor.memory_mb,
    });
    if let Some(n) = p.processor.max_concurrency {
        processor["maxConcurrency"] = n.into();
    }
    json!({
        "name": p.name,
        "template": p.template,
        "route": p.route,
        "signing": signing,
        "ingest": {
            "maxBodyBytes": p.ingest.max_body_bytes,
            "timestampToleranceSecs": p.ingest.timestamp_tolerance_secs,
            "timeoutSecs": p.ingest.timeout_secs,
            "memoryMb": p.ingest.memory_mb,
        },
        "queue": {
            "kind": p.queue.kind.as_str(),
            "batchSize": p.queue.batch_size,
            "maxBatchingWindowSecs": p.queue.max_batching_window_secs,
            "maxReceiveCount": p.queue.max_receive_count,
            "visibilityTimeoutSecs": p.queue.visibility_timeout_secs,
            "retentionSecs": p.queue.retention_secs,
        },
        "processor": processor,
        "vars": p.vars,
    })
}

#[test]
fn the_rust_reader_agrees_with_the_shared_cases() {
    let path = tools::project_root().join("cdk/test/manifest-cases.json");
    let cases: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cases = cases["cases"].as_array().unwrap();
    assert!(cases.len() >= 40, "the shared cases went missing");
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let toml = case["toml"].as_str().unwrap();
        let result = parse(toml, "hookline.toml");
        let problem = match (
            result,
            &case["manifest"],
            &case["error"],
            &case["parseError"],
        ) {
            (Ok(manifest), expected, Value::Null, Value::Null) if !expected.is_null() => {
                let got = to_json(&manifest);
                (got != *expected).then(|| format!("got {got}, expected {expected}"))
            }
            (Err(err), Value::Null, expected, Value::Null) if !expected.is_null() => {
                let got = json!({ "field": err.field, "message": err.message });
                (got != *expected).then(|| format!("got {got}, expected {expected}"))
            }
            (Err(err), Value::Null, Value::Null, expected) if !expected.is_null() => {
                let mentions = expected["mentions"].as_str().unwrap();
                (!err.to_string().contains(mentions))
                    .then(|| format!("`{err}` does not mention `{mentions}`"))
            }
            (Ok(_), ..) => Some("parsed, but an error was expected".to_owned()),
            (Err(err), ..) => Some(format!("failed with `{err}`, but a manifest was expected")),
        };
        if let Some(problem) = problem {
            failures.push(format!("{name}: {problem}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
