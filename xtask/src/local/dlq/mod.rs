//! `cargo xtask dlq list|redrive|cancel <provider>`: what is in a provider's dead-letter queue,
//! and moving it back to the provider's queue with SQS's own redrive (a message move task). One
//! code path on aws-sdk-sqs, so the same commands work against the local endpoint and, with
//! `--stage`, a deployed stage's queues (found in the stack's outputs `<Provider>QueueUrl` and
//! `<Provider>DlqUrl`, credentials from the standard AWS chain).

pub(crate) mod list;
mod redrive;
#[cfg(test)]
mod tests;

use anyhow::{Context, Result};
use aws_sdk_sqs::Client;

use crate::aws::{AwsEnv, sdk, stack};
use crate::stage::StageStack;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: DlqAction,
}

#[derive(clap::Subcommand)]
enum DlqAction {
    /// List the messages in the provider's dead-letter queue.
    List(DlqArgs),
    /// Move every message of the dead-letter queue back to the provider's queue (an SQS message
    /// move task; Ctrl-C cancels it).
    Redrive(DlqArgs),
    /// Cancel a running redrive of the provider's dead-letter queue.
    Cancel(DlqArgs),
}

#[derive(clap::Args)]
struct DlqArgs {
    /// Provider name from hookline.toml.
    provider: String,
    /// The local SQS endpoint's port.
    #[arg(long, default_value_t = 9324)]
    sqs_port: u16,
    /// An SQS endpoint URL [default: the local one].
    #[arg(long)]
    endpoint: Option<String>,
    /// A deployed stage instead of the local stack.
    #[arg(long, conflicts_with = "endpoint")]
    stage: Option<String>,
    /// With --stage: print the calls that find the queues, and do nothing.
    #[arg(long, requires = "stage")]
    dry_run: bool,
}

/// The SQS client and the queue and DLQ URLs of a provider on a deployed stage: the stack's
/// outputs, read through the SDK after the credentials proved to work.
async fn stage_queues(
    manifest: &hookline_manifest::Manifest,
    provider: &str,
    stage: &str,
    env: &AwsEnv,
) -> Result<(Client, String, String)> {
    let stage = hookline_manifest::Stage::new(stage, false, None)?;
    let target = StageStack::new(manifest, &stage, env);
    let config = sdk::connect(env, &target.region).await;
    sdk::preflight(env, &config).await?;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let names = hookline_manifest::provider_outputs(provider);
    let [queue_url, dlq_url] = stack::outputs(
        &cfn,
        &target.stack,
        &stage.name,
        [&names.queue_url, &names.dlq_url],
    )
    .await?;
    Ok((Client::new(&config), queue_url, dlq_url))
}

/// What `--stage ... --dry-run` prints: the calls that find the queues.
fn stage_dry_run(
    manifest: &hookline_manifest::Manifest,
    provider: &str,
    stage: &str,
    env: &AwsEnv,
) -> Result<String> {
    let stage = hookline_manifest::Stage::new(stage, false, None)?;
    let target = StageStack::new(manifest, &stage, env);
    let names = hookline_manifest::provider_outputs(provider);
    Ok(format!(
        "# in {}\nsts:GetCallerIdentity\ncloudformation:DescribeStacks StackName={} (its outputs {} and {})\n# then, with aws-sdk-sqs on those queues: GetQueueAttributes, and ReceiveMessage (list) or StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask (redrive, cancel)\n",
        target.region, target.stack, names.queue_url, names.dlq_url
    ))
}

/// An SQS client for the local endpoint: fixed region and local credentials.
pub async fn local_client(endpoint: &str) -> Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(hookline_local::aws_local::REGION))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "hookline-local",
            "hookline-local",
            None,
            None,
            "hookline-local",
        ))
        .load()
        .await;
    Client::new(&config)
}

/// An SDK error with its whole chain of causes, for anyhow.
fn sdk_error<
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
>(
    err: aws_sdk_sqs::error::SdkError<E, R>,
) -> anyhow::Error {
    anyhow::anyhow!("{}", aws_sdk_sqs::error::DisplayErrorContext(err))
}

pub fn run(args: Args) -> Result<()> {
    let manifest = crate::project::manifest()?;
    sdk::runtime()?.block_on(async {
        let target = match &args.action {
            DlqAction::List(t) | DlqAction::Redrive(t) | DlqAction::Cancel(t) => t,
        };
        let provider = manifest
            .provider(&target.provider)
            .with_context(|| format!("no provider `{}` in hookline.toml", target.provider))?;
        let (queue, dlq) = hookline_local::stack::queue_names(provider);
        let (client, queue_url, dlq_url) = match &target.stage {
            Some(stage) => {
                let env = AwsEnv::from_process();
                if target.dry_run {
                    print!("{}", stage_dry_run(&manifest, &provider.name, stage, &env)?);
                    return Ok(());
                }
                stage_queues(&manifest, &provider.name, stage, &env).await?
            }
            None => {
                let endpoint = target
                    .endpoint
                    .clone()
                    .unwrap_or_else(|| format!("http://127.0.0.1:{}", target.sqs_port));
                let client = local_client(&endpoint).await;
                let dlq_url = url_of(&client, &dlq).await?;
                let queue_url = url_of(&client, &queue).await?;
                (client, queue_url, dlq_url)
            }
        };
        match &args.action {
            DlqAction::List(_) => {
                print!("{}", list::render(&list::collect(&client, &dlq_url).await?))
            }
            DlqAction::Redrive(_) => {
                let outcome = redrive::redrive(&client, &dlq_url, &queue_url).await?;
                println!(
                    "redrive {}: moved {} message(s) from {dlq} back to {queue}",
                    outcome.status.to_lowercase(),
                    outcome.moved
                );
                if outcome.status != "COMPLETED" {
                    anyhow::bail!("the redrive ended {}", outcome.status);
                }
            }
            DlqAction::Cancel(_) => match redrive::cancel(&client, &dlq_url).await? {
                Some(moved) => println!("cancelled the redrive of {dlq} after {moved} message(s)"),
                None => println!("no redrive of {dlq} is running"),
            },
        }
        Ok(())
    })
}

async fn url_of(client: &Client, name: &str) -> Result<String> {
    let out = client
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .map_err(sdk_error)
        .with_context(|| format!("finding queue {name}: is `cargo xtask dev` running?"))?;
    out.queue_url
        .with_context(|| format!("no URL for queue {name}"))
}
