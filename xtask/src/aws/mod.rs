//! Commands and helpers that talk to AWS: building the Lambda packages, the CDK CLI, and, through
//! the AWS SDK for Rust, the stage's stack, secrets and queues.

pub mod bootstrap;
pub mod build;
pub mod cdk;
pub mod deploy;
pub mod destroy;
pub mod diff;
pub(crate) mod env;
pub mod lambda_zip;
pub mod logs;
pub mod reap;
pub mod sdk;
pub mod secret;
pub mod send_stage;
pub mod stack;
pub mod status;
pub mod synth;

#[cfg(test)]
mod lambda_build_tests;
#[cfg(test)]
pub(crate) mod moto;
#[cfg(test)]
mod workflow_tests;

pub use env::{AwsEnv, Credentials, credentials, region};
