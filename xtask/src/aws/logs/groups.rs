//! Where a provider's functions log: the log groups of the stage's stack.
//!
//! The CDK app gives each function a log group of its own without a name (CloudFormation names
//! it `<stack>-<logical id>-<random>`), so the names are found in the deployed stack: the
//! template's `aws:cdk:path` metadata (which the CDK writes on every resource unless path
//! metadata is turned off) says which resource is whose, `ListStackResources` its name.

use anyhow::{Result, bail};
use serde_json::Value;

use crate::aws::stack;

/// A provider's function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Function {
    /// `<provider>-ingest`: verifies, enqueues, answers.
    Ingest,
    /// `<provider>-process`: consumes the queue.
    Process,
}

impl Function {
    /// As printed: `ingest`, `process`.
    pub fn as_str(self) -> &'static str {
        match self {
            Function::Ingest => "ingest",
            Function::Process => "process",
        }
    }

    /// The construct id of the function's log group in `cdk/lib/provider-pipeline.ts` (under
    /// the pipeline, whose id is the provider's name).
    fn log_group_construct(self) -> &'static str {
        match self {
            Function::Ingest => "IngestLogs",
            Function::Process => "ProcessorLogs",
        }
    }
}

/// The CDK path of a function's log group: `<stack>/<provider>/IngestLogs/Resource`.
pub fn cdk_path(stack: &str, provider: &str, function: Function) -> String {
    format!(
        "{stack}/{provider}/{}/Resource",
        function.log_group_construct()
    )
}

/// The logical id of the resource at `path` in a template, if any.
pub fn logical_id<'a>(template: &'a Value, path: &str) -> Option<&'a str> {
    template
        .get("Resources")?
        .as_object()?
        .iter()
        .find(|(_, resource)| {
            resource["Type"] == "AWS::Logs::LogGroup"
                && resource["Metadata"]["aws:cdk:path"].as_str() == Some(path)
        })
        .map(|(id, _)| id.as_str())
}

/// The log group of each function, in the order asked, from the deployed stack.
pub async fn find(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
    stage: &str,
    provider: &str,
    functions: &[Function],
) -> Result<Vec<(Function, String)>> {
    if stack::describe(cfn, stack).await?.is_none() {
        bail!(
            "the stack {stack} does not exist: is the stage deployed (`cargo xtask deploy --stage {stage}`)?"
        );
    }
    let template = stack::template(cfn, stack).await?;
    let resources = stack::resources(cfn, stack).await?;
    functions
        .iter()
        .map(|function| {
            let path = cdk_path(stack, provider, *function);
            let name = logical_id(&template, &path).and_then(|id| {
                resources
                    .iter()
                    .find(|r| r.logical_id == id && !r.physical_id.is_empty())
                    .map(|r| r.physical_id.clone())
            });
            match name {
                Some(name) => Ok((*function, name)),
                None => bail!(
                    "the stack {stack} has no log group for {provider}'s {} function (no resource with the CDK path {path}): is {provider} deployed on this stage (`cargo xtask deploy --stage {stage}`)?",
                    function.as_str()
                ),
            }
        })
        .collect()
}
