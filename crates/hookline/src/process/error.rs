//! Why one message of a batch failed, and the stable code its failure line carries.

use super::BoxError;
use crate::claim_check::BodyStoreError;
use crate::envelope::EnvelopeError;
use crate::idempotency::StoreError;
use crate::logline;

/// Why one message of a batch failed.
#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    /// The SQS record has no message id (cannot be reported, so the whole batch must fail).
    #[error("the SQS record has no messageId")]
    NoMessageId,
    /// The message is not a readable envelope; it will end in the DLQ.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The handler returned an error.
    #[error("the handler failed: {0}")]
    Handler(BoxError),
    /// The handler panicked.
    #[error("the handler panicked: {0}")]
    Panic(String),
    /// An earlier message of this FIFO batch failed, so this one was not attempted (to keep order).
    #[error("not attempted: an earlier message of this FIFO batch failed")]
    Skipped,
    /// The idempotency store could not be used: the handler did not run.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another invocation is running the handler for this delivery now; it comes back later.
    #[error("another invocation is handling this delivery now (idempotency record in progress)")]
    InProgress,
    /// The body is in the body bucket and could not be fetched: the handler did not run.
    #[error(transparent)]
    Body(#[from] BodyStoreError),
    /// The body is in the body bucket, and this processor was given none.
    #[error(
        "the body is in the body bucket `{bucket}`, and this processor has no body bucket (HOOKLINE_BODY_BUCKET)"
    )]
    NoBodyStore {
        /// The bucket the envelope names.
        bucket: String,
    },
}

impl ItemError {
    /// A stable name for the kind of failure, logged in the failure line's `code`.
    pub fn code(&self) -> &'static str {
        match self {
            ItemError::NoMessageId => "no_message_id",
            ItemError::Envelope(_) => "unreadable_envelope",
            ItemError::Handler(_) => "handler_error",
            ItemError::Panic(_) => "handler_panic",
            ItemError::Skipped => "skipped_after_earlier_failure",
            ItemError::Store(_) => "idempotency_store_unavailable",
            ItemError::InProgress => logline::IN_PROGRESS_ELSEWHERE,
            ItemError::Body(_) => "body_unavailable",
            ItemError::NoBodyStore { .. } => "no_body_bucket",
        }
    }
}
