//! `logs`: `--since` and the lines from plain data; the log groups, the reading and the
//! following against moto (CloudFormation and CloudWatch Logs over their real protocols).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::aws::env::fixtures;
use crate::aws::moto::{self, Moto};

use super::fixtures::{put, stack_with_log_groups};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-02T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn since_takes_a_duration_or_a_time_and_refuses_the_rest() {
    let at = |text: &str| parse_since(text, now()).unwrap().to_rfc3339();
    assert_eq!(at("30s"), "2026-12-02T11:59:30+00:00");
    assert_eq!(at("15m"), "2026-12-02T11:45:00+00:00");
    assert_eq!(at("2h"), "2026-12-02T10:00:00+00:00");
    assert_eq!(at("7d"), "2026-11-25T12:00:00+00:00");
    assert_eq!(at("2026-12-02T10:30:00Z"), "2026-12-02T10:30:00+00:00");
    for bad in [
        "",
        "15",
        "m",
        "15x",
        "-5m",
        "1.5h",
        "15 m",
        "yesterday",
        "5é",
        "é",
    ] {
        let err = parse_since(bad, now()).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "--since `{bad}` is neither a duration (30s, 15m, 2h, 7d) nor an RFC 3339 time (2026-12-02T10:00:00Z)"
            )
        );
    }
    assert_eq!(
        parse_since("400d", now()).unwrap_err().to_string(),
        "--since `400d` is too far back: at most a year (366d)"
    );
    assert_eq!(
        parse_since("99999999999999999999s", now())
            .unwrap_err()
            .to_string(),
        "--since `99999999999999999999s` is too far back: at most a year (366d)"
    );
    assert_eq!(
        parse_since("2027-01-01T00:00:00Z", now())
            .unwrap_err()
            .to_string(),
        "--since `2027-01-01T00:00:00Z` is in the future"
    );
}

/// Lines in the shape the functions write them (tracing-subscriber's JSON format).
fn rejected(delivery: &str) -> String {
    json!({
        "timestamp": "2026-12-02T11:58:00.123456Z",
        "level": "WARN",
        "fields": {
            "message": "webhook rejected", "provider": "stripe", "status": 401,
            "code": "invalid_signature", "reason": "the signature does not match",
            "delivery_id": delivery, "request_id": "r-1", "latency_ms": 0.4,
        },
    })
    .to_string()
}

fn queued(delivery: &str, message_id: &str) -> String {
    json!({
        "timestamp": "2026-12-02T11:58:01Z",
        "level": "INFO",
        "fields": {
            "message": "webhook queued", "provider": "stripe", "status": 200,
            "delivery_id": delivery, "request_id": "r-2", "message_id": message_id,
            "envelope_id": "e-1", "latency_ms": 12.5,
        },
    })
    .to_string()
}

fn event(function: Function, ms: i64, message: &str) -> Event {
    Event {
        id: format!("{ms}"),
        timestamp_ms: ms,
        function,
        message: message.to_owned(),
    }
}

#[test]
fn lines_show_time_function_level_message_and_the_fields_that_matter() {
    let ms = now().timestamp_millis();
    let line = event(Function::Ingest, ms + 5, &rejected("evt_1"));
    assert_eq!(
        line::render(&line, None, false).unwrap(),
        "2026-12-02T12:00:00.005Z  ingest   WARN   webhook rejected  status=401  code=invalid_signature  delivery_id=evt_1  reason=the signature does not match"
    );
    let text = event(
        Function::Process,
        ms,
        "START RequestId: 8f5 Version: $LATEST",
    );
    assert_eq!(
        line::render(&text, None, false).unwrap(),
        "2026-12-02T12:00:00.000Z  process  -      START RequestId: 8f5 Version: $LATEST"
    );
    // --status keeps only JSON lines with that status; --json prints them as written.
    assert_eq!(line::render(&text, Some(401), false), None);
    assert_eq!(
        line::render(
            &event(Function::Ingest, ms, &queued("evt_2", "m-2")),
            Some(401),
            true
        ),
        None
    );
    assert_eq!(
        line::render(&line, Some(401), true).unwrap(),
        rejected("evt_1")
    );
    assert_eq!(status_pattern(401), "{ $.fields.status = 401 }");
}

#[test]
fn dry_run_names_the_log_groups_and_the_calls() {
    let target = StageStack {
        stack: "shop-prod".to_owned(),
        region: "eu-west-1".to_owned(),
    };
    let text = dry_run(
        &target,
        "stripe",
        &functions(None),
        Some(status_pattern(401).as_str()),
        true,
    );
    assert_eq!(
        text,
        "# in eu-west-1
sts:GetCallerIdentity
cloudformation:GetTemplate StackName=shop-prod (the log groups with the CDK paths shop-prod/stripe/IngestLogs/Resource and shop-prod/stripe/ProcessorLogs/Resource)
cloudformation:ListStackResources StackName=shop-prod (their names)
logs:FilterLogEvents LogGroupName=<each> StartTime=<--since> FilterPattern='{ $.fields.status = 401 }' (all pages)
# --follow: the same again every 2 s from the newest event seen less 120 s (late events), each event printed once, until Ctrl-C
"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_groups_are_found_by_their_cdk_path() {
    let moto = Moto::start();
    let config = sdk::connect(&moto::env(&moto), fixtures::REGION).await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let names =
        stack_with_log_groups(&cfn, "shop-pr-3", &["stripe", "billing-eu"], json!({})).await;
    // CloudFormation's names: <stack>-<logical id>-<random>.
    assert!(
        names[0].0.starts_with("shop-pr-3-stripeIngestLogs"),
        "{names:?}"
    );
    assert!(
        names[1].1.starts_with("shop-pr-3-billingeuProcessorLogs"),
        "{names:?}"
    );
    let err = groups::find(&cfn, "shop-pr-3", "pr-3", "github", &[Function::Process])
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "the stack shop-pr-3 has no log group for github's process function (no resource with the CDK path shop-pr-3/github/ProcessorLogs/Resource): is github deployed on this stage (`cargo xtask deploy --stage pr-3`)?"
    );
    let err = groups::find(&cfn, "shop-pr-4", "pr-4", "stripe", &[Function::Ingest])
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "the stack shop-pr-4 does not exist: is the stage deployed (`cargo xtask deploy --stage pr-4`)?"
    );
}

/// Against moto: both functions' events from `--since` on, merged in time order, over pages of
/// two events; then, following, the new ones once each although every poll reads the overlap
/// again.
#[tokio::test(flavor = "multi_thread")]
async fn events_are_read_in_order_across_pages_and_followed_once_each() {
    let moto = Moto::start();
    let config = sdk::connect(&moto::env(&moto), fixtures::REGION).await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let names = stack_with_log_groups(&cfn, "shop-pr-3", &["stripe"], json!({})).await;
    let (ingest, process) = names[0].clone();
    let base = Utc::now().timestamp_millis() - 60_000;
    put(
        &logs,
        &ingest,
        "a",
        &[(base - 600_000, rejected("evt_old"))],
    )
    .await;
    put(
        &logs,
        &ingest,
        "b",
        &[
            (base, rejected("evt_1")),
            (base + 2, queued("evt_2", "m-2")),
            (base + 4, rejected("evt_3")),
        ],
    )
    .await;
    put(
        &logs,
        &process,
        "c",
        &[
            (base + 1, "START RequestId: 1".to_owned()),
            (base + 3, "END RequestId: 1".to_owned()),
        ],
    )
    .await;
    let query = fetch::Query {
        groups: vec![
            (Function::Ingest, ingest.clone()),
            (Function::Process, process.clone()),
        ],
        start_ms: base - 1000,
        pattern: None,
        page_limit: Some(2),
    };
    let read = fetch::all(&logs, &query).await.unwrap();
    let order: Vec<(i64, Function)> = read
        .iter()
        .map(|e| (e.timestamp_ms - base, e.function))
        .collect();
    assert_eq!(
        order,
        [
            (0, Function::Ingest),
            (1, Function::Process),
            (2, Function::Ingest),
            (3, Function::Process),
            (4, Function::Ingest),
        ]
    );

    let printed: Arc<Mutex<Vec<Event>>> = Arc::default();
    let stop = Arc::new(tokio::sync::Notify::new());
    let following = {
        let (logs, query, printed, stop) =
            (logs.clone(), query.clone(), printed.clone(), stop.clone());
        tokio::spawn(async move {
            let options = FollowOptions {
                poll: Duration::from_millis(20),
                overlap: Duration::from_secs(120),
            };
            let mut out = |e: &Event| printed.lock().unwrap().push(e.clone());
            fetch::follow(&logs, query, options, stop.notified(), &mut out).await
        })
    };
    let wait_for = |n: usize| {
        let printed = printed.clone();
        async move {
            // Waits for the follower, however slow the machine; the assertions are on content.
            for _ in 0..3000 {
                if printed.lock().unwrap().len() >= n {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    wait_for(5).await;
    // Later, and one older than the newest seen (a late event): both printed, once.
    put(&logs, &ingest, "b", &[(base + 10, queued("evt_4", "m-4"))]).await;
    put(
        &logs,
        &process,
        "d",
        &[(base + 3, "REPORT RequestId: 1".to_owned())],
    )
    .await;
    wait_for(7).await;
    // Several more polls over the same overlap before stopping: still nothing twice.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.notify_one();
    following.await.unwrap().unwrap();
    let printed = printed.lock().unwrap().clone();
    let mut lines: Vec<String> = printed.iter().map(|e| label(e, base)).collect();
    // The last two came in one poll or two: in time order, or as they came.
    lines[5..].sort();
    assert_eq!(
        lines,
        [
            "0 ingest evt_1",
            "1 process START",
            "2 ingest evt_2",
            "3 process END",
            "4 ingest evt_3",
            "10 ingest evt_4",
            "3 process REPORT",
        ]
    );
}

/// `<ms after base> <function> <delivery id, or the first word of a text line>`.
fn label(event: &Event, base: i64) -> String {
    let what = line::fields(&event.message)
        .and_then(|f| {
            f.get("delivery_id")
                .and_then(|d| d.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| {
            event
                .message
                .split(' ')
                .next()
                .unwrap_or_default()
                .to_owned()
        });
    format!(
        "{} {} {what}",
        event.timestamp_ms - base,
        event.function.as_str()
    )
}
