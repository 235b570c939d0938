//! The idempotency table through the local stack: the stack makes `<project>-local-idempotency`
//! (TTL on), and a real processor binary writes to it with aws-sdk-dynamodb configured only by
//! the environment the stack gives it (`AWS_ENDPOINT_URL_DYNAMODB`, `HOOKLINE_IDEMPOTENCY_TABLE`);
//! what it wrote is still there after the stack restarts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use hookline_e2e::*;

const MANIFEST: &str = r#"
[project]
name = "e2e"

[[providers]]
name = "acme"
template = "github"
[providers.queue]
max_batching_window_secs = 0
"#;

fn dynamodb(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "test",
        ))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

async fn get(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &str,
) -> Option<std::collections::HashMap<String, AttributeValue>> {
    client
        .get_item()
        .table_name(table)
        .key("id", AttributeValue::S(key.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_processor_writes_to_the_stacks_idempotency_table() {
    let h = harness(MANIFEST);
    let config = || {
        let mut config = h.config();
        config
            .processor_overrides
            .insert("acme".into(), binaries().join("dynamodb-process"));
        config
    };
    let stack = hookline_local::DevStack::start(config()).await.unwrap();
    let table = stack.idempotency_table().table_name.clone();
    assert_eq!(table, "e2e-local-idempotency");
    assert_eq!(
        stack.dynamodb_endpoint(),
        stack.sqs_endpoint(),
        "one listener"
    );
    let client = dynamodb(&stack.dynamodb_endpoint());
    let ttl = client
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    assert_eq!(ttl.attribute_name(), Some("expiration"));

    let body = format!("{{\"delivery\":\"{}\"}}", uuid::Uuid::new_v4());
    let (status, _, _) = post(
        &url(&stack, "acme"),
        &signed(&stack, "acme", body.as_bytes()),
        body.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let item = loop {
        if let Some(item) = get(&client, &table, &body).await {
            break item;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the processor wrote nothing to {table} (HOOKLINE_TEST_LOGS=1 shows its output)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(matches!(&item["dedup_id"], AttributeValue::S(id) if !id.is_empty()));
    stack.shutdown().await;

    // The table and its items are kept across restarts.
    let stack = hookline_local::DevStack::start(config()).await.unwrap();
    let client = dynamodb(&stack.dynamodb_endpoint());
    assert_eq!(get(&client, &table, &body).await, Some(item));
    stack.shutdown().await;
}
