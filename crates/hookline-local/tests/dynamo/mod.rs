//! What the DynamoDB endpoint's tests share: a table on either backend (moto, the reference,
//! or the local endpoint) with an aws-sdk-dynamodb client, and the idempotency store's requests
//! as issue 16 specifies them.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::HashMap;
use std::sync::OnceLock;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TimeToLiveSpecification,
};
use hookline_local::endpoint::AwsEndpoint;
use hookline_test_moto::Moto;

/// One moto for the whole test binary (it stops when the binary ends and closes its stdin);
/// each test has its own table.
fn moto() -> &'static str {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    &MOTO.get_or_init(Moto::start).endpoint
}

pub fn client(endpoint: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "test",
        ))
        .build();
    Client::from_conf(config)
}

/// A table with the idempotency layout (`id` S, on demand, TTL on `expiration`) on a backend.
pub struct Target {
    pub client: Client,
    pub table: String,
    pub endpoint: String,
    /// The local endpoint and its data folder, kept for the test's length.
    pub local: Option<(AwsEndpoint, tempfile::TempDir)>,
}

impl Target {
    pub async fn moto() -> Target {
        Target::on(moto().to_owned(), None).await
    }

    pub async fn local() -> Target {
        let dir = tempfile::tempdir().unwrap();
        let server = AwsEndpoint::start("127.0.0.1:0".parse().unwrap(), dir.path())
            .await
            .unwrap();
        Target::on(server.endpoint(), Some((server, dir))).await
    }

    async fn on(endpoint: String, local: Option<(AwsEndpoint, tempfile::TempDir)>) -> Target {
        let client = client(&endpoint);
        let table = format!("idempotency-{}", uuid::Uuid::new_v4().simple());
        create_table(&client, &table).await;
        Target {
            client,
            table,
            endpoint,
            local,
        }
    }
}

pub async fn create_table(client: &Client, table: &str) {
    client
        .create_table()
        .table_name(table)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expiration")
                .enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

pub fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

pub fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The idempotency store's clock in these tests: far from any real time, so that what is
/// expired and what is not does not depend on when the test runs.
pub const NOW: i64 = 4_000_000_000;
pub const NOW_MS: i64 = NOW * 1000;

/// An in-progress record as the store writes it.
pub fn in_progress(
    key: &str,
    expiration: i64,
    in_progress_expiry_ms: i64,
) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("id".to_owned(), s(key)),
        ("status".to_owned(), s("INPROGRESS")),
        ("expiration".to_owned(), n(expiration)),
        ("in_progress_expiry".to_owned(), n(in_progress_expiry_ms)),
    ])
}

/// The store's claim: PutItem of an in-progress record unless a live one is there.
pub async fn claim(
    target: &Target,
    item: HashMap<String, AttributeValue>,
) -> Result<
    (),
    aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::put_item::PutItemError>,
> {
    target
        .client
        .put_item()
        .table_name(&target.table)
        .set_item(Some(item))
        .condition_expression(
            "attribute_not_exists(#id) OR #expiration < :now OR (#status = :in_progress AND #in_progress_expiry < :now_ms)",
        )
        .expression_attribute_names("#id", "id")
        .expression_attribute_names("#expiration", "expiration")
        .expression_attribute_names("#status", "status")
        .expression_attribute_names("#in_progress_expiry", "in_progress_expiry")
        .expression_attribute_values(":now", n(NOW))
        .expression_attribute_values(":now_ms", n(NOW_MS))
        .expression_attribute_values(":in_progress", s("INPROGRESS"))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .map(|_| ())
}

/// GetItem with a consistent read, as the store reads.
pub async fn get(target: &Target, key: &str) -> Option<HashMap<String, AttributeValue>> {
    target
        .client
        .get_item()
        .table_name(&target.table)
        .key("id", s(key))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

/// The error code and message of a failed call.
pub fn code_and_message<E: ProvideErrorMetadata>(err: &E) -> (String, String) {
    (
        err.code().unwrap_or_default().to_owned(),
        err.message().unwrap_or_default().to_owned(),
    )
}

/// Runs a case against moto and against the local endpoint, as two tests.
#[macro_export]
macro_rules! on_both {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                #[tokio::test]
                async fn moto() {
                    super::$case(super::dynamo::Target::moto().await).await;
                }

                #[tokio::test]
                async fn local() {
                    super::$case(super::dynamo::Target::local().await).await;
                }
            }
        )*
    };
}
