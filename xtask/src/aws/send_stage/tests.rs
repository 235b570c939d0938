//! `send --stage` end to end: moto holds the stage (stack outputs, the secret, the log groups),
//! the local stack stands in for the deployed functions (the real stripe ingest verifies the
//! signature, the real processor logs), and their log lines are shipped to moto's CloudWatch
//! Logs as Lambda ships them, for `--wait` to find.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use hookline_local::logs::LogSink;
use hookline_local::{DevStack, StackConfig};
use serde_json::json;

use super::*;
use crate::aws::env::fixtures;
use crate::aws::logs::fixtures::{stack_with_log_groups, try_put};
use crate::aws::moto::{self, Moto};

/// `target/debug` with the stripe functions built (the binaries `cargo xtask dev` runs). The
/// same build as the end-to-end tests' (`tests/src/lib.rs`), so that one serves both.
fn binaries() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let output = Command::new(cargo)
                .current_dir(project::root())
                .args([
                    "build",
                    "--bins",
                    "-p",
                    "stripe-webhooks",
                    "-p",
                    "hookline-e2e",
                    "-p",
                    "xtask",
                ])
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "building the stripe functions failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            project::target_dir().join("debug")
        })
        .clone()
}

fn args(stage: &str, count: u32, tamper: bool, wait: bool) -> Args {
    Args {
        provider: "stripe".to_owned(),
        event: None,
        body: None,
        size: None,
        count,
        tamper,
        url: None,
        port: 3000,
        secret: None,
        data_dir: ".hookline".into(),
        stage: Some(stage.to_owned()),
        wait,
        timeout: "2m".to_owned(),
        dry_run: false,
        if_ready: false,
    }
}

const WAIT: WaitOptions = WaitOptions {
    timeout: Duration::from_secs(120),
    poll: Duration::from_millis(100),
};

/// Copies the local functions' log lines to moto's log groups, as Lambda does on AWS. A line
/// moto refused is sent again on the next round, so that a slow moto delays a line instead of
/// losing it (and with it the test's wait).
fn ship(
    sink: LogSink,
    logs: aws_sdk_cloudwatchlogs::Client,
    ingest: String,
    process: String,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut shipped = 0;
        loop {
            let lines = sink.lines();
            for line in &lines[shipped..] {
                let now = chrono::Utc::now().timestamp_millis();
                let target = if let Some(text) = line.strip_prefix("[stripe-process] ") {
                    Some((&process, text))
                } else {
                    line.strip_prefix("[stripe-ingest] ")
                        .map(|text| (&ingest, text))
                };
                if let Some((group, text)) = target
                    && let Err(err) =
                        try_put(&logs, group, "local", &[(now, text.to_owned())]).await
                {
                    eprintln!("shipping a line to moto failed, retrying: {err}");
                    break;
                }
                shipped += 1;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}

/// What the local functions logged, for a failure's message.
fn logged(sink: &LogSink) -> String {
    sink.lines().join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sample_signed_with_the_stage_secret_is_queued_and_processed() {
    let moto = Moto::start();
    let env = moto::env(&moto);
    let config = sdk::connect(&env, fixtures::REGION).await;

    // Not deployed yet: said so, nothing posted.
    let err = {
        let env = env.clone();
        tokio::task::spawn_blocking(move || send(&args("pr-9", 1, false, false), &env, WAIT))
            .await
            .unwrap()
            .unwrap_err()
            .to_string()
    };
    assert!(
        err.contains("is the stage deployed (`cargo xtask deploy --stage pr-9`)?"),
        "{err}"
    );

    // The "deployed" functions: the local stack, with stripe only.
    let mut manifest = project::manifest().unwrap();
    manifest.providers.retain(|p| p.name == "stripe");
    let data = tempfile::tempdir().unwrap();
    let mut stack_config = StackConfig::new(manifest, data.path().to_path_buf(), binaries());
    stack_config.gateway_addr = "127.0.0.1:0".parse().unwrap();
    stack_config.sqs_addr = "127.0.0.1:0".parse().unwrap();
    stack_config.logs = LogSink::memory();
    let sink = stack_config.logs.clone();
    let local = DevStack::start(stack_config).await.unwrap();
    let info = local.providers()[0].clone();

    // The stage: its secret in rotation (the new one, which the functions have, first), its
    // outputs, its log groups.
    let arn = aws_sdk_secretsmanager::Client::new(&config)
        .create_secret()
        .name("hookline-pr-9/stripe")
        .secret_string(serde_json::to_string(&[info.secret.as_str(), "whsec_the_old_one"]).unwrap())
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let outputs = hookline_manifest::provider_outputs("stripe");
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let stack = format!("{}-pr-9", project::manifest().unwrap().project.name);
    let groups = stack_with_log_groups(
        &cfn,
        &stack,
        &["stripe"],
        json!({ "Outputs": {
            outputs.webhook_url: { "Value": info.webhook_url },
            outputs.secret_arn: { "Value": arn },
        }}),
    )
    .await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let (ingest_group, process_group) = groups[0].clone();
    let shipper = ship(
        sink.clone(),
        logs.clone(),
        ingest_group,
        process_group.clone(),
    );

    let outcomes = {
        let env = env.clone();
        tokio::task::spawn_blocking(move || send(&args("pr-9", 2, false, true), &env, WAIT))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{e:#}\nthe functions logged:\n{}", logged(&sink)))
    };
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    assert!(
        outcomes.iter().all(|(_, o)| *o == Outcome::Processed),
        "{outcomes:?}\nthe functions logged:\n{}",
        logged(&sink)
    );
    assert_ne!(outcomes[0].0, outcomes[1].0);
    // The ingest verified them (signed with the first secret) and queued them under those ids.
    let lines = sink.lines();
    for (id, _) in &outcomes {
        assert!(
            lines.iter().any(|l| l.starts_with("[stripe-ingest] ")
                && l.contains("webhook queued")
                && l.contains(id.as_str())),
            "{id} in {lines:#?}"
        );
    }
    assert!(
        !lines.iter().any(|l| l.contains(&info.secret)),
        "a log line has the secret"
    );

    // A smoke test (`--if-ready`) skips a secret that still holds the stack's first version,
    // and runs once `secret set` wrote another.
    let ready = || {
        let env = env.clone();
        let mut args = args("pr-9", 1, false, true);
        args.if_ready = true;
        tokio::task::spawn_blocking(move || send(&args, &env, WAIT))
    };
    assert!(ready().await.unwrap().unwrap().is_empty());
    aws_sdk_secretsmanager::Client::new(&config)
        .put_secret_value()
        .secret_id(&arn)
        .secret_string(serde_json::to_string(&[info.secret.as_str()]).unwrap())
        .send()
        .await
        .unwrap();
    let smoke = ready()
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e:#}\nthe functions logged:\n{}", logged(&sink)));
    assert_eq!(smoke.len(), 1, "{smoke:?}");
    assert_eq!(smoke[0].1, Outcome::Processed);

    // Tampered: answered 401 as expected, nothing to wait for.
    let tampered = {
        let env = env.clone();
        tokio::task::spawn_blocking(move || send(&args("pr-9", 1, true, true), &env, WAIT))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{e:#}\nthe functions logged:\n{}", logged(&sink)))
    };
    assert!(tampered.is_empty(), "{tampered:?}");

    // A message the processor never logs: the wait ends with what to do.
    let err = wait_for(
        &logs,
        &process_group,
        &["no-such-message".to_owned()],
        chrono::Utc::now().timestamp_millis(),
        WaitOptions {
            timeout: Duration::from_millis(300),
            poll: Duration::from_millis(100),
        },
    )
    .await
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        format!(
            "after 0 s the processor's log group {process_group} has no line saying whether no-such-message was processed: it has not run yet (a backlog, a batching window), or CloudWatch Logs is late"
        )
    );
    shipper.abort();
}

#[test]
fn the_processor_lines_say_processed_or_failed() {
    let line = |message: &str, id: &str| {
        json!({ "level": "INFO", "fields": { "message": message, "message_id": id, "error": "the handler failed: boom" } })
            .to_string()
    };
    assert_eq!(
        outcome_of(&line("message processed", "m-1"), "m-1"),
        Some(Outcome::Processed)
    );
    assert_eq!(
        outcome_of(&line("message failed", "m-1"), "m-1"),
        Some(Outcome::Failed("the handler failed: boom".to_owned()))
    );
    assert_eq!(outcome_of(&line("message processed", "m-2"), "m-1"), None);
    assert_eq!(outcome_of(&line("webhook queued", "m-1"), "m-1"), None);
    assert_eq!(outcome_of("START RequestId: m-1", "m-1"), None);
}

/// A message that met its duplicate in another invocation is not an outcome: `--wait` waits
/// for the line of its redelivery (a duplicate then, processed) instead of calling it failed.
#[test]
fn in_progress_elsewhere_is_waited_past() {
    let line = |message: &str, code: Option<&str>| {
        json!({ "level": "INFO", "fields": { "message": message, "message_id": "m-1", "code": code, "error": "another invocation is handling this delivery now" } })
            .to_string()
    };
    let elsewhere = line(
        "message failed",
        Some(hookline::logline::IN_PROGRESS_ELSEWHERE),
    );
    let handler = line("message failed", Some("handler_error"));
    let processed = line("message processed", None);
    assert_eq!(
        outcome_of(&elsewhere, "m-1"),
        Some(Outcome::InProgressElsewhere)
    );
    assert_eq!(
        outcome_of(&handler, "m-1"),
        Some(Outcome::Failed(
            "another invocation is handling this delivery now".to_owned()
        ))
    );
    let outcome = |lines: &[&String]| outcome_in(lines.iter().map(|l| l.as_str()), "m-1");
    assert_eq!(outcome(&[&elsewhere]), Some(Outcome::InProgressElsewhere));
    assert_eq!(outcome(&[&elsewhere, &processed]), Some(Outcome::Processed));
    assert_eq!(
        outcome(&[&elsewhere, &handler]),
        Some(Outcome::Failed(
            "another invocation is handling this delivery now".to_owned()
        ))
    );
    assert_eq!(outcome(&[]), None);
}

#[test]
fn public_key_schemes_cannot_be_signed_for_a_stage() {
    let discord: hookline::Scheme = "discord".parse().unwrap();
    let err = can_sign("bot", &discord).unwrap_err().to_string();
    assert!(
        err.starts_with("bot verifies with the provider's public key (discord): the stage's secret is that public key, which cannot sign."),
        "{err}"
    );
    assert!(can_sign("stripe", &"stripe".parse().unwrap()).is_ok());
}

#[test]
fn dry_run_lists_the_calls_and_what_is_posted() {
    let manifest = project::manifest().unwrap();
    let provider = manifest.provider("stripe").unwrap();
    let target = StageStack {
        stack: "hookline-prod".to_owned(),
        region: "eu-west-1".to_owned(),
    };
    let mut a = args("prod", 3, false, true);
    a.dry_run = true;
    assert_eq!(
        dry_run(
            &a,
            provider,
            &target,
            "invoice.paid",
            WaitOptions {
                timeout: Duration::from_secs(120),
                poll: Duration::from_secs(2),
            }
        ),
        "# in eu-west-1
sts:GetCallerIdentity
cloudformation:DescribeStacks StackName=hookline-prod (its outputs StripeWebhookUrl and StripeSecretArn)
secretsmanager:GetSecretValue SecretId=<StripeSecretArn> (never printed; the first secret of a rotation signs)
# POST <StripeWebhookUrl>, 3 time(s): the sample `invoice.paid` signed as stripe signs it
# --wait: cloudformation:GetTemplate and ListStackResources (the processor's log group), then logs:FilterLogEvents FilterPattern='\"<message id>\"' (several: ?\"<id>\" ?\"<id>\") every 2 s until each message is logged processed or failed, at most 2m
"
    );
}
