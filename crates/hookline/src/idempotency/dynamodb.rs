//! The idempotency store on DynamoDB (`aws-sdk-dynamodb`): one table per stage, partition key
//! `id`, TTL on `expiration`. The same calls reach the local stack's DynamoDB-compatible
//! endpoint through `AWS_ENDPOINT_URL_DYNAMODB`.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;

use super::attributes::{DATA, EXPIRATION, ID, IN_PROGRESS_EXPIRY, STATUS};
use super::{Begin, COMPLETED, IN_PROGRESS, Store, StoreError};

/// Records in a DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoDbStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    ttl: Duration,
}

impl DynamoDbStore {
    /// Records in `table`, each kept `ttl` after its handler completed.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>, ttl: Duration) -> Self {
        DynamoDbStore {
            client,
            table: table.into(),
            ttl,
        }
    }

    /// The store a processor is configured with (`HOOKLINE_IDEMPOTENCY_TABLE`,
    /// `HOOKLINE_IDEMPOTENCY_TTL_SECS`), for a handler's own keys; `None` when idempotency is
    /// off for the provider.
    pub async fn from_env() -> Result<Option<DynamoDbStore>, crate::config::ConfigError> {
        let Some(config) = crate::config::ProcessorConfig::from_env()?.idempotency else {
            return Ok(None);
        };
        Ok(Some(DynamoDbStore::connect(&config).await))
    }

    /// The store of `config`, with a client from the environment's AWS configuration.
    pub async fn connect(config: &crate::config::IdempotencyConfig) -> DynamoDbStore {
        let aws = Box::pin(aws_config::load_defaults(
            aws_config::BehaviorVersion::latest(),
        ))
        .await;
        DynamoDbStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            config.table.clone(),
            config.ttl,
        )
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn expiration(&self, now: SystemTime) -> AttributeValue {
        AttributeValue::N(epoch_secs(now + self.ttl).to_string())
    }

    /// The record of `key`, read consistently (a refused put must see the record that refused it).
    async fn record(
        &self,
        key: &str,
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(ID, AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed("begin", &e))?;
        Ok(output.item)
    }
}

fn failed(action: &'static str, err: &dyn std::error::Error) -> StoreError {
    StoreError {
        action,
        message: DisplayErrorContext(err).to_string(),
    }
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<u128> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

/// What a record that refused a claim says, at `now`.
fn refused_by(item: Option<&HashMap<String, AttributeValue>>, now: SystemTime) -> Begin {
    let Some(item) = item else {
        // Deleted between the put and the read (its handler failed): let the retry claim it.
        return Begin::InProgress;
    };
    let status = item.get(STATUS).and_then(|v| v.as_s().ok());
    let expired = number(item, EXPIRATION).is_some_and(|t| t < u128::from(epoch_secs(now)));
    match status.map(String::as_str) {
        Some(COMPLETED) if !expired => Begin::Completed {
            data: item
                .get(DATA)
                .and_then(|v| v.as_s().ok())
                .map(String::to_owned),
        },
        // In progress, or changed since the put looked: not ours now, try again later.
        _ => Begin::InProgress,
    }
}

impl Store for DynamoDbStore {
    async fn begin(&self, key: &str, deadline: SystemTime) -> Result<Begin, StoreError> {
        let now = SystemTime::now();
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(ID, AttributeValue::S(key.to_owned()))
            .item(STATUS, AttributeValue::S(IN_PROGRESS.to_owned()))
            .item(EXPIRATION, self.expiration(now))
            .item(
                IN_PROGRESS_EXPIRY,
                AttributeValue::N(epoch_millis(deadline).to_string()),
            )
            // No live record: none, an expired one (TTL deletes only eventually), or one in
            // progress whose invocation's deadline passed (it crashed or timed out).
            .condition_expression(
                "attribute_not_exists(#id) OR #expiration < :now \
                 OR (#status = :in_progress AND #in_progress_expiry < :now_ms)",
            )
            .expression_attribute_names("#id", ID)
            .expression_attribute_names("#expiration", EXPIRATION)
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#in_progress_expiry", IN_PROGRESS_EXPIRY)
            .expression_attribute_values(":now", AttributeValue::N(epoch_secs(now).to_string()))
            .expression_attribute_values(
                ":now_ms",
                AttributeValue::N(epoch_millis(now).to_string()),
            )
            .expression_attribute_values(":in_progress", AttributeValue::S(IN_PROGRESS.to_owned()))
            .send()
            .await;
        match put {
            Ok(_) => Ok(Begin::Started),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(refused_by(self.record(key).await?.as_ref(), now))
            }
            Err(err) => Err(failed("begin", &err)),
        }
    }

    async fn complete(&self, key: &str, data: Option<&str>) -> Result<(), StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(ID, AttributeValue::S(key.to_owned()))
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#expiration", EXPIRATION)
            .expression_attribute_values(":completed", AttributeValue::S(COMPLETED.to_owned()))
            .expression_attribute_values(":expiration", self.expiration(SystemTime::now()));
        update = match data {
            Some(data) => update
                .update_expression(
                    "SET #status = :completed, #expiration = :expiration, #data = :data",
                )
                .expression_attribute_names("#data", DATA)
                .expression_attribute_values(":data", AttributeValue::S(data.to_owned())),
            None => update.update_expression("SET #status = :completed, #expiration = :expiration"),
        };
        update
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failed("complete", &e))
    }

    async fn abandon(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(ID, AttributeValue::S(key.to_owned()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failed("abandon", &e))
    }
}

/// Seconds since the epoch.
fn epoch_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// Milliseconds since the epoch.
fn epoch_millis(time: SystemTime) -> u128 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis()
}
