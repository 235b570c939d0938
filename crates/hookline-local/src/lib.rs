//! hookline's local stack: the same function binaries that get deployed, with AWS emulated
//! around them on loopback.
//!
//! - [`sqs`]: an SQS-compatible endpoint (JSON protocol) on a durable SQLite store.
//! - [`dynamodb`]: a DynamoDB-compatible endpoint (the subset the idempotency store uses), likewise.
//! - [`s3`]: an S3-compatible endpoint (REST, path-style; what a claim check uses), likewise.
//! - [`endpoint`]: all three on one loopback listener.
//! - [`lambda`]: the Lambda Runtime API, running function binaries as real processes.
//! - [`gateway`]: API Gateway (HTTP API, payload 2.0) routes to the ingest functions.
//! - [`event_source`]: the SQS event source mapping that feeds the processors.
//! - [`stack`]: all of it from `hookline.toml`.
//! - [`console`]: the local console at `/_hookline/` on the gateway's listener.
//! - [`samples`]: the providers' sample deliveries (`fixtures/events.toml`).
//! - [`logs`]: function output, prefixed with the function's name.
//! - [`aws_local`]: the account, region and ARNs the local stack pretends to be.

pub mod aws_local;
pub mod console;
pub mod credentials;
pub mod dynamodb;
pub mod endpoint;
pub mod event_source;
pub mod fresh;
pub mod gateway;
pub mod lambda;
pub mod logs;
pub mod s3;
pub mod samples;
mod sqlite;
pub mod sqs;
pub mod stack;

pub use stack::{DevStack, ProviderInfo, StackConfig};
