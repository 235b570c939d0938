//! Test fixtures of the commands that read logs (`logs`, `send --stage --wait`): a stage's log
//! groups in moto, as the CDK app makes them, and lines written to them as Lambda writes them.

use serde_json::json;

use super::{Function, functions, groups};

/// A stack with the log groups of `providers` as the CDK app makes them: no names, the CDK path
/// in their metadata. Returns the log group names (ingest, process) per provider.
pub async fn stack_with_log_groups(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
    providers: &[&str],
    extra: serde_json::Value,
) -> Vec<(String, String)> {
    let mut resources = serde_json::Map::new();
    for provider in providers {
        for (function, id) in [
            (Function::Ingest, "IngestLogs"),
            (Function::Process, "ProcessorLogs"),
        ] {
            resources.insert(
                format!("{}{id}0A1B2C3D", provider.replace('-', "")),
                json!({
                    "Type": "AWS::Logs::LogGroup",
                    "Properties": { "RetentionInDays": 7 },
                    "Metadata": { "aws:cdk:path": groups::cdk_path(stack, provider, function) },
                }),
            );
        }
    }
    let mut template = json!({ "Resources": resources });
    if let Some(outputs) = extra.get("Outputs") {
        template["Outputs"] = outputs.clone();
    }
    cfn.create_stack()
        .stack_name(stack)
        .template_body(template.to_string())
        .send()
        .await
        .unwrap();
    let mut names = Vec::new();
    for provider in providers {
        let found = groups::find(cfn, stack, "test", provider, &functions(None))
            .await
            .unwrap();
        names.push((found[0].1.clone(), found[1].1.clone()));
    }
    names
}

/// Writes lines to a log group (a stream of its own), as Lambda would.
pub async fn put(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    stream: &str,
    lines: &[(i64, String)],
) {
    try_put(logs, group, stream, lines).await.unwrap();
}

/// [`put`], returning moto's refusal instead of failing the test.
pub async fn try_put(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    stream: &str,
    lines: &[(i64, String)],
) -> Result<(), String> {
    let _ = logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await;
    let events = lines
        .iter()
        .map(|(ms, message)| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(*ms)
                .message(message)
                .build()
                .unwrap()
        })
        .collect();
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| aws_sdk_cloudwatchlogs::error::DisplayErrorContext(e).to_string())
}
