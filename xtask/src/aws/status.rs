//! `cargo xtask status --stage <s>`: one screen about a deployed stage. The stack's status, when
//! it was last deployed and when it expires (ephemeral stages carry `hookline:expires-at`), per
//! provider its webhook URL, queue depth (visible / in flight), DLQ depth and the age of the
//! oldest queued message, and the stack's alarms in ALARM. Read-only; every number is SQS's or
//! CloudWatch's approximation.

mod gather;
mod render;
#[cfg(test)]
mod tests;

use anyhow::Result;
use chrono::{DateTime, Utc};
use hookline_manifest::stage::TAG_EXPIRES_AT;

use crate::aws::{AwsEnv, sdk};
use crate::project;
use crate::stage::{StageArgs, StageStack};

pub use gather::{OLDEST_WINDOW_MINUTES, gather};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub stage: StageArgs,
    /// Print it all as one line of JSON.
    #[arg(long)]
    pub json: bool,
}

/// What `status` found.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// `<project>-<stage>`.
    pub stack: String,
    /// Its region.
    pub region: String,
    /// CloudFormation's status of the stack (`UPDATE_COMPLETE`, ...).
    pub stack_status: String,
    /// Why, when CloudFormation says.
    pub reason: Option<String>,
    /// Its last update, else its creation.
    pub deployed_at: Option<DateTime<Utc>>,
    /// The `hookline:expires-at` tag, as written (ephemeral stages only).
    pub expires_at: Option<String>,
    /// The `hookline:pr` tag.
    pub pr: Option<String>,
    /// One per provider of the manifest, in its order.
    pub providers: Vec<ProviderStatus>,
    /// The stack's alarms in ALARM.
    pub alarms: Vec<Alarm>,
    /// When it was read.
    pub now: DateTime<Utc>,
}

impl Status {
    /// Whether the stage is ephemeral: exactly when its stack carries the expiry tag.
    pub fn ephemeral(&self) -> bool {
        self.expires_at.is_some()
    }
}

/// One provider's pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderStatus {
    /// The provider.
    pub name: String,
    /// The `<Provider>WebhookUrl` output; `None` when the stack lacks it.
    pub webhook_url: Option<String>,
    /// The queue's messages, visible and in flight.
    pub queue: Option<Depth>,
    /// The DLQ's messages, visible and in flight.
    pub dlq: Option<Depth>,
    /// The age of the oldest queued message in seconds: the latest `ApproximateAgeOfOldestMessage`
    /// datapoint. `None`: CloudWatch has none in the window.
    pub oldest_age_secs: Option<f64>,
    /// What could not be read (a missing output, a refused call).
    pub problems: Vec<String>,
}

/// A queue's `ApproximateNumberOfMessages` and `ApproximateNumberOfMessagesNotVisible`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Depth {
    /// Waiting to be received.
    pub visible: u64,
    /// Received, being processed (or failed and not yet visible again).
    pub in_flight: u64,
}

/// An alarm in ALARM.
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    /// Its name.
    pub name: String,
    /// What it watches (the CDK app writes `hookline <provider>: ...`).
    pub description: Option<String>,
    /// CloudWatch's reason for the state.
    pub reason: Option<String>,
    /// Since when.
    pub since: Option<DateTime<Utc>>,
}

pub fn run(args: Args) -> Result<()> {
    let manifest = project::manifest()?;
    let env = AwsEnv::from_process();
    let stage = args.stage.stage()?;
    let target = StageStack::new(&manifest, &stage, &env);
    let providers: Vec<String> = manifest.providers.iter().map(|p| p.name.clone()).collect();
    if args.stage.dry_run {
        print!("{}", dry_run(&target, &providers));
        return Ok(());
    }
    let status = sdk::runtime()?.block_on(async {
        let config = sdk::connect(&env, &target.region).await;
        sdk::preflight(&env, &config).await?;
        gather(&config, &target, &stage.name, &providers, Utc::now()).await
    })?;
    print!(
        "{}",
        if args.json {
            format!("{}\n", render::json(&status))
        } else {
            render::human(&status)
        }
    );
    Ok(())
}

/// What `--dry-run` prints: the calls, in order.
fn dry_run(target: &StageStack, providers: &[String]) -> String {
    let stack = &target.stack;
    let mut out = format!(
        "# in {}\nsts:GetCallerIdentity\ncloudformation:DescribeStacks StackName={stack} (status, last update, tags {TAG_EXPIRES_AT} and hookline:pr, outputs)\n",
        target.region
    );
    for name in providers {
        let outputs = hookline_manifest::provider_outputs(name);
        out.push_str(&format!(
            "sqs:GetQueueAttributes QueueUrl=<{}> and QueueUrl=<{}> AttributeNames=ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible\n",
            outputs.queue_url, outputs.dlq_url
        ));
    }
    out.push_str(&format!(
        "cloudwatch:GetMetricData AWS/SQS ApproximateAgeOfOldestMessage QueueName=<each queue> Stat=Maximum Period=60 (the last {OLDEST_WINDOW_MINUTES} minutes)\ncloudwatch:DescribeAlarms AlarmNamePrefix={stack}- StateValue=ALARM\n# when some are in ALARM: cloudformation:DescribeStacks (all), to leave out the alarms of stacks named {stack}-*\n"
    ));
    out
}
