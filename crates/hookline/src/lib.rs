//! hookline's runtime library: everything a webhook receiver on AWS Lambda needs between
//! API Gateway and your code.
//!
//! ```text
//! provider ──POST──▶ API Gateway ──▶ ingest (verify · handshake · enqueue raw) ──▶ SQS (+DLQ)
//!                                                     ──▶ processor (batches) ──▶ your handler
//! ```
//!
//! - [`verify`]: one signature scheme per provider, several secrets at once, constant time.
//! - [`describe`]: event type, delivery id and handshakes of a verified delivery.
//! - [`envelope`]: the versioned queue message around the raw body, byte for byte.
//! - [`ingest`]: payload-2.0 request → verify → enqueue → response (2xx only once queued).
//! - [`queue`]: the [`Queue`] trait and [`SqsQueue`] on aws-sdk-sqs.
//! - [`claim_check`]: bodies too large for a queue message, kept in S3 beside it.
//! - [`process`]: SQS batch → your handler → partial-batch failures.
//! - [`config`] and [`secrets`]: typed configuration, read once at cold start.
//! - [`lambda`]: `run_ingest()` and `run_processor(handler)`, the whole of a function's `main`.
//! - [`logline`]: the JSON log lines' shape, which the stack's metric filters read.
//! - [`metrics`]: metrics as CloudWatch Embedded Metric Format lines, with no call to CloudWatch.
//! - [`sign`]: signing deliveries as each provider does (for tools and tests).
//!
//! Feature `aws` (on by default) brings [`SqsQueue`], Secrets Manager and [`lambda`]. Without it
//! the crate is the pure request logic, small enough to fuzz (see `fuzz/`).

pub mod claim_check;
pub mod config;
pub mod describe;
pub mod envelope;
pub mod idempotency;
pub mod ingest;
#[cfg(feature = "aws")]
pub mod lambda;
pub mod logline;
pub mod metrics;
pub mod process;
pub mod queue;
pub mod secrets;
pub mod sign;
pub mod verify;

pub use envelope::Envelope;
pub use ingest::Ingest;
pub use process::{BoxError, Delivery, process_batch};
#[cfg(feature = "aws")]
pub use queue::SqsQueue;
pub use queue::{MemoryQueue, Queue};
pub use verify::{Scheme, SigningSecret, Verifier};

/// Re-exported so that generated functions need no direct dependency on them.
#[cfg(feature = "aws")]
pub use lambda_runtime;
pub use {aws_lambda_events, tokio, tracing};
