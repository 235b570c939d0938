//! Why a console request failed: a status, a short code and a message for people, answered as
//! an HTML page or as JSON (`{"error": code, "message": ...}`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why a console request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsoleError {
    /// No such delivery, message, provider or page.
    #[error("{0}")]
    NotFound(String),
    /// A filter or form value that means nothing.
    #[error("{0}")]
    BadRequest(String),
    /// The request cannot be done in the current state (nothing to redrive, a redrive running).
    #[error("{0}")]
    Conflict(String),
    /// Not a loopback client, host or origin.
    #[error("{0}")]
    Forbidden(String),
    /// A path that takes other methods.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The stack failed (its history or queues).
    #[error("{0}")]
    Internal(String),
}

impl ConsoleError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::Conflict(_) => StatusCode::CONFLICT,
            ConsoleError::Forbidden(_) => StatusCode::FORBIDDEN,
            ConsoleError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ConsoleError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The short code in JSON answers.
    pub fn code(&self) -> &'static str {
        match self {
            ConsoleError::NotFound(_) => "not_found",
            ConsoleError::BadRequest(_) => "bad_request",
            ConsoleError::Conflict(_) => "conflict",
            ConsoleError::Forbidden(_) => "forbidden",
            ConsoleError::MethodNotAllowed(_) => "method_not_allowed",
            ConsoleError::Internal(_) => "internal",
        }
    }

    /// As JSON.
    pub fn json(&self) -> Response {
        (
            self.status(),
            axum::Json(serde_json::json!({ "error": self.code(), "message": self.to_string() })),
        )
            .into_response()
    }
}

impl From<crate::sqs::SqsError> for ConsoleError {
    fn from(err: crate::sqs::SqsError) -> Self {
        ConsoleError::Internal(format!("the local SQS store: {err}"))
    }
}

/// As an HTML page.
impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let page = super::html::error_page(&self);
        (self.status(), axum::response::Html(page)).into_response()
    }
}

/// A JSON error: the API's answers.
pub struct JsonError(pub ConsoleError);

impl From<ConsoleError> for JsonError {
    fn from(err: ConsoleError) -> Self {
        JsonError(err)
    }
}

impl IntoResponse for JsonError {
    fn into_response(self) -> Response {
        self.0.json()
    }
}
