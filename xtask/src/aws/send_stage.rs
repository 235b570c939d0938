//! `cargo xtask send <provider> --stage <s>`: the local `send` against a deployed stage. The
//! sample is signed with the stage's current secret, read from Secrets Manager with the
//! caller's credentials (the first one of a rotation: the new one), and posted to the webhook
//! URL of the stack's outputs. The secret is never printed, nor put in an error. `--wait` then
//! polls the processor's log group until it logged each message as processed or failed.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hookline::logline;
use hookline::sign::Signer;
use serde_json::Value;

use crate::aws::logs::{self, Function, fetch};
use crate::aws::{AwsEnv, sdk, stack};
use crate::local::send::{self as local_send, Args};
use crate::project;
use crate::stage::StageStack;

/// What the processor logged about a message (`crates/hookline/src/process.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `message processed` (its handler completed, now or, for a duplicate, before).
    Processed,
    /// `message failed`, with the error it logged; SQS hands it out again after the visibility
    /// timeout.
    Failed(String),
    /// `message failed` only because another invocation was running its handler right then
    /// (a duplicate delivered at the same moment): not an outcome yet, the message comes back.
    InProgressElsewhere,
}

impl Outcome {
    /// Whether this says how the message ended (and `--wait` stops waiting for it).
    fn is_final(&self) -> bool {
        !matches!(self, Outcome::InProgressElsewhere)
    }
}

/// How `--wait` waits.
#[derive(Debug, Clone, Copy)]
pub struct WaitOptions {
    /// At most this long for all the messages.
    pub timeout: Duration,
    /// Between two reads of the log group.
    pub poll: Duration,
}

pub fn run(args: &Args) -> Result<()> {
    let Some(timeout) = logs::duration_secs(&args.timeout) else {
        bail!(
            "--timeout `{}` is not a duration: use a number and s, m or h, e.g. 30s or 2m",
            args.timeout
        );
    };
    let wait = WaitOptions {
        timeout: Duration::from_secs(timeout.unsigned_abs()),
        poll: Duration::from_secs(2),
    };
    let outcomes = send(args, &AwsEnv::from_process(), wait)?;
    let failed = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Failed(_)))
        .count();
    if failed > 0 {
        bail!(
            "{failed} of {} message(s) failed in the processor",
            outcomes.len()
        );
    }
    Ok(())
}

/// Sends (or, with `--dry-run`, prints the calls); with `--wait`, returns what the processor
/// logged about each message queued.
pub fn send(args: &Args, env: &AwsEnv, wait: WaitOptions) -> Result<Vec<(String, Outcome)>> {
    let Some(stage) = &args.stage else {
        bail!("send_stage::send needs --stage");
    };
    let manifest = project::manifest()?;
    let provider = local_send::provider(&manifest, &args.provider)?;
    let scheme = provider.scheme().map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Err(err) = can_sign(&provider.name, &scheme) {
        if args.if_ready {
            println!("skipped {}: {err}", provider.name);
            return Ok(Vec::new());
        }
        return Err(err);
    }
    let sample = local_send::body(args, provider)?;
    let stage = hookline_manifest::Stage::new(stage, false, None)?;
    let target = StageStack::new(&manifest, &stage, env);
    let outputs = hookline_manifest::provider_outputs(&provider.name);
    if args.dry_run {
        print!(
            "{}",
            dry_run(args, provider, &target, &sample.event_type, wait)
        );
        return Ok(Vec::new());
    }
    sdk::runtime()?.block_on(async {
        let config = sdk::connect(env, &target.region).await;
        sdk::preflight(env, &config).await?;
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        let [url, stack_secret] = stack::outputs(
            &cfn,
            &target.stack,
            &stage.name,
            [&outputs.webhook_url, &outputs.secret_arn],
        )
        .await?;
        let client = aws_sdk_secretsmanager::Client::new(&config);
        // A secret the stack created holds a random placeholder until `secret set` writes a
        // second version; a secret the manifest names is the user's own.
        if args.if_ready
            && provider.signing.secret_arn.is_none()
            && !ever_set(&client, &stack_secret).await?
        {
            println!(
                "skipped {}: its secret was never set (`cargo xtask secret set {} --stage {}`)",
                provider.name, provider.name, stage.name
            );
            return Ok(Vec::new());
        }
        let arn = provider.signing.secret_arn.clone().unwrap_or(stack_secret);
        // Its errors name the secret, never its value.
        let secrets = hookline::secrets::fetch(&client, &arn)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let first = secrets
            .first()
            .with_context(|| format!("the secret {arn} holds no signing secret"))?;
        let signer = Signer::new(scheme.clone(), first.expose()).map_err(|e| {
            anyhow::anyhow!("the secret {arn} cannot sign for the {scheme} scheme: {e}")
        })?;
        let sent_ms = chrono::Utc::now().timestamp_millis();
        let queued = local_send::deliver(
            &signer,
            &provider.name,
            &sample,
            &url,
            args.count,
            args.tamper,
        )?;
        if !args.wait || queued.is_empty() {
            return Ok(Vec::new());
        }
        let groups = logs::groups::find(
            &cfn,
            &target.stack,
            &stage.name,
            &provider.name,
            &[Function::Process],
        )
        .await?;
        let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
        let found = wait_for(&logs, &groups[0].1, &queued, sent_ms, wait).await;
        let hint = format!(
            "look with `cargo xtask logs {} --stage {} --function process`",
            provider.name, stage.name
        );
        found.with_context(|| hint)
    })
}

/// Whether a stack-created secret was written since its creation: more than its first version.
async fn ever_set(client: &aws_sdk_secretsmanager::Client, arn: &str) -> Result<bool> {
    let secret = client
        .describe_secret()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{}", aws_sdk_secretsmanager::error::DisplayErrorContext(e)))
        .with_context(|| format!("reading the versions of the secret {arn}"))?;
    Ok(secret.version_ids_to_stages().map_or(0, |v| v.len()) > 1)
}

/// Public-key schemes keep the provider's public key in the stage's secret: nothing to sign with.
fn can_sign(provider: &str, scheme: &hookline::Scheme) -> Result<()> {
    if scheme.uses_public_keys() {
        bail!(
            "{provider} verifies with the provider's public key ({scheme}): the stage's secret is that public key, which cannot sign. Send a test delivery from the provider's dashboard instead"
        );
    }
    Ok(())
}

/// What `--dry-run` prints: the calls, and what would be posted.
fn dry_run(
    args: &Args,
    provider: &hookline_manifest::Provider,
    target: &StageStack,
    event_type: &str,
    wait: WaitOptions,
) -> String {
    let outputs = hookline_manifest::provider_outputs(&provider.name);
    let secret = match &provider.signing.secret_arn {
        Some(arn) => arn.clone(),
        None => format!("<{}>", outputs.secret_arn),
    };
    let mut out = format!(
        "# in {}\nsts:GetCallerIdentity\ncloudformation:DescribeStacks StackName={} (its outputs {} and {})\nsecretsmanager:GetSecretValue SecretId={secret} (never printed; the first secret of a rotation signs)\n# POST <{}>, {} time(s): {} signed as {} signs it{}\n",
        target.region,
        target.stack,
        outputs.webhook_url,
        outputs.secret_arn,
        outputs.webhook_url,
        args.count,
        match &args.body {
            Some(path) => path.display().to_string(),
            None => format!("the sample `{event_type}`"),
        },
        provider.name,
        if args.tamper {
            ", then changed (401 expected)"
        } else {
            ""
        },
    );
    if args.wait {
        out.push_str(&format!(
            "# --wait: cloudformation:GetTemplate and ListStackResources (the processor's log group), then logs:FilterLogEvents FilterPattern='\"<message id>\"' (several: ?\"<id>\" ?\"<id>\") every {} s until each message is logged processed or failed, at most {}\n",
            wait.poll.as_secs(),
            args.timeout
        ));
    }
    out
}

/// What a processor log line says about `message_id`, if anything.
pub fn outcome_of(line: &str, message_id: &str) -> Option<Outcome> {
    let fields = logs::line::fields(line)?;
    if fields.get("message_id").and_then(Value::as_str) != Some(message_id) {
        return None;
    }
    let message = fields.get(logline::MESSAGE).and_then(Value::as_str)?;
    if message == logline::MESSAGE_PROCESSED {
        return Some(Outcome::Processed);
    }
    if message != logline::MESSAGE_FAILED {
        return None;
    }
    if fields.get(logline::CODE).and_then(Value::as_str) == Some(logline::IN_PROGRESS_ELSEWHERE) {
        return Some(Outcome::InProgressElsewhere);
    }
    Some(Outcome::Failed(
        fields
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("no error logged")
            .to_owned(),
    ))
}

/// What the lines say about `message_id`: how it ended if one says so (the first such line;
/// a message's later lines are of its redeliveries), else that it is in progress elsewhere.
fn outcome_in<'a>(lines: impl Iterator<Item = &'a str>, message_id: &str) -> Option<Outcome> {
    let mut elsewhere = None;
    for outcome in lines.filter_map(|line| outcome_of(line, message_id)) {
        if outcome.is_final() {
            return Some(outcome);
        }
        elsewhere = Some(outcome);
    }
    elsewhere
}

/// Polls the processor's log group from `since_ms` until each message has a line that says
/// it was processed or failed, printing each as it is found.
pub async fn wait_for(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    message_ids: &[String],
    since_ms: i64,
    options: WaitOptions,
) -> Result<Vec<(String, Outcome)>> {
    let started = Instant::now();
    // A minute of slack: the clocks of this machine and of AWS differ.
    let start_ms = since_ms - 60_000;
    let mut found: Vec<(String, Outcome)> = Vec::new();
    // Told once each: the messages that were in progress elsewhere.
    let mut elsewhere = std::collections::HashSet::new();
    eprintln!(
        "waiting for the processor (log group {group}, at most {} s)...",
        options.timeout.as_secs()
    );
    loop {
        let pending: Vec<&String> = message_ids
            .iter()
            .filter(|id| !found.iter().any(|(done, _)| done == *id))
            .collect();
        // One read for them all (FilterLogEvents is throttled per account): quoted terms match
        // an id as it is (unquoted, its `-` would exclude terms), `?` joins them with OR
        // (CloudWatch Logs filter pattern syntax). Each line is checked below anyway: moto
        // matches every line for a `?` pattern.
        let pattern = match pending.as_slice() {
            [one] => format!("\"{one}\""),
            many => many
                .iter()
                .map(|id| format!("?\"{id}\""))
                .collect::<Vec<_>>()
                .join(" "),
        };
        let query = fetch::Query {
            groups: vec![(Function::Process, group.to_owned())],
            start_ms,
            pattern: Some(pattern),
            page_limit: None,
        };
        let events = fetch::all(logs, &query).await?;
        for id in pending {
            let lines = events.iter().map(|e| e.message.as_str());
            let Some(outcome) = outcome_in(lines, id) else {
                continue;
            };
            let after = started.elapsed().as_secs_f64();
            match &outcome {
                Outcome::Processed => println!("processed  {id}  ({after:.1} s)"),
                Outcome::Failed(error) => println!(
                    "FAILED     {id}  ({after:.1} s): {error} (SQS hands it out again after the visibility timeout)"
                ),
                Outcome::InProgressElsewhere => {
                    if elsewhere.insert(id.clone()) {
                        println!(
                            "waiting    {id}  ({after:.1} s): another invocation was running the handler for the same delivery; SQS hands this one out again after the visibility timeout"
                        );
                    }
                    continue;
                }
            }
            found.push((id.clone(), outcome));
        }
        if found.len() == message_ids.len() {
            return Ok(found);
        }
        if started.elapsed() >= options.timeout {
            let missing: Vec<&str> = message_ids
                .iter()
                .filter(|id| !found.iter().any(|(done, _)| done == *id))
                .map(String::as_str)
                .collect();
            let why = if missing.iter().any(|id| elsewhere.contains(*id)) {
                "it failed only because another invocation was running its handler, and has not come back yet (SQS hands it out again after the queue's visibility timeout)"
            } else {
                "it has not run yet (a backlog, a batching window), or CloudWatch Logs is late"
            };
            bail!(
                "after {} s the processor's log group {group} has no line saying whether {} was processed: {why}",
                options.timeout.as_secs(),
                missing.join(", ")
            );
        }
        tokio::time::sleep(options.poll).await;
    }
}

#[cfg(test)]
mod tests;
