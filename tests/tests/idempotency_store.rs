//! The idempotency store's record protocol (`hookline::idempotency`, Powertools' protocol) with
//! the real `aws-sdk-dynamodb` client against moto's DynamoDB, the reference, and against the
//! local stack's DynamoDB-compatible endpoint, which must behave the same: first run,
//! duplicate after completion, concurrent duplicate in progress, handler error then retry,
//! crash then expiry, window expiry; and a processor batch through it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use hookline::aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use hookline::idempotency::{
    self, Begin, DynamoDbStore, Guard, Once, OnceError, Store, delivery_key,
};
use hookline::{Delivery, Envelope};
use hookline_local::endpoint::AwsEndpoint;
use hookline_test_moto::Moto;

async fn client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&config)
}

/// A table as the CDK app makes it: partition key `id` (string), on demand.
async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) {
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
}

fn in_a_minute() -> SystemTime {
    SystemTime::now() + Duration::from_secs(60)
}

/// Every protocol case, on a fresh table of `client`'s server.
async fn protocol_cases(client: aws_sdk_dynamodb::Client, table: &str) {
    create_table(&client, table).await;
    let store = DynamoDbStore::new(client.clone(), table, Duration::from_secs(3600));

    // First run, then a duplicate after completion: not run again, the stored result returned.
    assert_eq!(
        store.begin("a", in_a_minute()).await.unwrap(),
        Begin::Started
    );
    store.complete("a", Some("charged")).await.unwrap();
    assert_eq!(
        store.begin("a", in_a_minute()).await.unwrap(),
        Begin::Completed {
            data: Some("charged".into())
        }
    );

    // A concurrent duplicate while the first is in progress.
    assert_eq!(
        store.begin("b", in_a_minute()).await.unwrap(),
        Begin::Started
    );
    assert_eq!(
        store.begin("b", in_a_minute()).await.unwrap(),
        Begin::InProgress
    );

    // A handler error releases the key: the retry runs.
    store.abandon("b").await.unwrap();
    assert_eq!(
        store.begin("b", in_a_minute()).await.unwrap(),
        Begin::Started
    );

    // A crash leaves the record in progress until the invocation's deadline, then the retry runs.
    // (Seconds, not milliseconds: both puts must land before it on a loaded machine.)
    let soon = SystemTime::now() + Duration::from_secs(3);
    assert_eq!(store.begin("c", soon).await.unwrap(), Begin::Started);
    assert_eq!(
        store.begin("c", in_a_minute()).await.unwrap(),
        Begin::InProgress
    );
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(
        store.begin("c", in_a_minute()).await.unwrap(),
        Begin::Started
    );

    // The window: a completed record older than the TTL no longer stops a run (DynamoDB's TTL
    // deletes it only eventually, so the store's condition checks the expiry itself).
    let short = DynamoDbStore::new(client.clone(), table, Duration::from_secs(1));
    assert_eq!(
        short.begin("d", in_a_minute()).await.unwrap(),
        Begin::Started
    );
    short.complete("d", None).await.unwrap();
    assert_eq!(
        short.begin("d", in_a_minute()).await.unwrap(),
        Begin::Completed { data: None }
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        short.begin("d", in_a_minute()).await.unwrap(),
        Begin::Started
    );

    // A handler's own key: once, then the stored result.
    let runs = Mutex::new(0);
    let charge = || async {
        *runs.lock().unwrap() += 1;
        Ok::<_, String>("ch_1".to_owned())
    };
    let first = idempotency::once(&store, "pi_1", in_a_minute(), |v| Some(v.clone()), charge)
        .await
        .unwrap();
    assert_eq!(first, Once::Ran("ch_1".to_owned()));
    let second = idempotency::once(&store, "pi_1", in_a_minute(), |v| Some(v.clone()), charge)
        .await
        .unwrap();
    assert_eq!(
        second,
        Once::AlreadyDone {
            data: Some("ch_1".into())
        }
    );
    assert_eq!(*runs.lock().unwrap(), 1);
    let failing = idempotency::once(
        &store,
        "pi_2",
        in_a_minute(),
        |_: &()| None,
        || async { Err::<(), _>("card declined") },
    )
    .await;
    assert!(matches!(failing, Err(OnceError::Failed("card declined"))));
    assert_eq!(
        store
            .begin(&idempotency::own_key("pi_2"), in_a_minute())
            .await
            .unwrap(),
        Begin::Started
    );

    // An unknown table: the store says it cannot be used (the message is retried).
    let missing = DynamoDbStore::new(client, "no-such-table", Duration::from_secs(60));
    let err = missing.begin("e", in_a_minute()).await.unwrap_err();
    assert_eq!(err.action, "begin");
    assert!(err.to_string().contains("could not begin"), "{err}");
}

fn record(message_id: &str, envelope: &Envelope) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(message_id.into());
    m.body = Some(envelope.to_json());
    m.event_source_arn = Some("arn:aws:sqs:us-east-1:123456789012:stripe".into());
    m
}

/// A batch through `process_batch_once`: the same delivery in two messages runs once; a
/// failing handler leaves its delivery to a retry, which runs it.
async fn processor_cases(client: aws_sdk_dynamodb::Client, table: &str) {
    create_table(&client, table).await;
    let store = DynamoDbStore::new(client, table, Duration::from_secs(3600));
    let guard = Guard {
        store: &store,
        deadline: in_a_minute(),
    };
    let paid = Envelope::new("stripe", &br#"{"id":"evt_1","type":"invoice.paid"}"#[..])
        .with_dedup_id("evt_1");
    let declined = Envelope::new("stripe", &br#"{"id":"evt_2","type":"charge.failed"}"#[..])
        .with_dedup_id("evt_2");
    let runs = Mutex::new(Vec::new());
    let handler = |d: Delivery| {
        runs.lock().unwrap().push(d.dedup_id().to_owned());
        let fail = d.dedup_id() == "evt_2" && d.receive_count == 1;
        async move {
            if fail {
                Err("declined the first time")
            } else {
                Ok(())
            }
        }
    };
    let mut event = SqsEvent::default();
    event.records = vec![record("m1", &paid), record("m2", &declined)];
    let response = hookline::process::process_batch_once(event.clone(), &handler, 1, &guard).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, ["m2"]);

    // SQS redelivers both (the first as a duplicate message of the same delivery).
    event.records = vec![record("m3", &paid), record("m2", &declined)];
    event.records[1]
        .attributes
        .insert("ApproximateReceiveCount".into(), "2".into());
    let response = hookline::process::process_batch_once(event, &handler, 1, &guard).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(*runs.lock().unwrap(), ["evt_1", "evt_2", "evt_2"]);
    assert_eq!(
        store
            .begin(&delivery_key("stripe", "evt_2"), in_a_minute())
            .await
            .unwrap(),
        Begin::Completed { data: None }
    );
}

#[tokio::test]
async fn the_record_protocol_holds_on_motos_dynamodb() {
    let moto = Moto::start();
    protocol_cases(client(&moto.endpoint).await, "protocol").await;
}

#[tokio::test]
async fn a_processor_batch_runs_each_delivery_once_on_motos_dynamodb() {
    let moto = Moto::start();
    processor_cases(client(&moto.endpoint).await, "processor").await;
}

#[tokio::test]
async fn the_record_protocol_holds_on_the_local_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let local = AwsEndpoint::start("127.0.0.1:0".parse().unwrap(), dir.path())
        .await
        .unwrap();
    protocol_cases(client(&local.endpoint()).await, "protocol").await;
}

#[tokio::test]
async fn a_processor_batch_runs_each_delivery_once_on_the_local_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let local = AwsEndpoint::start("127.0.0.1:0".parse().unwrap(), dir.path())
        .await
        .unwrap();
    processor_cases(client(&local.endpoint()).await, "processor").await;
}
