//! `cargo xtask bench --quick` runs to the end and writes a well-formed report. Nothing here
//! asserts on speed: the machine is shared.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn quick_bench_completes_and_writes_a_well_formed_report() {
    let out = tempfile::tempdir().unwrap();
    run(Args {
        quick: true,
        out: Some(out.path().to_path_buf()),
        runs: Some(1),
        no_build: false,
    })
    .unwrap();
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("benchmarks/results.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["quick"], true);
    let metrics = json["metrics"].as_object().unwrap();
    for key in [
        "ingest.noop.cold_start_ms",
        "ingest.ingest_sqs.cpu_us",
        "ingest.ingest_canned.p50_ms",
        "stack.bare_axum.ok_per_sec",
        "stack.closed.ok_per_sec",
        "stack.open_2000.p99_ms",
        "stack.processed_per_sec",
        "sqs.send.per_sec",
        "sqs.send_batch.messages_per_sec",
        "sqs.receive_delete.messages_per_sec",
        "ingest.python.cold_start_ms",
        "ingest.python.p50_ms",
        "ingest.python.rss_mb",
        "ingest.ingest_sqs.log_bytes",
        "webhook.request_bytes",
        "webhook.message_bytes",
        "processor.off.cpu_us_per_message",
        "processor.on.batch_p50_ms",
        "processor.duplicate.wall_ms_per_message",
        "processor.record_bytes",
        "large.noop.p50_ms",
        "large.ingest.p50_ms",
        "large.ingest.cpu_us",
        "large.ingest.rss_mb",
        "large.body_bytes",
        "large.request_bytes",
        "large.message_bytes",
    ] {
        assert!(metrics[key]["median"].is_number(), "{key} is missing");
    }
    assert_eq!(json["targets"].as_array().unwrap().len(), 7);
    assert!(
        json["targets"][5]["met"].is_boolean(),
        "durability was checked"
    );
    // Section 5: the store was used exactly as its protocol says, and only when on.
    let requests = |pass: &str, action: &str| {
        json["processor"][pass]["dynamodb_requests_per_message"][action]
            .as_f64()
            .unwrap()
    };
    assert_eq!(requests("off", "PutItem"), 0.0);
    assert_eq!(requests("on", "PutItem"), 1.0);
    assert_eq!(requests("on", "UpdateItem"), 1.0);
    assert_eq!(requests("duplicate", "GetItem"), 1.0);
    assert_eq!(requests("duplicate", "UpdateItem"), 0.0);
    let dollars = |pass: &str| {
        json["processor"][pass]["dollars_per_million_messages"]
            .as_f64()
            .unwrap()
    };
    assert!(dollars("on") > dollars("off"), "the store costs something");
    // Section 6: both bills, every line priced, totals the sums of their lines.
    let bills = &json["cost"]["per_million_webhooks"];
    for ingest in ["ingest_sqs", "python"] {
        let lines = bills[ingest]["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 11, "{ingest}");
        let sum: f64 = lines.iter().map(|l| l["dollars"].as_f64().unwrap()).sum();
        let total = bills[ingest]["total_per_million"].as_f64().unwrap();
        assert!(
            (sum - total).abs() < 1e-9 && total > 0.0,
            "{ingest}: {total}"
        );
    }
    assert_eq!(json["cost"]["prices_checked"], super::pricing::CHECKED);
    // Section 7: a 3 MB body, billed as six gateway requests and one S3 put, its message a
    // pointer far under SQS's 1 MiB.
    assert_eq!(
        json["metrics"]["large.body_bytes"]["median"],
        hookline_bench::large::LARGE_BODY_BYTES as f64
    );
    assert!(
        json["metrics"]["large.message_bytes"]["median"]
            .as_f64()
            .unwrap()
            < 4096.0
    );
    let large = json["large"]["ingest_per_million"]["lines"]
        .as_array()
        .unwrap();
    let line = |item: &str| {
        large
            .iter()
            .find(|l| l["item"] == item)
            .unwrap_or_else(|| panic!("no {item} line"))["quantity"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(line("API Gateway HTTP API requests"), 6e6);
    assert_eq!(line("S3 PutObject"), 1e6);
    let md = std::fs::read_to_string(out.path().join("BENCHMARKS.md")).unwrap();
    for heading in [
        "## Targets (issue 6)",
        "## 1. Ingest in the Runtime API emulator",
        "## 2. Local stack end to end",
        "## 3. Local SQS endpoint",
        "## 4. Release zip size",
        "## 5. Processor per message, with and without idempotency (issue 16)",
        "## 6. Cost per million webhooks (issue 15)",
        "## 7. Ingest of a 3 MB delivery through the body bucket (issue 17)",
    ] {
        assert!(md.contains(heading), "BENCHMARKS.md lacks {heading}");
    }
    for row in [
        "| API Gateway HTTP API requests |",
        "| DynamoDB writes (idempotency) |",
        "| **total** |",
        "| Python baseline |",
        "| idempotency on, redelivered duplicates |",
        "| 3 MB, `stripe-ingest` → body bucket + queue |",
        "| S3 PutObject |",
    ] {
        assert!(md.contains(row), "BENCHMARKS.md lacks {row}");
    }
    assert!(
        !md.contains("Not measured in this run"),
        "the cost was computed"
    );
}

/// The report's prose says what the run did, from where it is decided: the stack's instances
/// (`cargo xtask dev`'s default), the open loop's connections, the provider's batch size and
/// the fixtures' sizes. Nothing is measured: an empty run.
#[test]
fn the_reports_prose_is_derived_from_the_settings() {
    let out = tempfile::tempdir().unwrap();
    let settings = hookline_bench::Settings::new(true, Some(1));
    let metrics = hookline_bench::Metrics::default();
    let manifest = hookline_bench::bench_manifest("").unwrap();
    let report = report::Report {
        settings: &settings,
        batch_size: 7,
        payload_bytes: (1_234, 5_678),
        metrics: &metrics,
        manifest: &manifest,
        zips: Vec::new(),
        command: "test".into(),
        load_before: String::new(),
        load_after: String::new(),
        wall: std::time::Duration::ZERO,
    };
    let (_, markdown) = report.write(out.path(), out.path()).unwrap();
    let md = std::fs::read_to_string(markdown).unwrap();
    for said in [
        format!(
            "at most {} instances as in `cargo xtask dev`",
            hookline_local::stack::DEFAULT_MAX_INSTANCES
        ),
        "with the signed Stripe fixtures (1.2–5.7 KB)".to_owned(),
        "a signed 5.7 KB Stripe delivery (the largest fixture)".to_owned(),
        format!(
            "({} connections)",
            hookline_bench::stack::OPEN_LOOP_CONNECTIONS
        ),
        format!(
            "batches of 7, {} instances",
            hookline_local::stack::DEFAULT_MAX_INSTANCES
        ),
    ] {
        assert!(
            md.contains(&said),
            "BENCHMARKS.md does not say {said:?}:\n{md}"
        );
    }
}
