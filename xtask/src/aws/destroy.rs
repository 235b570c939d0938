//! `cargo xtask destroy --stage <s>`: deletes the stack `<project>-<stage>` through CloudFormation
//! with the AWS SDK: no build, no synthesis, no Python or Node, so it works from any checkout
//! (the base branch, when a pull request closes). A stage is ephemeral exactly when its stack
//! carries the `hookline:expires-at` tag: then everything goes with it. Any other stage keeps its
//! queues, DLQs and secrets, and is only destroyed with `--force`.
//!
//! It is idempotent (no stack is success, a deletion in progress is waited for), streams the
//! stack's events while it waits, retries once after `DELETE_FAILED` (with `--force-delete`:
//! skipping what cannot be deleted, then listing it), and exits non-zero whenever the stack is
//! not gone.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Result, bail};
use hookline_manifest::stage::TAG_EXPIRES_AT;
use serde_json::json;

use crate::aws::stack::{self, DeleteOptions, Deletion};
use crate::aws::{AwsEnv, sdk};
use crate::project;
use crate::stage::{StageArgs, StageStack};

#[derive(clap::Args)]
pub struct Args {
    /// The stage to remove: the stack <project>-<stage>.
    #[command(flatten)]
    pub stage: StageArgs,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Destroy a non-ephemeral stage too (its queues, DLQs and secrets are retained).
    #[arg(long)]
    pub force: bool,
    /// If the deletion fails, retry with FORCE_DELETE_STACK: what cannot be deleted is skipped,
    /// then listed (ephemeral stages only, unless --force).
    #[arg(long)]
    pub force_delete: bool,
    /// Print the result as one line of JSON on stdout (progress goes to stderr).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let manifest = project::manifest()?;
    let env = AwsEnv::from_process();
    let stage = args.stage.stage()?;
    let target = StageStack::new(&manifest, &stage, &env);
    if args.stage.dry_run {
        print!("{}", dry_run(&target, &args));
        return Ok(());
    }
    let outcome = sdk::runtime()?.block_on(async {
        let config = sdk::connect(&env, &target.region).await;
        sdk::preflight(&env, &config).await?;
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        destroy(
            &cfn,
            &target,
            &args,
            DeleteOptions {
                force_delete: args.force_delete,
                ..DeleteOptions::default()
            },
            &mut confirm,
        )
        .await
    })?;
    print!("{}", report(&target, &stage.name, &outcome, args.json));
    if !outcome.deletion.is_gone() {
        bail!("{} is not gone", target.stack);
    }
    Ok(())
}

/// What `--dry-run` prints: the calls, in order.
fn dry_run(target: &StageStack, args: &Args) -> String {
    let stack = &target.stack;
    let mut out = format!(
        "# in {region}\nsts:GetCallerIdentity\ncloudformation:DescribeStacks StackName={stack}\n# none: nothing to destroy (success). Without the tag {TAG_EXPIRES_AT} (not ephemeral): ",
        region = target.region
    );
    out.push_str(if args.force {
        "destroyed anyway (--force)\n"
    } else {
        "refused unless --force\n"
    });
    out.push_str(&format!(
        "cloudformation:DeleteStack StackName=<its stack id>\n# then every {} s until it is gone: cloudformation:DescribeStackEvents (new events are printed) and cloudformation:DescribeStacks\n# on DELETE_FAILED: the failed resources and why, then once more: cloudformation:DeleteStack StackName=<its stack id>{}\n",
        DeleteOptions::default().poll.as_secs(),
        if args.force_delete {
            " DeletionMode=FORCE_DELETE_STACK, and the skipped resources are listed"
        } else {
            ""
        }
    ));
    out
}

/// Asks on the terminal; refuses without one.
fn confirm(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("{question}: no terminal to ask on; pass --yes");
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// What happened to the stage's stack.
#[derive(Debug)]
pub struct Outcome {
    /// Whether it was an ephemeral stage (`None`: there was no stack).
    pub ephemeral: Option<bool>,
    /// How the deletion ended.
    pub deletion: Deletion,
}

/// Deletes the stage's stack, refusing a retained stage without `--force`.
pub async fn destroy(
    cfn: &aws_sdk_cloudformation::Client,
    target: &StageStack,
    args: &Args,
    options: DeleteOptions,
    confirm: &mut dyn FnMut(&str) -> Result<bool>,
) -> Result<Outcome> {
    let Some(found) = stack::describe(cfn, &target.stack).await? else {
        return Ok(Outcome {
            ephemeral: None,
            deletion: Deletion::NotFound,
        });
    };
    let ephemeral = found.tags.contains_key(TAG_EXPIRES_AT);
    if !ephemeral && !args.force {
        bail!(
            "{} is not an ephemeral stage (its stack has no {TAG_EXPIRES_AT} tag): destroying it removes its API and functions, and keeps its queues, DLQs and secrets. Pass --force to destroy it anyway.",
            target.stack
        );
    }
    if found.status != "DELETE_IN_PROGRESS" {
        let question = format!(
            "Destroy {} ({}) in {}?",
            target.stack, found.status, target.region
        );
        if !args.yes && !confirm(&question)? {
            bail!("not destroyed");
        }
    }
    eprintln!("deleting {} ({})...", target.stack, found.status);
    let deletion = stack::delete(cfn, &target.stack, options, &mut |line| {
        eprintln!("  {line}")
    })
    .await?;
    Ok(Outcome {
        ephemeral: Some(ephemeral),
        deletion,
    })
}

/// What to print: a sentence, or one line of JSON.
fn report(target: &StageStack, stage: &str, outcome: &Outcome, as_json: bool) -> String {
    let stack = &target.stack;
    let region = &target.region;
    if as_json {
        let (result, status, resources) = match &outcome.deletion {
            Deletion::NotFound => ("not-found", None, Vec::new()),
            Deletion::Deleted { left_behind } => ("deleted", None, left_behind.clone()),
            Deletion::Failed { status, failed } => ("failed", Some(status.clone()), failed.clone()),
        };
        let resources: Vec<_> = resources
            .iter()
            .map(|r| {
                json!({
                    "logicalId": r.logical_id,
                    "type": r.resource_type,
                    "physicalId": r.physical_id,
                    "reason": r.reason,
                })
            })
            .collect();
        let line = json!({
            "stack": stack,
            "region": region,
            "result": result,
            "status": status,
            "ephemeral": outcome.ephemeral,
            "resources": resources,
        });
        return format!("{line}\n");
    }
    match &outcome.deletion {
        Deletion::NotFound => format!("{stack} does not exist in {region}: nothing to destroy\n"),
        Deletion::Deleted { left_behind } => {
            let mut out = if outcome.ephemeral == Some(true) {
                format!("{stack} destroyed: every resource is gone (ephemeral stage)\n")
            } else {
                format!(
                    "{stack} destroyed; its queues, DLQs and secrets are retained (delete them in the console when no longer needed)\n"
                )
            };
            if !left_behind.is_empty() {
                out.push_str("FORCE_DELETE_STACK left these behind; delete them by hand:\n");
                for r in left_behind {
                    out.push_str(&format!(
                        "  {} {} ({}): {}\n",
                        r.resource_type, r.physical_id, r.logical_id, r.reason
                    ));
                }
            }
            out
        }
        Deletion::Failed { status, failed } => {
            let mut out = format!("{stack} is still there ({status}). What failed:\n");
            for r in failed {
                out.push_str(&format!(
                    "  {} {} ({}): {}\n",
                    r.resource_type, r.physical_id, r.logical_id, r.reason
                ));
            }
            out.push_str(&format!(
                "Fix those resources (or retry with --force-delete to skip them), then run `cargo xtask destroy --stage {stage} --yes` again.\n"
            ));
            out
        }
    }
}

#[cfg(test)]
mod tests;
