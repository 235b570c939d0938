//! Commands and helpers that talk to AWS: building the Lambda packages, the CDK CLI, and the
//! stage's stack, secrets and queues.

pub mod build;
pub mod cdk;
pub mod cli;
pub mod deploy;
pub mod destroy;
pub(crate) mod env;
pub mod lambda_zip;
pub mod secret;
pub mod synth;

#[cfg(test)]
mod lambda_build_tests;

pub use env::{AwsEnv, credentials, region};
