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
