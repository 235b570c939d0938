//! An SQS-compatible endpoint (JSON protocol) on a durable embedded store: what aws-sdk-sqs,
//! boto3 and the aws CLI speak, on loopback.

// Dependencies run one way (no cycles): message ← md5, validate, queue_attributes ← store
// ← writer ← protocol, with error and observe under all of them.
mod error;
pub(crate) mod md5;
pub mod message;
pub mod observe;
mod protocol;
mod queue_attributes;
pub mod store;
mod validate;
mod writer;

use axum::body::Body;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};

pub use error::SqsError;
/// The protocol without HTTP: one action on a store (what the endpoint runs per request).
pub use protocol::dispatch;
pub use writer::StoreHandle;

/// The endpoint, by the name the SQS-only callers know it: it serves DynamoDB too.
pub use crate::endpoint::AwsEndpoint as SqsServer;

/// Largest request body read (a batch of ten 1 MiB messages is refused by SQS anyway).
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// Answers one HTTP request whose `X-Amz-Target` is `target`.
pub(crate) async fn respond(
    store: &StoreHandle,
    target: &str,
    headers: &axum::http::HeaderMap,
    body: Body,
) -> Response {
    let result = match target.strip_prefix("AmazonSQS.") {
        None => Err(SqsError::unknown_operation(target)),
        Some(action) => match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
            Err(_) => Err(SqsError::invalid(format!(
                "The request is larger than {MAX_REQUEST_BYTES} bytes."
            ))),
            Ok(bytes) => {
                let result = protocol::dispatch(store, action, &bytes).await;
                if let Ok(answer) = &result
                    && store.observed()
                {
                    let trace = headers.get("x-amzn-trace-id").and_then(|v| v.to_str().ok());
                    store.tell(observe::sent(action, &bytes, answer, trace));
                }
                result
            }
        },
    };
    match result {
        Ok(value) => {
            let mut response = value.to_string().into_response();
            response.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("application/x-amz-json-1.0"),
            );
            response.headers_mut().insert(
                "x-amzn-requestid",
                HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                    .unwrap_or(HeaderValue::from_static("0")),
            );
            response
        }
        Err(err) => err.into_response(),
    }
}
