//! SQS errors in the shape the JSON protocol uses, so that SDK error types map (e.g.
//! aws-sdk-sqs `QueueDoesNotExist`, boto3 `client.exceptions.QueueDoesNotExist`).

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
    /// Whether the caller is at fault (400) or the service (500).
    pub sender_fault: bool,
    /// What went wrong.
    pub message: String,
}

impl SqsError {
    fn new(code: &'static str, query_code: &'static str, message: impl Into<String>) -> Self {
        SqsError {
            code,
            query_code,
            sender_fault: true,
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

    /// A parameter is invalid.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterValue", "InvalidParameterValue", message)
    }

    /// A required parameter is missing.
    pub fn missing(name: &str) -> Self {
        Self::new(
            "MissingParameter",
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

    /// A queue named by ARN does not exist (the message move task actions).
    pub fn resource_not_found(message: impl Into<String>) -> Self {
        Self::new(
            "ResourceNotFoundException",
            "ResourceNotFoundException",
            message,
        )
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

    /// The target is not an SQS operation this endpoint serves.
    pub fn unknown_operation(target: &str) -> Self {
        let shown: String = target.chars().take(100).collect();
        Self::new(
            "UnsupportedOperation",
            "AWS.SimpleQueueService.UnsupportedOperation",
            format!("The operation `{shown}` is not supported."),
        )
    }

    /// The request body is not JSON of the operation's shape.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new("SerializationException", "SerializationException", message)
    }

    /// Storage failed: the caller should retry.
    pub fn internal(message: impl Into<String>) -> Self {
        SqsError {
            code: "InternalError",
            query_code: "InternalError",
            sender_fault: false,
            message: message.into(),
        }
    }
}

impl IntoResponse for SqsError {
    fn into_response(self) -> Response {
        let status = if self.sender_fault {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
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
