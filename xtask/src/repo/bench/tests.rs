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
    ] {
        assert!(metrics[key]["median"].is_number(), "{key} is missing");
    }
    assert_eq!(json["targets"].as_array().unwrap().len(), 7);
    assert!(
        json["targets"][5]["met"].is_boolean(),
        "durability was checked"
    );
    let md = std::fs::read_to_string(out.path().join("BENCHMARKS.md")).unwrap();
    for heading in [
        "## Targets (issue 6)",
        "## 1. Ingest in the Runtime API emulator",
        "## 2. Local stack end to end",
        "## 3. Local SQS endpoint",
        "## 4. Release zip size",
    ] {
        assert!(md.contains(heading), "BENCHMARKS.md lacks {heading}");
    }
}

/// The report's prose says what the run did, from where it is decided: the stack's instances
/// (`cargo xtask dev`'s default), the open loop's connections, the provider's batch size and
/// the fixtures' sizes. Nothing is measured: an empty run.
#[test]
fn the_reports_prose_is_derived_from_the_settings() {
    let out = tempfile::tempdir().unwrap();
    let settings = hookline_bench::Settings::new(true, Some(1));
    let metrics = hookline_bench::Metrics::default();
    let report = report::Report {
        settings: &settings,
        batch_size: 7,
        payload_bytes: (1_234, 5_678),
        metrics: &metrics,
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
