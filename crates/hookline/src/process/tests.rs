use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::json;

use super::*;
use crate::envelope::Envelope;

fn envelope_json(body: &str) -> String {
    Envelope {
        id: "id".into(),
        provider: "stripe".into(),
        event_type: Some("invoice.paid".into()),
        delivery_id: Some(format!("evt_{body}")),
        dedup_id: Some(format!("evt_{body}")),
        received_at: chrono::DateTime::from_timestamp(1_764_400_000, 0).unwrap(),
        content_type: None,
        headers: BTreeMap::new(),
        body: body.as_bytes().to_vec(),
        body_ref: None,
    }
    .to_json()
}

pub(super) fn event(queue_arn: &str, records: &[(&str, String)]) -> SqsEvent {
    let records: Vec<_> = records
        .iter()
        .map(|(id, body)| {
            json!({
                "messageId": id,
                "receiptHandle": format!("rh-{id}"),
                "body": body,
                "attributes": { "ApproximateReceiveCount": "2", "SentTimestamp": "1764400000000" },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "eu-west-1"
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

pub(super) const STANDARD: &str = "arn:aws:sqs:eu-west-1:123456789012:stripe";
pub(super) const FIFO: &str = "arn:aws:sqs:eu-west-1:123456789012:stripe.fifo";

pub(super) fn failed(response: &SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

async fn handler(delivery: Delivery) -> Result<(), String> {
    match delivery.envelope.body_text() {
        Some("fail") => Err("refused".to_owned()),
        Some("panic") => panic!("handler bug"),
        _ => Ok(()),
    }
}

#[tokio::test]
async fn a_handler_that_panics_before_returning_its_future_fails_only_that_message() {
    let eager = |d: Delivery| {
        assert!(
            d.envelope.body_text() != Some("panic"),
            "handler bug before any await"
        );
        async { Ok::<_, String>(()) }
    };
    let batch = event(
        STANDARD,
        &[
            ("m1", envelope_json("ok")),
            ("m2", envelope_json("panic")),
            ("m3", envelope_json("ok")),
        ],
    );
    assert_eq!(failed(&process_batch(batch.clone(), &eager).await), ["m2"]);
    let fifo = event(
        FIFO,
        &[("m1", envelope_json("panic")), ("m2", envelope_json("ok"))],
    );
    assert_eq!(failed(&process_batch(fifo, &eager).await), ["m1", "m2"]);
}

#[tokio::test]
async fn a_mixed_batch_reports_exactly_the_failures() {
    let batch = event(
        STANDARD,
        &[
            ("m1", envelope_json("ok")),
            ("m2", envelope_json("fail")),
            ("m3", "not an envelope".into()),
            ("m4", envelope_json("panic")),
            ("m5", envelope_json("ok")),
            ("m6", r#"{"version":9}"#.into()),
        ],
    );
    let response = process_batch(batch, &handler).await;
    assert_eq!(failed(&response), ["m2", "m3", "m4", "m6"]);
}

#[tokio::test]
async fn an_all_good_batch_reports_nothing_and_serialises_as_lambda_expects() {
    let batch = event(
        STANDARD,
        &[("m1", envelope_json("ok")), ("m2", envelope_json("ok"))],
    );
    let response = process_batch(batch, &handler).await;
    assert!(response.batch_item_failures.is_empty());
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(json, json!({ "batchItemFailures": [] }));
}

#[tokio::test]
async fn the_handler_gets_the_delivery_with_its_raw_body() {
    let seen = Mutex::new(Vec::new());
    let record = |d: Delivery| {
        seen.lock().unwrap().push((
            d.message_id.clone(),
            d.receive_count,
            d.body().to_vec(),
            d.delivery_id().map(str::to_owned),
        ));
        async { Ok::<_, String>(()) }
    };
    let body = "{ \"a\" : 1.0 }";
    process_batch(event(STANDARD, &[("m1", envelope_json(body))]), &record).await;
    assert_eq!(
        *seen.lock().unwrap(),
        [(
            "m1".to_owned(),
            2,
            body.as_bytes().to_vec(),
            Some(format!("evt_{body}"))
        )]
    );
}

#[tokio::test]
async fn fifo_stops_at_the_first_failure_and_reports_the_rest() {
    let calls = Mutex::new(Vec::new());
    let tracked = |d: Delivery| {
        calls.lock().unwrap().push(d.message_id.clone());
        handler(d)
    };
    let batch = event(
        FIFO,
        &[
            ("m1", envelope_json("ok")),
            ("m2", envelope_json("fail")),
            ("m3", envelope_json("ok")),
            ("m4", envelope_json("ok")),
        ],
    );
    let response = process_batch(batch, &tracked).await;
    assert_eq!(failed(&response), ["m2", "m3", "m4"]);
    assert_eq!(*calls.lock().unwrap(), ["m1", "m2"]);
}

#[tokio::test]
async fn a_record_without_id_fails_the_whole_batch() {
    let mut batch = event(STANDARD, &[("m1", "garbage".into())]);
    batch.records[0].message_id = None;
    let response = process_batch(batch, &handler).await;
    assert_eq!(failed(&response), [""]);
}

/// Each message is measured: success, how long its handling took, and how long it waited
/// since its SentTimestamp (a past time here); FIFO messages after a failure were not handled.
#[tokio::test]
async fn each_message_is_measured_in_batch_order() {
    let batch = event(
        STANDARD,
        &[
            ("m1", envelope_json("ok")),
            ("m2", envelope_json("fail")),
            ("m3", envelope_json("ok")),
        ],
    );
    let (response, items) = process_batch_measured(batch, &handler, 2).await;
    assert_eq!(failed(&response), ["m2"]);
    assert_eq!(
        items.iter().map(|i| i.ok).collect::<Vec<_>>(),
        [true, false, true]
    );
    let now = chrono::Utc::now().timestamp_millis() as f64;
    for item in &items {
        assert!(item.duration_ms.is_some_and(|ms| ms >= 0.0));
        let age = item.queue_age_ms.unwrap();
        assert!(age > 0.0 && age <= now - 1_764_400_000_000.0, "{age}");
    }

    let fifo = event(
        FIFO,
        &[("m1", envelope_json("fail")), ("m2", envelope_json("ok"))],
    );
    let (_, items) = process_batch_measured(fifo, &handler, 1).await;
    assert!(!items[0].ok);
    assert!(items[0].duration_ms.is_some());
    assert_eq!(items[1], crate::metrics::ItemOutcome::not_attempted());

    let mut unsent = event(STANDARD, &[("m1", envelope_json("ok"))]);
    unsent.records[0].attributes.clear();
    let (_, items) = process_batch_measured(unsent, &handler, 1).await;
    assert_eq!(items[0].queue_age_ms, None);
}

/// Lambda hands the processor SQS's system attributes, `AWSTraceHeader` among them (when the
/// message was sent with one): the delivery carries it.
#[tokio::test]
async fn the_delivery_carries_the_trace_header_sqs_kept() {
    let mut batch = event(
        STANDARD,
        &[("m1", envelope_json("ok")), ("m2", envelope_json("ok"))],
    );
    let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    batch.records[0]
        .attributes
        .insert(AWS_TRACE_HEADER.into(), header.into());
    let seen = Mutex::new(Vec::new());
    let record = |d: Delivery| {
        seen.lock()
            .unwrap()
            .push(d.trace_header().map(str::to_owned));
        async { Ok::<_, String>(()) }
    };
    process_batch_with(batch, &record, 1).await;
    assert_eq!(*seen.lock().unwrap(), [Some(header.to_owned()), None]);
}
