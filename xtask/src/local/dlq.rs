//! `cargo xtask dlq list|redrive <provider>`: what is in a provider's dead-letter queue, and
//! moving it back to the provider's queue. One code path on aws-sdk-sqs, so the same commands
//! work against the local endpoint and, with `--stage`, a deployed stage's queues (found in the
//! stack's outputs `<Provider>QueueUrl` and `<Provider>DlqUrl`, credentials from the standard
//! AWS chain).

use anyhow::{Context, Result};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use hookline::Envelope;

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
    /// Move every message of the dead-letter queue back to the provider's queue.
    Redrive(DlqArgs),
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
        "# in {}\nsts:GetCallerIdentity\ncloudformation:DescribeStacks StackName={} (its outputs {} and {})\n# then receives, sends and deletes with aws-sdk-sqs on those URLs\n",
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

pub fn run(args: Args) -> Result<()> {
    let manifest = crate::project::manifest()?;
    sdk::runtime()?.block_on(async {
        let (target, redrive) = match &args.action {
            DlqAction::List(t) => (t, false),
            DlqAction::Redrive(t) => (t, true),
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
        if redrive {
            let moved = redrive_all(&client, &dlq_url, &queue_url).await?;
            println!("moved {moved} message(s) from {dlq} back to {queue}");
        } else {
            list(&client, &dlq_url).await?;
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
        .map_err(|e| anyhow::anyhow!("{}", aws_sdk_sqs::error::DisplayErrorContext(e)))
        .with_context(|| format!("finding queue {name}: is `cargo xtask dev` running?"))?;
    out.queue_url
        .with_context(|| format!("no URL for queue {name}"))
}

/// Prints the DLQ's messages. They are hidden while being read, then made visible again.
pub async fn list(client: &Client, dlq_url: &str) -> Result<()> {
    let mut seen = Vec::new();
    loop {
        let out = client
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages(10)
            .visibility_timeout(30)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{}", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        seen.extend(messages);
    }
    if seen.is_empty() {
        println!("the dead-letter queue is empty");
    }
    for m in &seen {
        let body = m.body.as_deref().unwrap_or_default();
        let sent = m
            .attributes
            .as_ref()
            .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
            .and_then(|t| t.parse::<i64>().ok())
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        match Envelope::from_json(body) {
            Ok(e) => println!(
                "{}  sent {sent}  {} {}  delivery {}  {} bytes",
                m.message_id.as_deref().unwrap_or_default(),
                e.provider,
                e.event_type.as_deref().unwrap_or("-"),
                e.delivery_id.as_deref().unwrap_or("-"),
                e.body.len()
            ),
            Err(err) => println!(
                "{}  sent {sent}  not an envelope ({err})",
                m.message_id.as_deref().unwrap_or_default()
            ),
        }
    }
    for m in &seen {
        if let Some(receipt) = &m.receipt_handle {
            let _ = client
                .change_message_visibility()
                .queue_url(dlq_url)
                .receipt_handle(receipt)
                .visibility_timeout(0)
                .send()
                .await;
        }
    }
    println!("{} message(s)", seen.len());
    Ok(())
}

/// Moves every DLQ message back: send to the queue first, then delete from the DLQ, so a
/// failure in between duplicates a message rather than losing it.
pub async fn redrive_all(client: &Client, dlq_url: &str, queue_url: &str) -> Result<u64> {
    let fifo = queue_url.ends_with(".fifo");
    let mut moved = 0;
    loop {
        let out = client
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages(10)
            .visibility_timeout(60)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{}", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(moved);
        }
        for m in messages {
            let mut send = client
                .send_message()
                .queue_url(queue_url)
                .message_body(m.body.clone().unwrap_or_default())
                .set_message_attributes(m.message_attributes.clone());
            if fifo {
                let attributes = m.attributes.clone().unwrap_or_default();
                send = send
                    .message_group_id(
                        attributes
                            .get(&MessageSystemAttributeName::MessageGroupId)
                            .cloned()
                            .unwrap_or_default(),
                    )
                    .message_deduplication_id(format!(
                        "redrive-{}",
                        m.message_id.clone().unwrap_or_default()
                    ));
            }
            send.send()
                .await
                .map_err(|e| anyhow::anyhow!("{}", aws_sdk_sqs::error::DisplayErrorContext(e)))
                .context("sending back to the queue")?;
            client
                .delete_message()
                .queue_url(dlq_url)
                .receipt_handle(m.receipt_handle.clone().unwrap_or_default())
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("{}", aws_sdk_sqs::error::DisplayErrorContext(e)))
                .context("deleting from the dead-letter queue")?;
            moved += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::env::fixtures;
    use crate::aws::moto::{self, Moto};

    fn manifest() -> hookline_manifest::Manifest {
        hookline_manifest::parse("[project]\nname = \"hookline\"\nregion = \"eu-west-1\"\n[[providers]]\nname = \"billing-eu\"\ntemplate = \"stripe\"\n", "hookline.toml").unwrap()
    }

    #[test]
    fn stage_dry_run_prints_how_the_queues_are_found() {
        let plan = stage_dry_run(&manifest(), "billing-eu", "pr-42", &AwsEnv::default()).unwrap();
        assert_eq!(
            plan,
            "# in eu-west-1\nsts:GetCallerIdentity\ncloudformation:DescribeStacks StackName=hookline-pr-42 (its outputs BillingEuQueueUrl and BillingEuDlqUrl)\n# then receives, sends and deletes with aws-sdk-sqs on those URLs\n"
        );
    }

    #[tokio::test]
    async fn stage_queues_come_from_the_stack_outputs() {
        let moto = Moto::start();
        let env = moto::env(&moto);
        let config = sdk::connect(&env, fixtures::REGION).await;
        let template = serde_json::json!({
            "Resources": { "Queue": { "Type": "AWS::SQS::Queue" } },
            "Outputs": {
                "BillingEuQueueUrl": { "Value": "https://sqs.eu-west-1.amazonaws.com/1/q" },
                "BillingEuDlqUrl": { "Value": "https://sqs.eu-west-1.amazonaws.com/1/dlq" },
            },
        });
        aws_sdk_cloudformation::Client::new(&config)
            .create_stack()
            .stack_name("hookline-pr-42")
            .template_body(template.to_string())
            .send()
            .await
            .unwrap();
        let (_, queue, dlq) = stage_queues(&manifest(), "billing-eu", "pr-42", &env)
            .await
            .unwrap();
        assert_eq!(queue, "https://sqs.eu-west-1.amazonaws.com/1/q");
        assert_eq!(dlq, "https://sqs.eu-west-1.amazonaws.com/1/dlq");
        let err = stage_queues(&manifest(), "billing-eu", "pr-43", &env)
            .await
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("is the stage deployed (`cargo xtask deploy --stage pr-43`)?"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn stage_without_credentials_fails_before_any_call() {
        let home = tempfile::tempdir().unwrap();
        let env = AwsEnv {
            vars: Default::default(),
            home: Some(home.path().to_path_buf()),
        };
        let err = stage_queues(&manifest(), "billing-eu", "pr-42", &env)
            .await
            .err()
            .unwrap();
        assert!(
            format!("{err:#}").starts_with("no AWS credentials found"),
            "{err:#}"
        );
    }
}
