//! A stage's CloudFormation stack through the SDK: what it is (status, tags, outputs, resources,
//! template), and deleting it until it is gone (`delete.rs`), as `destroy` and `reap` both do.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_cloudformation::types::Stack;
use chrono::{DateTime, Utc};

mod delete;
pub use delete::{DeleteOptions, Deletion, delete};

/// A stack as `DescribeStacks` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackInfo {
    /// The name.
    pub name: String,
    /// The stack id (an ARN): still answers `DescribeStacks` once the stack is deleted.
    pub id: String,
    /// `CREATE_COMPLETE`, `DELETE_FAILED`, ...
    pub status: String,
    /// Why it is in that status, when CloudFormation says.
    pub reason: Option<String>,
    /// The stack's tags.
    pub tags: BTreeMap<String, String>,
    /// The stack's outputs.
    pub outputs: BTreeMap<String, String>,
    /// When it was last deployed: its last update, else its creation.
    pub deployed_at: Option<DateTime<Utc>>,
}

impl StackInfo {
    fn from_sdk(stack: &Stack) -> StackInfo {
        StackInfo {
            name: stack.stack_name().unwrap_or_default().to_owned(),
            id: stack.stack_id().unwrap_or_default().to_owned(),
            status: stack
                .stack_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            reason: stack.stack_status_reason().map(str::to_owned),
            tags: stack
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_owned(),
                        t.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            outputs: stack
                .outputs()
                .iter()
                .map(|o| {
                    (
                        o.output_key().unwrap_or_default().to_owned(),
                        o.output_value().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            deployed_at: stack
                .last_updated_time()
                .or(stack.creation_time())
                .and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos())),
        }
    }
}

/// `DescribeStacks` of one stack; `None` when there is none by that name (or id, once deleted).
pub async fn describe(cfn: &Client, name: &str) -> Result<Option<StackInfo>> {
    match cfn.describe_stacks().stack_name(name).send().await {
        Ok(out) => Ok(out
            .stacks()
            .first()
            .map(StackInfo::from_sdk)
            .filter(|s| s.status != "DELETE_COMPLETE")),
        // CloudFormation answers a missing stack with a ValidationError that says so.
        Err(err)
            if err.code() == Some("ValidationError")
                && err.message().is_some_and(|m| m.contains("does not exist")) =>
        {
            Ok(None)
        }
        Err(err) => Err(anyhow::anyhow!(
            "describing the stack {name}: {}",
            DisplayErrorContext(&err)
        )),
    }
}

/// Every stack of the account and region (`DescribeStacks`, all pages), deleted ones excluded.
pub async fn list(cfn: &Client) -> Result<Vec<StackInfo>> {
    let mut stacks = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = cfn
            .describe_stacks()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|err| anyhow::anyhow!("listing the stacks: {}", DisplayErrorContext(&err)))?;
        stacks.extend(
            out.stacks()
                .iter()
                .map(StackInfo::from_sdk)
                .filter(|s| s.status != "DELETE_COMPLETE"),
        );
        match out.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => return Ok(stacks),
        }
    }
}

/// Outputs of a deployed stack, in the order asked, read with one `DescribeStacks`; or an error
/// saying the stage is not deployed.
pub async fn outputs<const N: usize>(
    cfn: &Client,
    stack: &str,
    stage: &str,
    names: [&str; N],
) -> Result<[String; N]> {
    let found = describe(cfn, stack).await?;
    let Some(info) = found else {
        bail!(
            "the stack {stack} does not exist: is the stage deployed (`cargo xtask deploy --stage {stage}`)?"
        );
    };
    let mut values = names.map(|_| String::new());
    for (value, name) in values.iter_mut().zip(names) {
        *value = info.outputs.get(name).cloned().with_context(|| {
            format!(
                "the stack {stack} has no output {name} (status {}): deploy the stage again (`cargo xtask deploy --stage {stage}`)",
                info.status
            )
        })?;
    }
    Ok(values)
}

/// A resource of a stack, as `ListStackResources` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackResource {
    /// The logical id in the template.
    pub logical_id: String,
    /// Its name or id (a log group's name, an alarm's name, ...).
    pub physical_id: String,
    /// `AWS::Logs::LogGroup`, ...
    pub resource_type: String,
}

/// Every resource of the stack (`ListStackResources`, all pages).
pub async fn resources(cfn: &Client, stack: &str) -> Result<Vec<StackResource>> {
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = cfn
            .list_stack_resources()
            .stack_name(stack)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|err| {
                anyhow::anyhow!(
                    "listing the resources of {stack}: {}",
                    DisplayErrorContext(&err)
                )
            })?;
        found.extend(
            out.stack_resource_summaries()
                .iter()
                .map(|r| StackResource {
                    logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                    physical_id: r.physical_resource_id().unwrap_or_default().to_owned(),
                    resource_type: r.resource_type().unwrap_or_default().to_owned(),
                }),
        );
        match out.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => return Ok(found),
        }
    }
}

/// The stack's deployed template (`GetTemplate`), parsed: the CDK deploys JSON.
pub async fn template(cfn: &Client, stack: &str) -> Result<serde_json::Value> {
    let out = cfn
        .get_template()
        .stack_name(stack)
        .send()
        .await
        .map_err(|err| {
            anyhow::anyhow!(
                "reading the template of {stack}: {}",
                DisplayErrorContext(&err)
            )
        })?;
    let body = out.template_body().unwrap_or_default();
    serde_json::from_str(body).with_context(|| {
        format!("the template of {stack} is not JSON (was it deployed by the CDK app?)")
    })
}
