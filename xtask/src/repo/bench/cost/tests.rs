//! The cost model against figures worked out by hand.
#![allow(clippy::unwrap_used)]

use super::*;

const MB: u64 = 1024 * 1024;
const KB: u64 = 1024;
const GB: f64 = 1024.0 * 1024.0 * 1024.0;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn stage() -> Stage {
    Stage {
        architecture: Architecture::Arm64,
        queue: QueueKind::Standard,
        batch_size: 10,
        request_bytes: 4500,
        message_bytes: 6000,
        ingest: Function {
            memory_mb: 128,
            duration_ms: 0.83,
            log_lines: 2.0,
            log_bytes: 700.0,
        },
        processor: Function {
            memory_mb: 256,
            duration_ms: 9.2,
            log_lines: 11.0,
            log_bytes: 3000.0,
        },
        write_units: 2.0,
        read_units: 0.0,
    }
}

#[test]
fn api_gateway_meters_each_512_kb_as_a_request() {
    assert_eq!(http_api_requests(0), 1);
    assert_eq!(http_api_requests(4500), 1);
    assert_eq!(http_api_requests(512 * KB), 1);
    assert_eq!(http_api_requests(513 * KB), 2, "the pricing page's example");
    assert_eq!(http_api_requests(3 * MB), 6);
}

#[test]
fn sqs_bills_each_64_kb_chunk_as_a_request() {
    assert_eq!(sqs_requests(1), 1);
    assert_eq!(sqs_requests(64 * KB), 1);
    assert_eq!(sqs_requests(64 * KB + 1), 2);
    assert_eq!(sqs_requests(256 * KB), 4, "the pricing page's example");
}

#[test]
fn lambda_bills_whole_milliseconds_rounded_up() {
    assert_eq!(billed_ms(0.2), 1.0);
    assert_eq!(billed_ms(1.0), 1.0);
    assert_eq!(billed_ms(1.0001), 2.0);
    assert_eq!(billed_ms(12.3), 13.0);
    // 13 ms at 128 MB = 0.013 s × 0.125 GB.
    assert!(close(gb_seconds(12.3, 128), 0.001_625));
}

#[test]
fn dynamodb_units_follow_item_size() {
    assert_eq!(write_units(100), 1);
    assert_eq!(write_units(1024), 1);
    assert_eq!(write_units(1025), 2);
    assert_eq!(read_units(4096), 1);
    assert_eq!(read_units(4097), 2);
}

#[test]
fn platform_lines_are_start_end_and_report() {
    // 70 + 51 + 140 characters, each with its newline.
    assert_eq!(platform_bytes(), 264.0);
}

#[test]
fn a_known_stage_costs_what_was_worked_out_by_hand() {
    let lines = stage().per_million();
    let dollars = |item: &str| lines.iter().find(|l| l.item == item).unwrap().dollars;
    // 4 500 bytes: one metered request each.
    assert!(close(dollars("API Gateway HTTP API requests"), 1.00));
    assert!(close(dollars("ingest Lambda requests"), 0.20));
    // 0.83 ms → 1 ms at 0.125 GB: 125 GB-s for a million.
    assert!(close(
        dollars("ingest Lambda duration"),
        125.0 * 0.000_013_333_4
    ));
    assert!(close(dollars("SQS SendMessage"), 0.40));
    // A batch of 10 × 6 000 bytes is one 64 KB chunk: 100 000 receives and deletes.
    assert!(close(dollars("SQS ReceiveMessage"), 0.04));
    assert!(close(dollars("SQS DeleteMessageBatch"), 0.04));
    assert!(close(dollars("processor Lambda requests"), 0.02));
    // 9.2 ms → 10 ms at 0.25 GB, 100 000 batches: 250 GB-s.
    assert!(close(
        dollars("processor Lambda duration"),
        250.0 * 0.000_013_333_4
    ));
    // Ingest: 700 + 264 bytes + 26 × 5 events = 1 094; processor: (3 000 + 264 + 26 × 14) / 10
    // = 362.8 per webhook; 1 456.8 bytes × a million / 2^30 at $0.50.
    let logs = 1_456.8e6 / 1_073_741_824.0 * 0.50;
    assert!(close(dollars("CloudWatch Logs ingestion"), logs));
    assert!(close(dollars("DynamoDB writes (idempotency)"), 1.25));
    assert_eq!(dollars("DynamoDB reads (idempotency)"), 0.0);
    let by_hand = 1.00
        + 0.20
        + 125.0 * 0.000_013_333_4
        + 0.40
        + 0.04
        + 0.04
        + 0.02
        + 250.0 * 0.000_013_333_4
        + logs
        + 1.25;
    assert!(close(total(&lines), by_hand), "{}", total(&lines));
    assert!(close(by_hand, 3.633_375_388_349_9));
    // The processor's share: its requests, duration, logs and the table.
    let processor = 0.02 + 250.0 * 0.000_013_333_4 + 362.8e6 / 1_073_741_824.0 * 0.50 + 1.25;
    assert!(close(stage().processor_per_million(), processor));
}

#[test]
fn fifo_queues_and_x86_use_their_prices() {
    let fifo = Stage {
        queue: QueueKind::Fifo,
        architecture: Architecture::X86_64,
        ..stage()
    };
    let lines = fifo.per_million();
    let dollars = |item: &str| lines.iter().find(|l| l.item == item).unwrap().dollars;
    assert!(close(dollars("SQS SendMessage"), 0.50));
    assert!(close(
        dollars("ingest Lambda duration"),
        125.0 * 0.000_016_666_7
    ));
}

#[test]
fn batches_over_ten_take_several_receives_and_deletes() {
    let big = Stage {
        batch_size: 25,
        ..stage()
    };
    // 3 receives and 3 deletes for 25 messages; a message over 64 KB costs chunks each time.
    let (send, receive, delete) = big.sqs_requests_per_message();
    assert!(close(send, 1.0));
    assert!(close(receive, 3.0 / 25.0));
    assert!(close(delete, 3.0 / 25.0));
    let large = Stage {
        message_bytes: 200 * KB,
        ..stage()
    };
    let (send, receive, _) = large.sqs_requests_per_message();
    assert!(close(send, 4.0));
    // 10 × 200 KB = 2 000 KB received in one call: 32 chunks, per message 3.2.
    assert!(close(receive, 3.2));
}

#[test]
fn each_further_millisecond_and_cpu_throttling() {
    // 1 ms at 128 MB for a million invocations: 125 GB-s.
    assert!(close(
        per_extra_ms(128, Architecture::Arm64),
        125.0 * 0.000_013_333_4
    ));
    // 350 µs of CPU with 128/1769 of a vCPU.
    assert!(close(throttled_ms(350.0, 128), 0.35 * 1769.0 / 128.0));
    // A function with a whole vCPU or more runs at full speed.
    assert!(close(throttled_ms(350.0, 2048), 0.35));
}

/// A 3 MB delivery worked out by hand: 6 metered API Gateway requests ($6), a Lambda request
/// ($0.20), 31 ms at 128 MB = 0.003875 GB-s ($0.0516667 a million), a PUT ($5), one 64 KB SQS
/// chunk ($0.40), and 2 lines of 700 bytes + Lambda's 3 lines, 26 bytes each.
#[test]
fn a_large_delivery_costs_six_gateway_requests_and_a_put() {
    let mut large = Ingested {
        architecture: Architecture::Arm64,
        queue: QueueKind::Standard,
        request_bytes: 3_000_600,
        body_bytes: 3_000_000,
        in_bucket: true,
        message_bytes: 900,
        ingest: Function {
            memory_mb: 128,
            duration_ms: 30.2,
            log_lines: 2.0,
            log_bytes: 700.0,
        },
    };
    let bill = large.ingest_per_million();
    let dollars: Vec<f64> = bill.iter().map(|l| l.dollars).collect();
    assert!(close(dollars[0], 6.0), "{bill:?}");
    assert!(close(dollars[1], 0.2));
    assert!(close(dollars[2], 1e6 * 0.031 * 0.125 * 0.000_013_333_4));
    assert!(close(dollars[3], 5.0));
    assert!(close(dollars[4], 0.4));
    let logged = 700.0 + platform_bytes() + 5.0 * 26.0;
    assert!(close(dollars[5], 1e6 * logged / GB * 0.5));
    // An hour in the bucket: 1e6 × 3 MB = 2,794 GB for 1/730 of a month.
    let after = large.bucket_after_ingest(1.0);
    assert!(close(after[0].dollars, 0.4));
    assert!(close(
        after[1].dollars,
        1e6 * 3_000_000.0 / GB / 730.0 * 0.023
    ));
    // The same delivery in the message (were it small enough): no S3 at all.
    large.in_bucket = false;
    assert_eq!(large.ingest_per_million()[3].dollars, 0.0);
    assert!(
        large
            .bucket_after_ingest(1.0)
            .iter()
            .all(|l| l.dollars == 0.0)
    );
}
