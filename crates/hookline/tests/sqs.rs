//! `SqsQueue`, Secrets Manager loading and ingest against a real AWS-protocol server (moto).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support;

use std::time::Duration;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_sdk_sqs::types::QueueAttributeName;
use hmac::Mac;
use hookline::queue::{Queue, QueueError, QueueMessage};
use hookline::secrets::{SecretError, fetch};
use hookline::{Envelope, Ingest, Scheme, SigningSecret, SqsQueue, Verifier};
use serde_json::json;
use support::Moto;

fn message(delivery_id: &str) -> QueueMessage {
    QueueMessage {
        body: format!(r#"{{"delivery":"{delivery_id}"}}"#),
        provider: "stripe".into(),
        group_id: "stripe".into(),
        event_type: Some("invoice.paid".into()),
        dedup_id: Some(delivery_id.into()),
        trace_header: None,
    }
}

async fn create_queue(client: &aws_sdk_sqs::Client, name: &str) -> String {
    let mut request = client.create_queue().queue_name(name);
    if name.ends_with(".fifo") {
        request = request.attributes(QueueAttributeName::FifoQueue, "true");
    }
    request.send().await.unwrap().queue_url.unwrap()
}

async fn receive_all(client: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default()
}

#[tokio::test]
async fn send_writes_body_and_attributes() {
    let moto = Moto::start();
    let client = aws_sdk_sqs::Client::new(&support::sdk_config(&moto).await);
    let url = create_queue(&client, "stripe").await;
    let queue = SqsQueue::new(client.clone(), &url);
    let id = queue.send(message("evt_1")).await.unwrap();
    let received = receive_all(&client, &url).await;
    assert_eq!(received.len(), 1);
    let m = &received[0];
    assert_eq!(m.message_id.as_deref(), Some(id.as_str()));
    assert_eq!(m.body.as_deref(), Some(r#"{"delivery":"evt_1"}"#));
    let attrs = m.message_attributes.as_ref().unwrap();
    assert_eq!(attrs["provider"].string_value(), Some("stripe"));
    assert_eq!(attrs["event_type"].string_value(), Some("invoice.paid"));
}

#[tokio::test]
async fn fifo_sends_group_and_deduplication_ids() {
    let moto = Moto::start();
    let client = aws_sdk_sqs::Client::new(&support::sdk_config(&moto).await);
    let url = create_queue(&client, "stripe.fifo").await;
    let queue = SqsQueue::new(client.clone(), &url);
    queue.send(message("evt_1")).await.unwrap();
    // The provider retried the same delivery: SQS drops the duplicate.
    queue.send(message("evt_1")).await.unwrap();
    queue.send(message("evt_2")).await.unwrap();
    let received = receive_all(&client, &url).await;
    let bodies: Vec<_> = received.iter().map(|m| m.body.clone().unwrap()).collect();
    assert_eq!(
        bodies,
        [r#"{"delivery":"evt_1"}"#, r#"{"delivery":"evt_2"}"#]
    );
    let attributes = received[0].attributes.as_ref().unwrap();
    use aws_sdk_sqs::types::MessageSystemAttributeName as A;
    assert_eq!(
        attributes.get(&A::MessageGroupId).map(String::as_str),
        Some("stripe")
    );
    assert_eq!(
        attributes
            .get(&A::MessageDeduplicationId)
            .map(String::as_str),
        Some("evt_1")
    );
}

/// `group_by` as a JSON pointer: each customer's deliveries are a message group of their own;
/// a delivery without a customer joins the provider's group, and is queued all the same.
#[tokio::test]
async fn ingest_groups_fifo_deliveries_by_a_pointer_into_the_body() {
    let moto = Moto::start();
    let client = aws_sdk_sqs::Client::new(&support::sdk_config(&moto).await);
    let url = create_queue(&client, "stripe.fifo").await;
    let ingest = stripe_ingest(SqsQueue::new(client.clone(), &url))
        .with_group_by("/data/object/customer".parse().unwrap());
    let now = chrono::Utc::now().timestamp();
    for (id, customer) in [
        ("evt_1", Some("cus_A")),
        ("evt_2", Some("cus_B")),
        ("evt_3", None),
    ] {
        let object = customer.map_or(json!({}), |c| json!({ "customer": c }));
        let body =
            json!({ "id": id, "type": "invoice.paid", "data": { "object": object } }).to_string();
        let response = ingest
            .handle(stripe_request("whsec_moto", &body, now))
            .await;
        assert_eq!(response.status_code, 200, "{id}: {:?}", response.body);
    }
    use aws_sdk_sqs::types::MessageSystemAttributeName as A;
    let mut groups: Vec<String> = receive_all(&client, &url)
        .await
        .iter()
        .map(|m| m.attributes.as_ref().unwrap()[&A::MessageGroupId].clone())
        .collect();
    groups.sort();
    assert_eq!(groups, ["cus_A", "cus_B", "stripe"]);
}

/// The trace header goes as the `AWSTraceHeader` system attribute (SQS `SendMessage`,
/// `MessageSystemAttributes`), which receivers read back.
#[tokio::test]
async fn the_trace_header_is_sent_as_the_aws_trace_header_system_attribute() {
    let moto = Moto::start();
    let client = aws_sdk_sqs::Client::new(&support::sdk_config(&moto).await);
    let url = create_queue(&client, "stripe").await;
    let queue = SqsQueue::new(client.clone(), &url);
    let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let mut traced = message("evt_1");
    traced.trace_header = Some(header.into());
    queue.send(traced).await.unwrap();
    let received = receive_all(&client, &url).await;
    use aws_sdk_sqs::types::MessageSystemAttributeName as A;
    assert_eq!(
        received[0]
            .attributes
            .as_ref()
            .unwrap()
            .get(&A::AwsTraceHeader)
            .map(String::as_str),
        Some(header)
    );
}

#[tokio::test]
async fn a_missing_queue_is_reported() {
    let moto = Moto::start();
    let client = aws_sdk_sqs::Client::new(&support::sdk_config(&moto).await);
    let queue = SqsQueue::new(client, format!("{}/123456789012/nope", moto.endpoint));
    assert_eq!(
        queue.send(message("evt_1")).await,
        Err(QueueError::QueueDoesNotExist)
    );
}

fn stripe_request(secret: &str, body: &str, t: i64) -> ApiGatewayV2httpRequest {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let sig = hex::encode(mac.finalize().into_bytes());
    serde_json::from_value(json!({
        "version": "2.0",
        "rawPath": "/webhooks/stripe",
        "headers": { "stripe-signature": format!("t={t},v1={sig}"), "content-type": "application/json" },
        "requestContext": { "http": { "method": "POST", "path": "/webhooks/stripe" }, "requestId": "r1", "timeEpoch": 0 },
        "body": body,
        "isBase64Encoded": false
    }))
    .unwrap()
}

fn stripe_ingest(queue: SqsQueue) -> Ingest<SqsQueue> {
    let verifier = Verifier::new(
        "stripe".parse::<Scheme>().unwrap(),
        &[SigningSecret::new("whsec_moto")],
        Duration::from_secs(300),
    )
    .unwrap();
    Ingest::new("stripe", verifier, queue)
}

#[tokio::test]
async fn ingest_queues_signed_deliveries_and_nothing_else() {
    let moto = Moto::start();
    let client = aws_sdk_sqs::Client::new(&support::sdk_config(&moto).await);
    let url = create_queue(&client, "stripe").await;
    let ingest = stripe_ingest(SqsQueue::new(client.clone(), &url));
    let now = chrono::Utc::now().timestamp();
    let body = "{\n  \"id\": \"evt_9\",\n  \"type\": \"invoice.paid\"\n}";

    let ok = ingest.handle(stripe_request("whsec_moto", body, now)).await;
    assert_eq!(ok.status_code, 200);
    let forged = ingest
        .handle(stripe_request("whsec_other", body, now))
        .await;
    assert_eq!(forged.status_code, 401);

    let received = receive_all(&client, &url).await;
    assert_eq!(received.len(), 1, "only the signed delivery is queued");
    let envelope = Envelope::from_json(received[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(envelope.body, body.as_bytes());
    assert_eq!(envelope.delivery_id.as_deref(), Some("evt_9"));
    let Some(aws_lambda_events::encodings::Body::Text(text)) = ok.body else {
        panic!("no body")
    };
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        answer["message_id"].as_str(),
        received[0].message_id.as_deref()
    );
}

#[tokio::test]
async fn ingest_answers_503_when_the_queue_is_missing_or_unreachable() {
    let moto = Moto::start();
    let config = support::sdk_config(&moto).await;
    let missing = SqsQueue::new(
        aws_sdk_sqs::Client::new(&config),
        format!("{}/123456789012/gone", moto.endpoint),
    );
    let now = chrono::Utc::now().timestamp();
    let body = r#"{"id":"evt_1","type":"invoice.paid"}"#;
    let response = stripe_ingest(missing)
        .handle(stripe_request("whsec_moto", body, now))
        .await;
    assert_eq!(response.status_code, 503);

    // Nothing listens on the port of a stopped server.
    let endpoint = moto.endpoint.clone();
    drop(moto);
    let unreachable_config = config.into_builder().endpoint_url(&endpoint).build();
    let queue = SqsQueue::new(
        aws_sdk_sqs::Client::new(&unreachable_config),
        format!("{endpoint}/123456789012/stripe"),
    );
    let response = stripe_ingest(queue)
        .handle(stripe_request("whsec_moto", body, now))
        .await;
    assert_eq!(response.status_code, 503);
    assert_eq!(response.headers.get("retry-after").unwrap(), "5");
}

#[tokio::test]
async fn secrets_manager_values_load_once_with_rotation() {
    let moto = Moto::start();
    let client = aws_sdk_secretsmanager::Client::new(&support::sdk_config(&moto).await);
    let arn = client
        .create_secret()
        .name("hookline/dev/stripe")
        .secret_string(r#"["whsec_new","whsec_old"]"#)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let secrets = fetch(&client, &arn).await.unwrap();
    assert_eq!(
        secrets,
        [
            SigningSecret::new("whsec_new"),
            SigningSecret::new("whsec_old")
        ]
    );

    let empty = client
        .create_secret()
        .name("hookline/dev/empty")
        .secret_string(" ")
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    assert!(matches!(
        fetch(&client, &empty).await,
        Err(SecretError::Empty { .. })
    ));
    let missing = fetch(
        &client,
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope",
    )
    .await;
    assert!(
        matches!(missing, Err(SecretError::Fetch { .. })),
        "{missing:?}"
    );
}

/// A secret changed in Secrets Manager while the instance runs is picked up by the first
/// delivery signed with it, without a new instance.
#[tokio::test]
async fn a_changed_secret_is_read_again_after_a_mismatch() {
    let moto = Moto::start();
    let config = support::sdk_config(&moto).await;
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    let arn = secrets
        .create_secret()
        .name("hookline/dev/stripe-rotating")
        .secret_string("whsec_moto")
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&config);
    let url = create_queue(&sqs, "stripe-rotating").await;
    let (client, secret_arn) = (secrets.clone(), arn.clone());
    let load: hookline::ingest::SecretLoader = Box::new(move || {
        let (client, arn) = (client.clone(), secret_arn.clone());
        Box::pin(async move { fetch(&client, &arn).await })
    });
    let ingest = stripe_ingest(SqsQueue::new(sqs, url)).with_secret_refresh(load, Duration::ZERO);

    secrets
        .put_secret_value()
        .secret_id(&arn)
        .secret_string("whsec_rotated")
        .send()
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let body = r#"{"id":"evt_r","type":"invoice.paid"}"#;
    let response = ingest
        .handle(stripe_request("whsec_rotated", body, now))
        .await;
    assert_eq!(response.status_code, 200, "{:?}", response.body);
    // The old secret is gone from the verifier now.
    let response = ingest.handle(stripe_request("whsec_moto", body, now)).await;
    assert_eq!(response.status_code, 401);
}
