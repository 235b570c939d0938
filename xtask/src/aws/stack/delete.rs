//! Deleting a stage's stack until it is gone, as `destroy` and `reap` both do.
//!
//! Deleting follows CloudFormation's own states (CloudFormation User Guide, "Stack status
//! codes"): no stack is success; `DELETE_IN_PROGRESS` is waited for, and so is any other
//! operation in progress (DeleteStack is refused meanwhile); `DELETE_FAILED` is reported
//! with each failed resource and its reason, then retried once, with
//! `DeletionMode=FORCE_DELETE_STACK` when asked (valid only for a stack in `DELETE_FAILED`, per
//! the `DeleteStack` API reference), after which the resources it skipped are listed.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Result;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_cloudformation::types::{DeletionMode, StackEvent};

use super::describe;

/// How to delete.
#[derive(Debug, Clone, Copy)]
pub struct DeleteOptions {
    /// After a `DELETE_FAILED`, retry with `FORCE_DELETE_STACK` (skipping what cannot be deleted).
    pub force_delete: bool,
    /// How often to look at the stack while it is being deleted.
    pub poll: Duration,
    /// How long to wait for one deletion before giving up (the stack is then not gone).
    pub timeout: Duration,
}

impl Default for DeleteOptions {
    fn default() -> Self {
        DeleteOptions {
            force_delete: false,
            poll: Duration::from_secs(5),
            timeout: Duration::from_secs(45 * 60),
        }
    }
}

/// A resource that CloudFormation could not delete, or skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceProblem {
    /// The logical id in the template.
    pub logical_id: String,
    /// `AWS::SQS::Queue`, ...
    pub resource_type: String,
    /// Its physical id, when it had one.
    pub physical_id: String,
    /// What CloudFormation said.
    pub reason: String,
}

/// How a deletion ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    /// There was no such stack.
    NotFound,
    /// The stack is gone; with `FORCE_DELETE_STACK`, what it left behind.
    Deleted {
        /// Resources that were skipped and still exist.
        left_behind: Vec<ResourceProblem>,
    },
    /// The stack is still there.
    Failed {
        /// Its status.
        status: String,
        /// The resources that failed, and why.
        failed: Vec<ResourceProblem>,
    },
}

impl Deletion {
    /// Whether the stack is gone (or never was).
    pub fn is_gone(&self) -> bool {
        !matches!(self, Deletion::Failed { .. })
    }
}

/// Deletes a stack and waits until it is gone, calling `progress` with each new stack event.
pub async fn delete(
    cfn: &Client,
    name: &str,
    options: DeleteOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<Deletion> {
    let Some(stack) = describe(cfn, name).await? else {
        return Ok(Deletion::NotFound);
    };
    let mut seen: HashSet<String> = events(cfn, &stack.id)
        .await?
        .into_iter()
        .filter_map(|e| e.event_id().map(str::to_owned))
        .collect();
    // One retry after a DELETE_FAILED, whether this deletion or an earlier one failed.
    let mut retried = false;
    let mut status = stack.status.clone();
    // CloudFormation refuses DeleteStack while another operation runs (a deploy that CI
    // cancelled goes on): wait for it to end first.
    if busy(&status) && status != "DELETE_IN_PROGRESS" {
        progress(&format!("{status}: waiting for it to end before deleting"));
        match settle(cfn, &stack.id, options).await? {
            None => return Ok(Deletion::NotFound),
            Some(now) => status = now,
        }
    }
    loop {
        match status.as_str() {
            "DELETE_IN_PROGRESS" => {}
            "DELETE_FAILED" => {
                let failed = failed_resources(cfn, &stack.id).await?;
                if retried {
                    return Ok(Deletion::Failed { status, failed });
                }
                for problem in &failed {
                    progress(&format!(
                        "{} ({}) could not be deleted: {}",
                        problem.logical_id, problem.resource_type, problem.reason
                    ));
                }
                let mode = if options.force_delete {
                    progress("retrying with FORCE_DELETE_STACK: what cannot be deleted is skipped");
                    Some(DeletionMode::ForceDeleteStack)
                } else {
                    progress("retrying the deletion once");
                    None
                };
                start_delete(cfn, &stack.id, mode).await?;
                retried = true;
            }
            _ => start_delete(cfn, &stack.id, None).await?,
        }
        match wait(cfn, &stack.id, options, &mut seen, progress).await? {
            None => {
                let left_behind = if options.force_delete {
                    skipped_resources(cfn, &stack.id).await?
                } else {
                    Vec::new()
                };
                return Ok(Deletion::Deleted { left_behind });
            }
            Some(now) if now == "DELETE_FAILED" => status = now,
            Some(now) => {
                let failed = failed_resources(cfn, &stack.id).await?;
                return Ok(Deletion::Failed {
                    status: now,
                    failed,
                });
            }
        }
    }
}

/// Whether an operation runs on the stack. `REVIEW_IN_PROGRESS` (a change set created, never
/// executed: a deploy cancelled in between) never ends by itself, and DeleteStack accepts it.
fn busy(status: &str) -> bool {
    status.ends_with("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS"
}

/// Waits until the stack is in no `*_IN_PROGRESS` status; `None` when it is gone.
async fn settle(cfn: &Client, id: &str, options: DeleteOptions) -> Result<Option<String>> {
    let started = std::time::Instant::now();
    loop {
        let Some(stack) = describe(cfn, id).await? else {
            return Ok(None);
        };
        if !busy(&stack.status) || started.elapsed() >= options.timeout {
            return Ok(Some(stack.status));
        }
        tokio::time::sleep(options.poll).await;
    }
}

async fn start_delete(cfn: &Client, id: &str, mode: Option<DeletionMode>) -> Result<()> {
    cfn.delete_stack()
        .stack_name(id)
        .set_deletion_mode(mode)
        .send()
        .await
        .map_err(|err| anyhow::anyhow!("deleting the stack {id}: {}", DisplayErrorContext(&err)))?;
    Ok(())
}

/// Waits while the stack is `DELETE_IN_PROGRESS`, reporting new events; `None` once it is gone,
/// else the status it stopped in (`DELETE_FAILED`, or the last one seen at the timeout).
async fn wait(
    cfn: &Client,
    id: &str,
    options: DeleteOptions,
    seen: &mut HashSet<String>,
    progress: &mut dyn FnMut(&str),
) -> Result<Option<String>> {
    let started = std::time::Instant::now();
    loop {
        let mut new: Vec<StackEvent> = events(cfn, id)
            .await?
            .into_iter()
            .filter(|e| e.event_id().is_some_and(|id| seen.insert(id.to_owned())))
            .collect();
        // DescribeStackEvents lists the newest first.
        new.reverse();
        for event in &new {
            progress(&describe_event(event));
        }
        let Some(stack) = describe(cfn, id).await? else {
            return Ok(None);
        };
        if stack.status != "DELETE_IN_PROGRESS" {
            return Ok(Some(stack.status));
        }
        if started.elapsed() >= options.timeout {
            progress(&format!(
                "still DELETE_IN_PROGRESS after {} s: giving up waiting (CloudFormation goes on)",
                options.timeout.as_secs()
            ));
            return Ok(Some(stack.status));
        }
        tokio::time::sleep(options.poll).await;
    }
}

/// The stack's events, newest first (the first page: the events of the latest operation).
async fn events(cfn: &Client, id: &str) -> Result<Vec<StackEvent>> {
    match cfn.describe_stack_events().stack_name(id).send().await {
        Ok(out) => Ok(out.stack_events().to_vec()),
        Err(err) if err.code() == Some("ValidationError") => Ok(Vec::new()),
        Err(err) => Err(anyhow::anyhow!(
            "reading the events of {id}: {}",
            DisplayErrorContext(&err)
        )),
    }
}

fn describe_event(event: &StackEvent) -> String {
    let time = event.timestamp().map(|t| t.to_string()).unwrap_or_default();
    let mut line = format!(
        "{time}  {} {}  {}",
        event.logical_resource_id().unwrap_or_default(),
        event.resource_type().unwrap_or_default(),
        event
            .resource_status()
            .map(|s| s.as_str())
            .unwrap_or_default()
    );
    if let Some(reason) = event.resource_status_reason().filter(|r| !r.is_empty()) {
        line.push_str(&format!("  {reason}"));
    }
    line
}

/// The resources of the latest deletion that ended in `status`, oldest first, once each: the
/// events after the stack's own latest `DELETE_IN_PROGRESS` (a resource that failed an earlier
/// attempt and went on the retry is not reported).
async fn resources_in(cfn: &Client, id: &str, status: &str) -> Result<Vec<ResourceProblem>> {
    let events = events(cfn, id).await?;
    // Newest first: up to the start of the latest deletion.
    let latest: Vec<&StackEvent> = events
        .iter()
        .take_while(|e| {
            !(e.resource_type() == Some("AWS::CloudFormation::Stack")
                && e.resource_status().map(|s| s.as_str()) == Some("DELETE_IN_PROGRESS"))
        })
        .collect();
    let mut found: Vec<ResourceProblem> = Vec::new();
    for event in latest.into_iter().rev() {
        let is_stack = event.resource_type() == Some("AWS::CloudFormation::Stack");
        if is_stack || event.resource_status().map(|s| s.as_str()) != Some(status) {
            continue;
        }
        let logical_id = event.logical_resource_id().unwrap_or_default().to_owned();
        found.retain(|p| p.logical_id != logical_id);
        found.push(ResourceProblem {
            logical_id,
            resource_type: event.resource_type().unwrap_or_default().to_owned(),
            physical_id: event.physical_resource_id().unwrap_or_default().to_owned(),
            reason: event
                .resource_status_reason()
                .unwrap_or("no reason given")
                .to_owned(),
        });
    }
    Ok(found)
}

async fn failed_resources(cfn: &Client, id: &str) -> Result<Vec<ResourceProblem>> {
    resources_in(cfn, id, "DELETE_FAILED").await
}

async fn skipped_resources(cfn: &Client, id: &str) -> Result<Vec<ResourceProblem>> {
    resources_in(cfn, id, "DELETE_SKIPPED").await
}
