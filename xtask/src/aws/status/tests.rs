//! `status`: the screen from plain data, and what it reads from moto (CloudFormation, SQS,
//! CloudWatch metrics and alarms over their real protocols).

use aws_sdk_cloudformation::types::Tag;
use aws_sdk_cloudwatch::types::{ComparisonOperator, MetricDatum, StateValue, Statistic};
use serde_json::Value;

use super::*;
use crate::aws::env::fixtures;
use crate::aws::moto::{self, Moto};

const NOW: &str = "2026-12-02T12:00:00Z";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(NOW)
        .unwrap()
        .with_timezone(&Utc)
}

fn target(stack: &str) -> StageStack {
    StageStack {
        stack: stack.to_owned(),
        region: fixtures::REGION.to_owned(),
    }
}

#[test]
fn the_screen_shows_the_stack_each_pipeline_and_the_alarms() {
    let status = Status {
        stack: "shop-pr-42".to_owned(),
        region: "eu-west-1".to_owned(),
        stack_status: "UPDATE_COMPLETE".to_owned(),
        reason: None,
        deployed_at: Some(now() - chrono::Duration::minutes(125)),
        expires_at: Some("2026-12-03T09:55:00Z".to_owned()),
        pr: Some("42".to_owned()),
        providers: vec![
            ProviderStatus {
                name: "stripe".to_owned(),
                webhook_url: Some("https://abc.execute-api.eu-west-1.amazonaws.com/webhooks/stripe".to_owned()),
                queue: Some(Depth { visible: 3, in_flight: 1 }),
                dlq: Some(Depth { visible: 2, in_flight: 0 }),
                oldest_age_secs: Some(42.0),
                problems: vec![],
            },
            ProviderStatus {
                name: "billing-eu".to_owned(),
                webhook_url: None,
                queue: None,
                dlq: None,
                oldest_age_secs: None,
                problems: vec!["the stack has no output BillingEuWebhookUrl: deploy the stage again (`cargo xtask deploy --stage pr-42`)".to_owned()],
            },
        ],
        alarms: vec![Alarm {
            name: "shop-pr-42-stripeDeadLetterQueueAlarm1A2B3C4D-XYZ".to_owned(),
            description: Some("hookline stripe: deliveries are in the dead-letter queue (see `cargo xtask dlq`)".to_owned()),
            reason: Some("Threshold Crossed".to_owned()),
            since: Some(now() - chrono::Duration::minutes(3)),
        }],
        now: now(),
    };
    assert_eq!(
        render::human(&status),
        "shop-pr-42 (eu-west-1): UPDATE_COMPLETE
last deploy  2026-12-02 09:55:00 UTC (2h 5m ago)
expires      2026-12-03 09:55:00 UTC (in 21h 55m; ephemeral, pull request #42)

provider    webhook URL                                                      queue (visible / in flight)  DLQ  oldest message
stripe      https://abc.execute-api.eu-west-1.amazonaws.com/webhooks/stripe  3 / 1                        2    42 s
billing-eu  ?                                                                ?                            ?    no data
(oldest message: CloudWatch's ApproximateAgeOfOldestMessage, the latest minute of the last 15; no data: none in that window, as for an idle queue)
billing-eu: the stack has no output BillingEuWebhookUrl: deploy the stage again (`cargo xtask deploy --stage pr-42`)

alarms in ALARM (1):
  shop-pr-42-stripeDeadLetterQueueAlarm1A2B3C4D-XYZ  since 2026-12-02 11:57:00 UTC
    hookline stripe: deliveries are in the dead-letter queue (see `cargo xtask dlq`)
"
    );
    let json = render::json(&status);
    assert_eq!(json["ephemeral"], true);
    assert_eq!(json["providers"][0]["queue"]["inFlight"], 1);
    assert_eq!(json["providers"][1]["oldestMessageAgeSecs"], Value::Null);
    assert_eq!(json["alarms"][0]["reason"], "Threshold Crossed");

    // A retained stage, an expired preview.
    let mut retained = status.clone();
    retained.expires_at = None;
    retained.alarms.clear();
    let text = render::human(&retained);
    assert!(
        text.contains("expires      never (a retained stage)\n"),
        "{text}"
    );
    assert!(text.ends_with("alarms in ALARM: none\n"), "{text}");
    let mut expired = status;
    expired.expires_at = Some("2026-12-02T09:00:00Z".to_owned());
    let text = render::human(&expired);
    assert!(
        text.contains(
            "(expired 3h 0m ago: `cargo xtask reap` removes it; ephemeral, pull request #42)"
        ),
        "{text}"
    );
}

#[test]
fn dry_run_lists_the_calls() {
    let text = dry_run(&target("shop-prod"), &["stripe".to_owned()]);
    assert_eq!(
        text,
        "# in eu-west-1
sts:GetCallerIdentity
cloudformation:DescribeStacks StackName=shop-prod (status, last update, tags hookline:expires-at and hookline:pr, outputs)
sqs:GetQueueAttributes QueueUrl=<StripeQueueUrl> and QueueUrl=<StripeDlqUrl> AttributeNames=ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible
cloudwatch:GetMetricData AWS/SQS ApproximateAgeOfOldestMessage QueueName=<each queue> Stat=Maximum Period=60 (the last 15 minutes)
cloudwatch:DescribeAlarms AlarmNamePrefix=shop-prod- StateValue=ALARM
# when some are in ALARM: cloudformation:DescribeStacks (all), to leave out the alarms of stacks named shop-prod-*
"
    );
}

async fn queue(sqs: &aws_sdk_sqs::Client, name: &str) -> String {
    sqs.create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap()
}

async fn send(sqs: &aws_sdk_sqs::Client, url: &str, n: usize) {
    for i in 0..n {
        sqs.send_message()
            .queue_url(url)
            .message_body(format!("m{i}"))
            .send()
            .await
            .unwrap();
    }
}

/// A stack whose outputs name the queues, as the CDK app's do.
async fn stack_with_outputs(
    cfn: &aws_sdk_cloudformation::Client,
    name: &str,
    outputs: &[(String, String)],
    tags: &[(&str, &str)],
) {
    let outputs: serde_json::Map<String, Value> = outputs
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::json!({ "Value": v })))
        .collect();
    let template = serde_json::json!({
        "Resources": { "Handle": { "Type": "AWS::CloudFormation::WaitConditionHandle" } },
        "Outputs": outputs,
    });
    cfn.create_stack()
        .stack_name(name)
        .template_body(template.to_string())
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
                .collect(),
        ))
        .send()
        .await
        .unwrap();
}

/// An alarm on a metric of its own, set to `state` (CloudWatch's SetAlarmState).
async fn alarm(cloudwatch: &aws_sdk_cloudwatch::Client, name: &str, state: StateValue) {
    cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .alarm_description(format!("about {name}"))
        .namespace("AWS/SQS")
        .metric_name("ApproximateNumberOfMessagesVisible")
        .statistic(Statistic::Maximum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await
        .unwrap();
    cloudwatch
        .set_alarm_state()
        .alarm_name(name)
        .state_value(state)
        .state_reason("set by the test")
        .send()
        .await
        .unwrap();
}

/// Against moto: queue depths from SQS, the oldest message's age from CloudWatch metrics (moto
/// has no SQS metrics of its own: the test puts the datapoint SQS would publish), the alarms in
/// ALARM named after the stack (not those of `shop-pr-42-b`, nor those in OK), the tags and the
/// outputs from CloudFormation.
#[tokio::test(flavor = "multi_thread")]
async fn status_reads_the_stack_queues_metrics_and_alarms() {
    let moto = Moto::start();
    let env = moto::env(&moto);
    let config = sdk::connect(&env, fixtures::REGION).await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config);

    let mut outputs = Vec::new();
    let mut urls = Vec::new();
    for provider in ["stripe", "github"] {
        let names = hookline_manifest::provider_outputs(provider);
        let q = queue(&sqs, &format!("shop-pr-42-{provider}Queue")).await;
        let dlq = queue(&sqs, &format!("shop-pr-42-{provider}Dlq")).await;
        outputs.push((
            names.webhook_url,
            format!("https://abc.example/webhooks/{provider}"),
        ));
        outputs.push((names.queue_url, q.clone()));
        outputs.push((names.dlq_url, dlq.clone()));
        urls.push((q, dlq));
    }
    let (stripe_queue, stripe_dlq) = urls[0].clone();
    send(&sqs, &stripe_queue, 4).await;
    send(&sqs, &stripe_dlq, 2).await;
    // One received and not deleted: in flight.
    let received = sqs
        .receive_message()
        .queue_url(&stripe_queue)
        .max_number_of_messages(1)
        .visibility_timeout(300)
        .send()
        .await
        .unwrap();
    assert_eq!(received.messages().len(), 1);
    stack_with_outputs(
        &cfn,
        "shop-pr-42",
        &outputs,
        &[
            ("hookline:expires-at", "2026-12-03T10:00:00Z"),
            ("hookline:pr", "42"),
        ],
    )
    .await;
    stack_with_outputs(&cfn, "shop-pr-42-b", &[], &[]).await;

    let read_at = Utc::now();
    cloudwatch
        .put_metric_data()
        .namespace("AWS/SQS")
        .metric_data(
            MetricDatum::builder()
                .metric_name("ApproximateAgeOfOldestMessage")
                .dimensions(
                    aws_sdk_cloudwatch::types::Dimension::builder()
                        .name("QueueName")
                        .value(gather::queue_name(&stripe_queue))
                        .build(),
                )
                .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                    read_at.timestamp() - 120,
                ))
                .value(42.0)
                .build(),
        )
        .send()
        .await
        .unwrap();
    alarm(
        &cloudwatch,
        "shop-pr-42-stripeDeadLetterQueueAlarm1A2B-XYZ",
        StateValue::Alarm,
    )
    .await;
    alarm(
        &cloudwatch,
        "shop-pr-42-githubIngestErrorsAlarm3C4D-ABC",
        StateValue::Ok,
    )
    .await;
    alarm(
        &cloudwatch,
        "shop-pr-42-b-stripeDeadLetterQueueAlarm5E6F-DEF",
        StateValue::Alarm,
    )
    .await;
    alarm(
        &cloudwatch,
        "shop-prod-stripeDeadLetterQueueAlarm7A8B-GHI",
        StateValue::Alarm,
    )
    .await;

    let providers = [
        "stripe".to_owned(),
        "github".to_owned(),
        "billing".to_owned(),
    ];
    let status = gather(&config, &target("shop-pr-42"), "pr-42", &providers, read_at)
        .await
        .unwrap();
    assert_eq!(status.stack_status, "CREATE_COMPLETE");
    assert!(status.deployed_at.is_some());
    assert_eq!(status.expires_at.as_deref(), Some("2026-12-03T10:00:00Z"));
    assert_eq!(status.pr.as_deref(), Some("42"));
    let stripe = &status.providers[0];
    assert_eq!(
        stripe.webhook_url.as_deref(),
        Some("https://abc.example/webhooks/stripe")
    );
    assert_eq!(
        stripe.queue,
        Some(Depth {
            visible: 3,
            in_flight: 1
        })
    );
    assert_eq!(
        stripe.dlq,
        Some(Depth {
            visible: 2,
            in_flight: 0
        })
    );
    assert_eq!(stripe.oldest_age_secs, Some(42.0));
    assert_eq!(stripe.problems, Vec::<String>::new());
    let github = &status.providers[1];
    assert_eq!(
        github.queue,
        Some(Depth {
            visible: 0,
            in_flight: 0
        })
    );
    assert_eq!(github.oldest_age_secs, None, "no datapoint: no data");
    // A provider of the manifest that the stack does not have yet.
    let billing = &status.providers[2];
    assert_eq!(billing.queue, None);
    assert!(
        billing.problems[0]
            .starts_with("the stack has no output BillingWebhookUrl: deploy the stage again"),
        "{:?}",
        billing.problems
    );
    let names: Vec<&str> = status.alarms.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["shop-pr-42-stripeDeadLetterQueueAlarm1A2B-XYZ"]);
    assert_eq!(status.alarms[0].reason.as_deref(), Some("set by the test"));
    assert_eq!(
        status.alarms[0].description.as_deref(),
        Some("about shop-pr-42-stripeDeadLetterQueueAlarm1A2B-XYZ")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_undeployed_stage_is_explained() {
    let moto = Moto::start();
    let config = sdk::connect(&moto::env(&moto), fixtures::REGION).await;
    let err = gather(&config, &target("shop-pr-5"), "pr-5", &[], now())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "the stack shop-pr-5 does not exist in eu-west-1: is the stage deployed (`cargo xtask deploy --stage pr-5`)?"
    );
}
