//! Reading a stage's state: CloudFormation (the stack), SQS (the queues), CloudWatch (the age
//! of the oldest message, the alarms).

use anyhow::{Result, bail};
use aws_config::SdkConfig;
use aws_sdk_cloudwatch::primitives::DateTime as AwsDateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricStat, ScanBy, StateValue,
};
use chrono::{DateTime, Utc};
use hookline_manifest::stage::{TAG_EXPIRES_AT, TAG_PR};

use super::{Alarm, Depth, ProviderStatus, Status};
use crate::aws::stack;
use crate::local::dlq::list;
use crate::stage::StageStack;

/// How far back `status` looks for the age of the oldest message. SQS sends its metrics to
/// CloudWatch every minute for an active queue (Amazon SQS Developer Guide, "Available
/// CloudWatch metrics for Amazon SQS"), so an active queue has a datapoint in it.
pub const OLDEST_WINDOW_MINUTES: i64 = 15;

/// `ApproximateAgeOfOldestMessage` is a CloudWatch metric of the `AWS/SQS` namespace with the
/// dimension `QueueName`, not a queue attribute (the same guide).
const SQS_NAMESPACE: &str = "AWS/SQS";
const OLDEST_METRIC: &str = "ApproximateAgeOfOldestMessage";

/// Reads everything `status` shows. A stack that does not exist is an error; a missing output
/// or a refused call is a problem of its provider, shown on the screen.
pub async fn gather(
    config: &SdkConfig,
    target: &StageStack,
    stage: &str,
    providers: &[String],
    now: DateTime<Utc>,
) -> Result<Status> {
    let cfn = aws_sdk_cloudformation::Client::new(config);
    let Some(info) = stack::describe(&cfn, &target.stack).await? else {
        bail!(
            "the stack {} does not exist in {}: is the stage deployed (`cargo xtask deploy --stage {stage}`)?",
            target.stack,
            target.region
        );
    };
    let sqs = aws_sdk_sqs::Client::new(config);
    let mut found = Vec::new();
    let mut queue_names = Vec::new();
    for name in providers {
        let outputs = hookline_manifest::provider_outputs(name);
        let mut problems = Vec::new();
        let mut output = |key: &str| {
            let value = info.outputs.get(key).cloned();
            if value.is_none() {
                problems.push(format!(
                    "the stack has no output {key}: deploy the stage again (`cargo xtask deploy --stage {stage}`)"
                ));
            }
            value
        };
        let webhook_url = output(outputs.webhook_url.as_str());
        let queue_url = output(outputs.queue_url.as_str());
        let dlq_url = output(outputs.dlq_url.as_str());
        let queue = depth(&sqs, queue_url.as_deref(), "queue", &mut problems).await;
        let dlq = depth(&sqs, dlq_url.as_deref(), "dead-letter queue", &mut problems).await;
        queue_names.push(queue_url.as_deref().map(queue_name));
        found.push(ProviderStatus {
            name: name.clone(),
            webhook_url,
            queue,
            dlq,
            oldest_age_secs: None,
            problems,
        });
    }
    let cloudwatch = aws_sdk_cloudwatch::Client::new(config);
    match oldest_ages(&cloudwatch, &queue_names, now).await {
        Ok(ages) => {
            for (provider, age) in found.iter_mut().zip(ages) {
                provider.oldest_age_secs = age;
            }
        }
        Err(err) => {
            for provider in &mut found {
                provider.problems.push(format!(
                    "reading the age of the oldest message (CloudWatch): {err:#}"
                ));
            }
        }
    }
    let alarms = alarms(&cloudwatch, &cfn, &target.stack).await?;
    Ok(Status {
        stack: info.name.clone(),
        region: target.region.clone(),
        stack_status: info.status.clone(),
        reason: info.reason.clone(),
        deployed_at: info.deployed_at,
        expires_at: info.tags.get(TAG_EXPIRES_AT).cloned(),
        pr: info.tags.get(TAG_PR).cloned(),
        providers: found,
        alarms,
        now,
    })
}

/// A queue's depth; a refused call is a problem of its provider.
async fn depth(
    sqs: &aws_sdk_sqs::Client,
    url: Option<&str>,
    what: &str,
    problems: &mut Vec<String>,
) -> Option<Depth> {
    match list::depth(sqs, url?).await {
        Ok((visible, in_flight)) => Some(Depth { visible, in_flight }),
        Err(err) => {
            problems.push(format!("reading the {what}: {err:#}"));
            None
        }
    }
}

/// A queue's name: the last segment of its URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`).
pub fn queue_name(url: &str) -> String {
    url.rsplit('/').next().unwrap_or(url).to_owned()
}

/// The latest `ApproximateAgeOfOldestMessage` (Maximum over a minute) of each queue in the
/// window, with one `GetMetricData` (all pages); `None` where there is no datapoint.
async fn oldest_ages(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    queues: &[Option<String>],
    now: DateTime<Utc>,
) -> Result<Vec<Option<f64>>> {
    let mut ages = vec![None; queues.len()];
    let queries: Vec<MetricDataQuery> = queues
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let metric = Metric::builder()
                .namespace(SQS_NAMESPACE)
                .metric_name(OLDEST_METRIC)
                .dimensions(
                    Dimension::builder()
                        .name("QueueName")
                        .value(name.as_ref()?)
                        .build(),
                )
                .build();
            Some(
                MetricDataQuery::builder()
                    .id(format!("q{i}"))
                    .metric_stat(
                        MetricStat::builder()
                            .metric(metric)
                            .period(60)
                            .stat("Maximum")
                            .build(),
                    )
                    .return_data(true)
                    .build(),
            )
        })
        .collect();
    if queries.is_empty() {
        return Ok(ages);
    }
    let start = now - chrono::Duration::minutes(OLDEST_WINDOW_MINUTES);
    let mut pages = cloudwatch
        .get_metric_data()
        .set_metric_data_queries(Some(queries))
        .start_time(AwsDateTime::from_secs(start.timestamp()))
        .end_time(AwsDateTime::from_secs(now.timestamp()))
        .scan_by(ScanBy::TimestampDescending)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|err| {
            anyhow::anyhow!("{}", aws_sdk_cloudwatch::error::DisplayErrorContext(&err))
        })?;
        for result in page.metric_data_results() {
            let index = result
                .id()
                .and_then(|id| id.strip_prefix('q'))
                .and_then(|i| i.parse::<usize>().ok());
            // Newest first (TimestampDescending): the first value of the first page that has one.
            if let (Some(slot), Some(value)) =
                (index.and_then(|i| ages.get_mut(i)), result.values().first())
            {
                slot.get_or_insert(*value);
            }
        }
    }
    Ok(ages)
}

/// The stack's alarms in ALARM. CloudFormation names an alarm that has no `AlarmName`
/// `<stack>-<logical id>-<random>` (the CDK app gives none), so they are those named
/// `<stack>-...`, less the alarms of the stacks named `<stack>-...` themselves (stage `prod`
/// and stage `prod-eu`).
async fn alarms(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> Result<Vec<Alarm>> {
    let prefix = format!("{stack}-");
    let mut found = Vec::new();
    let mut pages = cloudwatch
        .describe_alarms()
        .alarm_name_prefix(&prefix)
        .state_value(StateValue::Alarm)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|err| {
            anyhow::anyhow!(
                "reading the alarms of {stack} (CloudWatch DescribeAlarms): {}",
                aws_sdk_cloudwatch::error::DisplayErrorContext(&err)
            )
        })?;
        // The state is checked here too: moto ignores StateValue when AlarmNamePrefix is given.
        found.extend(
            page.metric_alarms()
                .iter()
                .filter(|a| a.state_value() == Some(&StateValue::Alarm))
                .map(|a| Alarm {
                    name: a.alarm_name().unwrap_or_default().to_owned(),
                    description: a.alarm_description().map(str::to_owned),
                    reason: a.state_reason().map(str::to_owned),
                    since: a
                        .state_updated_timestamp()
                        .and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos())),
                }),
        );
    }
    if found.is_empty() {
        return Ok(found);
    }
    let others: Vec<String> = stack::list(cfn)
        .await?
        .into_iter()
        .filter(|s| s.name.starts_with(&prefix))
        .map(|s| format!("{}-", s.name))
        .collect();
    found.retain(|alarm| !others.iter().any(|other| alarm.name.starts_with(other)));
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}
