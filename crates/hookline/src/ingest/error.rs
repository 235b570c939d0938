//! Why a request was not accepted: each refusal's HTTP status and stable short code.

use crate::claim_check::BodyStoreError;
use crate::describe::MalformedBody;
use crate::queue::QueueError;
use crate::verify::VerifyError;

/// The status of a delivery whose signature did not verify.
pub const UNAUTHORIZED_STATUS: u16 = 401;

/// The error code of a delivery the queue did not accept (answered 503).
pub const QUEUE_UNAVAILABLE: &str = "queue_unavailable";

/// The error code of a delivery whose body the body bucket did not accept (answered 503).
pub const BODY_STORE_UNAVAILABLE: &str = "body_store_unavailable";

/// Why a request was not accepted, with its HTTP status and stable short code.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Not a POST.
    #[error("webhooks are delivered with POST")]
    MethodNotAllowed,
    /// The request itself is unreadable (e.g. a body marked base64 that is not).
    #[error("the request is malformed: {0}")]
    MalformedRequest(&'static str),
    /// The body is over the configured limit (`max_body_bytes`).
    #[error("the body is {size} bytes, over the provider's max_body_bytes ({limit} bytes)")]
    PayloadTooLarge {
        /// The body's size.
        size: usize,
        /// The limit it broke.
        limit: usize,
    },
    /// A body API Gateway base64-encoded (a binary content type) is over what such a body can
    /// be: its base64 must fit Lambda's 6 MB event ([`MAX_BASE64_BODY_BYTES`]).
    #[error(
        "the body is {size} bytes, over the {limit} byte limit of bodies API Gateway base64-encodes (binary content types: base64 grows them by a third inside Lambda's 6 MB event)"
    )]
    BinaryTooLarge {
        /// The body's size.
        size: usize,
        /// The limit it broke.
        limit: usize,
    },
    /// The body is within its limit, but the queue message that carries it is not (the body is
    /// escaped as a JSON string, or base64, in the envelope, next to its headers), and there is
    /// no body bucket to keep it in.
    #[error(
        "the body of {body} bytes makes a queue message of {size} bytes (the body escaped in the envelope, with its headers), over SQS's {limit} byte limit, and this function has no body bucket (HOOKLINE_BODY_BUCKET)"
    )]
    MessageTooLarge {
        /// The body's size.
        body: usize,
        /// The queue message's size.
        size: usize,
        /// SQS's limit.
        limit: usize,
    },
    /// The signature did not verify.
    #[error(transparent)]
    Unauthorized(#[from] VerifyError),
    /// The body is verified but not of the shape the provider sends.
    #[error(transparent)]
    MalformedBody(#[from] MalformedBody),
    /// The queue did not accept the message.
    #[error("the delivery could not be queued; retry later")]
    QueueUnavailable(#[source] QueueError),
    /// The body bucket did not accept a body too large for the queue message.
    #[error("the delivery could not be stored; retry later")]
    BodyStoreUnavailable(#[source] BodyStoreError),
}

impl IngestError {
    /// The HTTP status answered.
    pub fn status(&self) -> u16 {
        match self {
            IngestError::MethodNotAllowed => 405,
            IngestError::MalformedRequest(_) | IngestError::MalformedBody(_) => 400,
            IngestError::PayloadTooLarge { .. }
            | IngestError::BinaryTooLarge { .. }
            | IngestError::MessageTooLarge { .. } => 413,
            IngestError::Unauthorized(_) => UNAUTHORIZED_STATUS,
            IngestError::QueueUnavailable(_) | IngestError::BodyStoreUnavailable(_) => 503,
        }
    }

    /// The stable short code in the JSON body and the log line.
    pub fn code(&self) -> &'static str {
        match self {
            IngestError::MethodNotAllowed => "method_not_allowed",
            IngestError::MalformedRequest(_) => "malformed_request",
            IngestError::MalformedBody(_) => "malformed_body",
            IngestError::PayloadTooLarge { .. }
            | IngestError::BinaryTooLarge { .. }
            | IngestError::MessageTooLarge { .. } => "payload_too_large",
            IngestError::Unauthorized(e) => e.code(),
            IngestError::QueueUnavailable(_) => QUEUE_UNAVAILABLE,
            IngestError::BodyStoreUnavailable(_) => BODY_STORE_UNAVAILABLE,
        }
    }
}
