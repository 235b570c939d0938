//! A DynamoDB-compatible endpoint (JSON protocol 1.0) on a durable embedded store: what
//! aws-sdk-dynamodb and boto3 speak, on loopback. It serves what hookline's idempotency store
//! uses (tables with a partition key, Get/Put/Update/DeleteItem with condition and update
//! expressions, TTL) and refuses the rest with DynamoDB's error shapes and a message naming
//! what it does not support.
//!
//! TTL: items whose TTL attribute (epoch seconds) has passed are deleted by a sweep every
//! [`TTL_SWEEP_INTERVAL`], not when read. DynamoDB itself deletes expired items "typically
//! within a few days" and until then "Items that have expired and not been deleted will still
//! show up in reads" (API Reference, UpdateTimeToLive): a caller must check expiry itself, as
//! the idempotency store's condition does, and this endpoint behaves the same way.

// Dependencies run one way: number ← value ← expression, store ← protocol, with error under all.
mod error;
pub mod expression;
mod number;
mod protocol;
pub mod store;
pub mod value;

use std::path::Path;
use std::time::Duration;

use axum::body::Body;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub use error::DynamoDbError;
pub use number::Number;
pub use protocol::ACTIONS;
use store::{KeyType, Store, Table};

use crate::sqlite::Writer;

/// The `X-Amz-Target` prefix of DynamoDB's actions.
pub const TARGET_PREFIX: &str = "DynamoDB_20120810.";

/// How often expired items are deleted.
pub const TTL_SWEEP_INTERVAL: Duration = Duration::from_secs(30);

/// Largest request body read: "The maximum HTTP request size is 16 MB" (DynamoDB Developer
/// Guide, "Quotas", API-specific limits).
const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// A handle to the tables' store and its writer thread. Cloning is cheap.
#[derive(Clone)]
pub struct Tables {
    writer: Writer<Store>,
}

impl Tables {
    /// Opens the database at `path` (created when missing) and starts its writer thread.
    pub fn start(path: &Path) -> Result<Tables, DynamoDbError> {
        let store = Store::open(path)?;
        let writer = Writer::start(store, "hookline-dynamodb-store", |_, _| {})?;
        Ok(Tables { writer })
    }

    /// Runs `f` on the store in the next transaction; resolves after that transaction committed.
    pub(crate) async fn call<T, F>(&self, f: F) -> Result<T, DynamoDbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, DynamoDbError> + Send + 'static,
    {
        self.writer.call(f).await
    }

    /// Runs one action (`PutItem`) on a JSON body: the protocol without HTTP.
    pub async fn dispatch(&self, action: &str, body: &[u8]) -> Result<Value, DynamoDbError> {
        protocol::dispatch(self, action, body).await
    }

    /// Makes sure the on-demand table `name` exists with the string partition key
    /// `key_attribute` and, when given, TTL on `ttl_attribute`. An existing table is kept with
    /// its items; one with another key is an error, not replaced.
    pub async fn ensure_table(
        &self,
        name: &str,
        key_attribute: &str,
        ttl_attribute: Option<&str>,
    ) -> Result<(), DynamoDbError> {
        let (name, key_attribute) = (name.to_owned(), key_attribute.to_owned());
        let ttl_attribute = ttl_attribute.map(str::to_owned);
        self.call(move |s| {
            let table = match s.find_table(&name)? {
                Some(table) => table,
                None => {
                    let table = Table {
                        name: name.clone(),
                        key_attribute: key_attribute.clone(),
                        key_type: KeyType::S,
                        billing_mode: "PAY_PER_REQUEST".to_owned(),
                        capacity: (0, 0),
                        id: uuid::Uuid::new_v4().to_string(),
                        created_ms: chrono::Utc::now().timestamp_millis(),
                        ttl_attribute: None,
                    };
                    s.create_table(&table)?;
                    table
                }
            };
            if table.key_attribute != key_attribute || table.key_type != KeyType::S {
                return Err(DynamoDbError::validation(format!(
                    "table {name} exists with the key {} ({}), not {key_attribute} (S): delete it (or the local data folder) to have it made again",
                    table.key_attribute,
                    table.key_type.as_str()
                )));
            }
            if table.ttl_attribute != ttl_attribute {
                s.set_ttl(&name, ttl_attribute.as_deref())?;
            }
            Ok(())
        })
        .await
    }

    /// Deletes the items whose TTL passed before `now_secs` (DynamoDB's TTL process, which
    /// leaves items more than five years past their TTL); returns how many.
    pub async fn delete_expired(&self, now_secs: i64) -> Result<usize, DynamoDbError> {
        self.call(move |s| s.delete_expired(now_secs)).await
    }
}

/// Answers one HTTP request for `action` (the part of `X-Amz-Target` after [`TARGET_PREFIX`]),
/// as the local endpoint does; public for in-process fronts (the benchmark counts the requests
/// a processor makes in front of it).
pub async fn respond(tables: &Tables, action: &str, body: Body) -> Response {
    let result = match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
        Err(_) => Err(DynamoDbError::validation(format!(
            "The request is larger than {MAX_REQUEST_BYTES} bytes."
        ))),
        Ok(bytes) => tables.dispatch(action, &bytes).await,
    };
    let (status, body) = match result {
        Ok(value) => (axum::http::StatusCode::OK, value),
        Err(err) => err.to_response(),
    };
    let body = body.to_string();
    // DynamoDB sends the CRC32 of every response body in `x-amz-crc32`; botocore checks it when
    // present and the AWS SDK for Go v2 warns when it is missing (aws-sdk-dynamodb does not
    // check it).
    let crc = crc32fast::hash(body.as_bytes());
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    headers.insert("x-amz-crc32", HeaderValue::from(crc));
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The stack's table setup: made once, kept (with its items) on the next start, TTL set to
    /// what is asked, and a table of that name with another key refused rather than replaced.
    #[tokio::test]
    async fn ensure_table_makes_keeps_and_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let tables = Tables::start(&dir.path().join("dynamodb.db")).unwrap();
        tables
            .ensure_table("t-local-idempotency", "id", Some("expiration"))
            .await
            .unwrap();
        let put = json!({"TableName": "t-local-idempotency", "Item": {"id": {"S": "k"}}});
        tables
            .dispatch("PutItem", put.to_string().as_bytes())
            .await
            .unwrap();
        tables
            .ensure_table("t-local-idempotency", "id", Some("expiration"))
            .await
            .unwrap();
        let get = json!({"TableName": "t-local-idempotency", "Key": {"id": {"S": "k"}}});
        let got = tables
            .dispatch("GetItem", get.to_string().as_bytes())
            .await
            .unwrap();
        assert_eq!(got, json!({"Item": {"id": {"S": "k"}}}));
        let ttl = json!({"TableName": "t-local-idempotency"}).to_string();
        let described = tables
            .dispatch("DescribeTimeToLive", ttl.as_bytes())
            .await
            .unwrap();
        assert_eq!(
            described["TimeToLiveDescription"],
            json!({"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"})
        );
        let err = tables
            .ensure_table("t-local-idempotency", "pk", None)
            .await
            .unwrap_err();
        assert!(
            err.message
                .contains("exists with the key id (S), not pk (S)"),
            "{}",
            err.message
        );
    }
}
