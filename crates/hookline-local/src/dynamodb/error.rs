//! DynamoDB errors in the shape its JSON protocol uses (`__type` and `message`, HTTP 400 for the
//! caller's faults, 500 for ours), so that SDK error types map: aws-sdk-dynamodb's
//! `ConditionalCheckFailedException`, boto3's `client.exceptions.ResourceNotFoundException`.

use axum::http::StatusCode;

use super::value::{Item, item_to_json};

/// Where DynamoDB's error shapes are declared: the `__type` prefix each one is sent with
/// (observed on DynamoDB's answers; the SDKs read the part after `#`).
const DYNAMODB: &str = "com.amazonaws.dynamodb.v20120810";
const CORAL_VALIDATE: &str = "com.amazon.coral.validate";
const CORAL_SERVICE: &str = "com.amazon.coral.service";

/// A DynamoDB error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct DynamoDbError {
    /// The error shape's name, e.g. `ValidationException`.
    pub code: &'static str,
    namespace: &'static str,
    /// Whether the caller is at fault (400) or the service (500).
    pub sender_fault: bool,
    /// What went wrong.
    pub message: String,
    /// The item as it was, on a failed condition with `ReturnValuesOnConditionCheckFailure`
    /// `ALL_OLD` ("Item" of `ConditionalCheckFailedException`, DynamoDB API Reference).
    pub item: Option<Item>,
}

impl DynamoDbError {
    fn new(namespace: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        DynamoDbError {
            code,
            namespace,
            sender_fault: true,
            message: message.into(),
            item: None,
        }
    }

    /// The request breaks one of DynamoDB's rules, or asks for what this endpoint does not do.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(CORAL_VALIDATE, "ValidationException", message)
    }

    /// A request this endpoint accepts from DynamoDB's API but does not implement.
    pub fn unsupported(what: impl std::fmt::Display) -> Self {
        Self::validation(format!(
            "hookline's local DynamoDB endpoint does not support {what}"
        ))
    }

    /// The table does not exist (DynamoDB's words for item actions).
    pub fn no_table() -> Self {
        Self::new(
            DYNAMODB,
            "ResourceNotFoundException",
            "Requested resource not found",
        )
    }

    /// The table does not exist (DynamoDB's words for table actions).
    pub fn no_table_named(name: &str) -> Self {
        Self::new(
            DYNAMODB,
            "ResourceNotFoundException",
            format!("Requested resource not found: Table: {name} not found"),
        )
    }

    /// The table exists already.
    pub fn table_exists(name: &str) -> Self {
        Self::new(
            DYNAMODB,
            "ResourceInUseException",
            format!("Table already exists: {name}"),
        )
    }

    /// The condition expression evaluated to false; `item` is the item as it was, when the
    /// request asked for it.
    pub fn condition_failed(item: Option<Item>) -> Self {
        DynamoDbError {
            item,
            ..Self::new(
                DYNAMODB,
                "ConditionalCheckFailedException",
                "The conditional request failed",
            )
        }
    }

    /// The target names no action this endpoint serves.
    pub fn unknown_operation(action: &str, served: &[&str]) -> Self {
        let shown: String = action.chars().take(100).collect();
        Self::new(
            CORAL_SERVICE,
            "UnknownOperationException",
            format!(
                "hookline's local DynamoDB endpoint does not serve the operation `{shown}`; it serves {}",
                served.join(", ")
            ),
        )
    }

    /// The body is not JSON of the operation's shape.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(CORAL_SERVICE, "SerializationException", message)
    }

    /// Storage failed: the caller should retry.
    pub fn internal(message: impl Into<String>) -> Self {
        DynamoDbError {
            sender_fault: false,
            ..Self::new(DYNAMODB, "InternalServerError", message)
        }
    }

    /// The HTTP status and the JSON body.
    pub fn to_response(&self) -> (StatusCode, serde_json::Value) {
        let status = if self.sender_fault {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        let mut body = serde_json::json!({
            "__type": format!("{}#{}", self.namespace, self.code),
            "message": self.message,
        });
        if let Some(item) = &self.item {
            body["Item"] = item_to_json(item);
        }
        (status, body)
    }
}
