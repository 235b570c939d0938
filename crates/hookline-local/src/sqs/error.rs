//! SQS errors in the shape the JSON protocol uses, so that SDK error types map (e.g.
//! aws-sdk-sqs `QueueDoesNotExist`, boto3 `client.exceptions.QueueDoesNotExist`).
//!
//! An error has two names: the JSON protocol's shape name in `__type`
//! (`com.amazonaws.sqs#QueueDoesNotExist`), and the query protocol's code in the
//! `x-amzn-query-error` header with the fault (`AWS.SimpleQueueService.NonExistentQueue;Sender`),
//! as the SQS Developer Guide's "Interpreting Amazon SQS JSON API responses" shows. SDKs read the
//! header first (SQS is `awsQueryCompatible`): aws-sdk-sqs replaces the code with it
//! (`protocol_serde::parse_http_error_metadata`) and matches its typed errors on the query codes
//! (`"AWS.SimpleQueueService.NonExistentQueue" => QueueDoesNotExist`), so the header decides
//! whether `is_queue_does_not_exist()` holds; `__type` only after the `#` counts without it.
//!
//! Sources per error: the modelled shapes and their query codes are aws-sdk-sqs 1.93's generated
//! match arms and the `awsQueryError` codes of botocore's query-protocol SQS model
//! (`data/sqs/2012-11-05/service-2.json`, up to botocore 1.31; the JSON-protocol model that
//! replaced it keeps only the shape names). The shape names of errors SQS does not model
//! (`InvalidParameterValueException`, `MissingRequiredParameterException`) are what SQS
//! answered in LocalStack's AWS-recorded snapshots (`tests/aws/services/sqs/test_sqs.snapshot.json`,
//! recorded 2023-11-14: `"Code": "InvalidParameterValue"` from the header, `"QueryErrorCode":
//! "InvalidParameterValueException"` from `__type`).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// An SQS error: the modelled error code, the legacy (query protocol) code, and a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SqsError {
    /// The JSON protocol's error shape name, e.g. `QueueDoesNotExist`.
    pub code: &'static str,
    /// The query protocol's code, sent in `x-amzn-query-error`.
    pub query_code: &'static str,
    /// Whether the caller is at fault or the service.
    pub sender_fault: bool,
    /// The HTTP status: 400 for the caller's faults but those the model gives another, 500.
    pub status: u16,
    /// What went wrong.
    pub message: String,
}

impl SqsError {
    fn new(code: &'static str, query_code: &'static str, message: impl Into<String>) -> Self {
        SqsError {
            code,
            query_code,
            sender_fault: true,
            status: 400,
            message: message.into(),
        }
    }

    /// The queue does not exist.
    pub fn no_queue() -> Self {
        Self::new(
            "QueueDoesNotExist",
            "AWS.SimpleQueueService.NonExistentQueue",
            "The specified queue does not exist.",
        )
    }

    /// A parameter is invalid (not modelled: the shape name is observed, see the module docs;
    /// the query code is the SQS API Reference's common error `InvalidParameterValue`).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(
            "InvalidParameterValueException",
            "InvalidParameterValue",
            message,
        )
    }

    /// A required parameter is missing (not modelled: the shape name is observed, see the module
    /// docs; the query code is the common error `MissingParameter`).
    pub fn missing(name: &str) -> Self {
        Self::new(
            "MissingRequiredParameterException",
            "MissingParameter",
            format!("The request must contain the parameter {name}."),
        )
    }

    /// An attribute name is not known.
    pub fn invalid_attribute(name: &str) -> Self {
        Self::new(
            "InvalidAttributeName",
            "InvalidAttributeName",
            format!("Unknown Attribute {name}."),
        )
    }

    /// The queue exists with other attributes.
    pub fn queue_exists(name: &str) -> Self {
        Self::new(
            "QueueNameExists",
            "QueueAlreadyExists",
            format!(
                "A queue already exists with the same name and a different value for attribute(s): {name}"
            ),
        )
    }

    /// At most 64 characters of a caller's value, for messages.
    pub fn shown(value: &str) -> String {
        value.chars().take(64).collect()
    }

    /// The receipt handle is not one we issued.
    pub fn bad_receipt(handle: &str) -> Self {
        Self::new(
            "ReceiptHandleIsInvalid",
            "ReceiptHandleIsInvalid",
            format!(
                "The input receipt handle \"{}\" is not a valid receipt handle.",
                Self::shown(handle)
            ),
        )
    }

    /// A FIFO queue's receipt handle whose visibility timeout ran out (SQS's words, observed).
    pub fn receipt_expired(handle: &str) -> Self {
        Self::invalid(format!(
            "Value {} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.",
            Self::shown(handle)
        ))
    }

    /// A queue named by ARN does not exist (the message move task actions): 404, the status the
    /// query model gives it (`httpStatusCode: 404`) and SQS answered in LocalStack's AWS-recorded
    /// `test_sqs_move_task.snapshot.json`.
    pub fn resource_not_found(message: impl Into<String>) -> Self {
        SqsError {
            status: 404,
            ..Self::new(
                "ResourceNotFoundException",
                "ResourceNotFoundException",
                message,
            )
        }
    }

    /// The body has characters SQS does not allow.
    pub fn invalid_contents() -> Self {
        Self::new(
            "InvalidMessageContents",
            "InvalidMessageContents",
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
        )
    }

    /// A batch problem.
    pub fn batch(code: &'static str, message: impl Into<String>) -> Self {
        let query = match code {
            "EmptyBatchRequest" => "AWS.SimpleQueueService.EmptyBatchRequest",
            "TooManyEntriesInBatchRequest" => "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            "BatchEntryIdsNotDistinct" => "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            "InvalidBatchEntryId" => "AWS.SimpleQueueService.InvalidBatchEntryId",
            "BatchRequestTooLong" => "AWS.SimpleQueueService.BatchRequestTooLong",
            _ => "InvalidParameterValue",
        };
        Self::new(code, query, message)
    }

    /// The target is not an SQS operation this endpoint serves: SQS's modelled
    /// `UnsupportedOperation`. What SQS answers an unknown `X-Amz-Target` is not documented.
    pub fn unknown_operation(target: &str) -> Self {
        let shown: String = target.chars().take(100).collect();
        Self::new(
            "UnsupportedOperation",
            "AWS.SimpleQueueService.UnsupportedOperation",
            format!("The operation `{shown}` is not supported."),
        )
    }

    /// The request body is not JSON of the operation's shape: the AWS JSON protocol's
    /// `SerializationException` (what SQS itself answers is not documented).
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new("SerializationException", "SerializationException", message)
    }

    /// Storage failed: the caller should retry. `InternalFailure` (500) is the SQS API
    /// Reference's common error for it ("Common Errors").
    pub fn internal(message: impl Into<String>) -> Self {
        SqsError {
            code: "InternalFailure",
            query_code: "InternalFailure",
            sender_fault: false,
            status: 500,
            message: message.into(),
        }
    }
}

impl IntoResponse for SqsError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let body = serde_json::json!({
            "__type": format!("com.amazonaws.sqs#{}", self.code),
            "message": self.message,
        });
        let mut response = (status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-amz-json-1.0"),
        );
        if let Ok(value) = HeaderValue::from_str(&format!("com.amazonaws.sqs#{}", self.code)) {
            headers.insert("x-amzn-errortype", value);
        }
        let fault = if self.sender_fault {
            "Sender"
        } else {
            "Receiver"
        };
        if let Ok(value) = HeaderValue::from_str(&format!("{};{fault}", self.query_code)) {
            headers.insert("x-amzn-query-error", value);
        }
        response
    }
}
