//! The ingest corpus: every case of `tests/fixtures/bad/ingest.toml` against every provider of
//! `tests/fixtures/bad/hookline.toml`, through one local stack (gateway → ingest function →
//! SQS → recorder processor). A case starts from a valid signed delivery of the provider's
//! sample event and changes one thing; the case file says what each provider must answer.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hookline_e2e::{depth, harness, sqs};
use serde_json::Value;

use crate::schemes::Scheme;
use crate::wire::{self, Answer};

mod corpus;
mod request;
use corpus::{ACCEPTED, Case, Expect, fixtures, load, sample};
use request::build;

/// A provider of the running stack, as the runner needs it.
struct Target {
    name: String,
    scheme: Scheme,
    secret: String,
    authority: String,
    path: String,
    queue_url: String,
    dlq_url: String,
    limit: i64,
    /// Whether bodies too large for a queue message go to the body bucket.
    body_bucket: bool,
    tolerance: i64,
    sample_body: Vec<u8>,
    sample_headers: Vec<(String, Vec<u8>)>,
}

/// A request ready to send.
struct Built {
    request: Vec<u8>,
    body: Vec<u8>,
    /// The signed time in seconds, when it was evaluated (not a literal).
    seconds: Option<i64>,
}

struct Shared {
    cases: Vec<Case>,
    recorder: PathBuf,
    sqs_endpoint: String,
    head_limit: i64,
}

/// Runs the whole corpus; panics with every failure, each naming its case and provider.
pub async fn run() {
    let started = Instant::now();
    let manifest = std::fs::read_to_string(fixtures().join("hookline.toml")).unwrap();
    let h = harness(&manifest);
    let names: Vec<String> = h
        .manifest
        .providers
        .iter()
        .map(|p| p.name.clone())
        .collect();
    let corpus = load(&names);
    let mut config = h.config();
    let logs = hookline_local::logs::LogSink::memory();
    let capture_logs = std::env::var_os("HOOKLINE_TEST_LOGS").is_none();
    if capture_logs {
        config.logs = logs.clone();
    }
    // The HTTP API's quota on the request line and header values (the gateway answers 431).
    let head_limit = hookline_manifest::limits::HTTP_API_MAX_REQUEST_LINE_AND_HEADERS_BYTES as i64;
    let stack = hookline_local::DevStack::start(config).await.unwrap();
    let corpus_started = Instant::now();

    let mut targets = Vec::new();
    for (provider, info) in h.manifest.providers.iter().zip(stack.providers()) {
        assert_eq!(provider.name, info.name);
        let rest = info.webhook_url.strip_prefix("http://").unwrap();
        let (authority, path) = rest.split_once('/').unwrap();
        let (sample_body, sample_headers) = sample(&provider.template, &corpus.samples[&info.name]);
        targets.push(Arc::new(Target {
            name: info.name.clone(),
            scheme: Scheme::new(provider, &info.secret, &info.signing_key),
            secret: info.secret.clone(),
            authority: authority.to_owned(),
            path: format!("/{path}"),
            queue_url: info.queue_url.clone(),
            dlq_url: info.dlq_url.clone(),
            limit: provider.ingest.max_body_bytes as i64,
            body_bucket: provider.uses_body_bucket(),
            tolerance: provider.ingest.timestamp_tolerance_secs as i64,
            sample_body,
            sample_headers,
        }));
    }
    let shared = Arc::new(Shared {
        cases: corpus.case,
        recorder: h.recorder.clone(),
        sqs_endpoint: stack.sqs_endpoint(),
        head_limit,
    });

    for case in &shared.cases {
        assert!(
            targets
                .iter()
                .any(|t| case.skipped(&t.name, &t.scheme, t.body_bucket).is_none()),
            "{:?} applies to no provider",
            case.name
        );
    }

    // Providers run side by side, each through its cases in order.
    let tasks: Vec<_> = targets
        .iter()
        .map(|t| tokio::spawn(run_provider(shared.clone(), t.clone())))
        .collect();
    let mut failures = Vec::new();
    let (mut requests, mut accepted, mut not_applicable) = (0, 0, 0);
    let mut processed = Vec::new();
    for task in tasks {
        let report = task.await.unwrap();
        failures.extend(report.failures);
        requests += report.requests;
        accepted += report.accepted;
        not_applicable += report.not_applicable;
        processed.push(report.processed);
    }

    // Afterwards: nothing left in any queue or DLQ, and the processors got exactly what was
    // accepted.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let client = sqs(&shared.sqs_endpoint).await;
    for (t, processed) in targets.iter().zip(processed) {
        let got = recorded(&shared.recorder, &t.name).len();
        if got != processed {
            failures.push(format!(
                "[{}] after the corpus: the processor got {got} deliveries, {processed} expected",
                t.name
            ));
        }
        for (what, url) in [("queue", &t.queue_url), ("DLQ", &t.dlq_url)] {
            let n = depth(&client, url).await;
            if n != 0 {
                failures.push(format!(
                    "[{}] after the corpus: {n} messages in its {what}",
                    t.name
                ));
            }
        }
    }
    stack.shutdown().await;
    if capture_logs {
        let lines = logs.lines();
        for t in &targets {
            if lines.iter().any(|l| l.contains(&t.secret)) {
                failures.push(format!(
                    "[{}] a log line carries its signing secret",
                    t.name
                ));
            }
        }
        for line in lines.iter().filter(|l| l.contains("panicked")) {
            failures.push(format!("a function panicked: {line}"));
        }
    }
    eprintln!(
        "ingest corpus: {} cases × {} providers ({not_applicable} not applicable): {requests} requests, {accepted} accepted, in {:.1} s ({:.1} s with the build and the stack's start)",
        shared.cases.len(),
        targets.len(),
        corpus_started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} failures in the ingest corpus:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[derive(Default)]
struct Report {
    failures: Vec<String>,
    requests: usize,
    accepted: usize,
    /// Cases that do not apply to the provider.
    not_applicable: usize,
    /// Deliveries the recorder should hold for the provider.
    processed: usize,
}

/// The cases of one provider, in order; replays are sent last, once their delivery is stale.
/// `BAD_INPUT_CASE` and `BAD_INPUT_PROVIDER` (substrings) run only the matching ones.
async fn run_provider(shared: Arc<Shared>, t: Arc<Target>) -> Report {
    let client = sqs(&shared.sqs_endpoint).await;
    let mut report = Report::default();
    let mut deferred = Vec::new();
    let only = |var: &str, name: &str| std::env::var(var).is_ok_and(|only| !name.contains(&only));
    if only("BAD_INPUT_PROVIDER", &t.name) {
        return report;
    }
    for case in &shared.cases {
        if case.skipped(&t.name, &t.scheme, t.body_bucket).is_some() {
            report.not_applicable += 1;
            continue;
        }
        if only("BAD_INPUT_CASE", &case.name) {
            continue;
        }
        let expect = case.expect_for.get(&t.name).unwrap_or(&case.expect);
        let now = chrono::Utc::now().timestamp();
        let built = match build(case, &t, now, shared.head_limit) {
            Ok(built) => built,
            Err(e) => {
                report.failures.push(format!(
                    "[{}] {}: the corpus is wrong: {e}",
                    t.name, case.name
                ));
                continue;
            }
        };
        if case.replay {
            let label = format!("{} (first delivery)", case.name);
            step(&shared, &t, &client, &label, &built, &ACCEPTED, &mut report).await;
            let due = match built.seconds {
                Some(seconds) if t.scheme.signs_timestamp() => seconds + t.tolerance + 1,
                _ => i64::MIN,
            };
            deferred.push((case, built, due, expect));
            continue;
        }
        step(
            &shared,
            &t,
            &client,
            &case.name,
            &built,
            expect,
            &mut report,
        )
        .await;
    }
    for (case, built, due, expect) in deferred {
        while chrono::Utc::now().timestamp() <= due {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let label = format!("{} (replayed)", case.name);
        step(&shared, &t, &client, &label, &built, expect, &mut report).await;
    }
    report
}

/// Sends one request and checks the answer and the queue.
async fn step(
    shared: &Shared,
    t: &Target,
    client: &aws_sdk_sqs::Client,
    case: &str,
    built: &Built,
    expect: &Expect,
    report: &mut Report,
) {
    let label = format!("[{}] {case}", t.name);
    let mut attempt = 1;
    let answer = loop {
        report.requests += 1;
        let answer = match wire::exchange(&t.authority, &built.request).await {
            Ok(answer) => answer,
            Err(e) => {
                report.failures.push(format!("{label}: {e}"));
                return;
            }
        };
        // A 503 is the one answer a provider retries, and an ambiguous one: the queue write may
        // have timed out after it happened (a loaded machine, a debug build). Where the case
        // expects the delivery to be accepted, retry as a provider would, once whatever the
        // failed attempt queued has been processed.
        if answer.status == 503 && expect.status == 200 && attempt < 5 {
            eprintln!(
                "{label}: 503 on attempt {attempt}, retried: {}",
                answer.shown()
            );
            tokio::time::sleep(Duration::from_secs(1)).await;
            if !drained(t, client).await {
                report
                    .failures
                    .push(format!("{label}: the queue did not drain after a 503"));
            }
            let processed = recorded(&shared.recorder, &t.name).len();
            if processed != report.processed {
                eprintln!(
                    "{label}: the 503'd attempt was queued all the same ({} times)",
                    processed - report.processed
                );
            }
            report.processed = processed;
            attempt += 1;
            continue;
        }
        break answer;
    };
    let mut problems = check_answer(&answer, expect, t);
    if is_received(&answer, &t.scheme) {
        // Queued (rightly or not): wait until it is processed and gone, so that the next case
        // starts from an empty queue, and check that the processor got the bytes sent.
        report.accepted += 1;
        if !drained(t, client).await {
            problems.push("the accepted delivery was not processed within 30 s".into());
        }
        let lines = recorded(&shared.recorder, &t.name);
        let new = lines.get(report.processed..).unwrap_or_default();
        if new.is_empty() {
            problems.push("the processor did not get the accepted delivery".into());
        } else if new.iter().any(|line| recorded_body(line) != built.body) {
            problems.push("the processor did not get the bytes that were sent".into());
        } else if new.len() > 1 {
            // At least once: a queue write that timed out after it happened, and was retried.
            eprintln!(
                "{label}: processed {} times (a retried queue write)",
                new.len()
            );
        }
        report.processed = lines.len();
    } else {
        let queued = depth(client, &t.queue_url).await;
        let processed = recorded(&shared.recorder, &t.name).len();
        if queued != 0 || processed != report.processed {
            problems.push(format!(
                "the queue changed: {queued} messages queued, {processed} processed in all (expected 0 and {})",
                report.processed
            ));
            report.processed = processed;
        }
    }
    if !problems.is_empty() {
        report
            .failures
            .push(format!("{label}: {}", problems.join("; ")));
    }
}

/// Waits (30 s at most) until the provider's queue is empty: everything in it processed (the
/// recorder writes before the message is deleted).
async fn drained(t: &Target, client: &aws_sdk_sqs::Client) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if depth(client, &t.queue_url).await == 0 {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A `received` answer with a message id, or the provider's own acknowledgement (Slack's empty
/// 200 for a form, Twilio's TwiML, Discord's deferred response; the corpus sends no handshake
/// that is answered without queueing).
fn is_received(answer: &Answer, scheme: &Scheme) -> bool {
    answer.status == 200
        && (scheme.acknowledges(&answer.body)
            || serde_json::from_slice::<Value>(&answer.body)
                .is_ok_and(|v| v["status"] == "received" && v["message_id"].is_string()))
}

fn check_answer(answer: &Answer, expect: &Expect, t: &Target) -> Vec<String> {
    let mut problems = Vec::new();
    let secret = &t.secret;
    if answer.status != expect.status {
        problems.push(format!(
            "status {} instead of {}",
            answer.status, expect.status
        ));
    }
    let secret = secret.as_bytes();
    if answer.head.contains(std::str::from_utf8(secret).unwrap())
        || answer.body.windows(secret.len()).any(|w| w == secret)
    {
        problems.push("the answer carries the signing secret".into());
    }
    let json: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    match (expect.status, &expect.error, &expect.gateway) {
        (200, _, _) if !is_received(answer, &t.scheme) => {
            problems.push(
                "not a `received` answer with a message id (or the provider's own acknowledgement)"
                    .into(),
            );
        }
        (200, _, _) => {}
        (_, Some(code), _) => {
            if json["error"] != code.as_str() {
                problems.push(format!("error {} instead of {code:?}", json["error"]));
            }
            if !json["message"].is_string() {
                problems.push("no message in the error body".into());
            }
        }
        (_, None, Some(message)) => {
            if json["message"] != message.as_str() || json.get("error").is_some() {
                problems.push(format!("not the gateway's {{\"message\": {message:?}}}"));
            }
        }
        (_, None, None) => {
            if !answer.body.is_empty() {
                problems.push("a body, where the HTTP server answers with none".into());
            }
        }
    }
    if !problems.is_empty() {
        problems.push(format!("answer: {}", answer.shown()));
    }
    problems
}

/// The recorder's lines for a provider.
fn recorded(dir: &std::path::Path, provider: &str) -> Vec<String> {
    std::fs::read_to_string(dir.join(format!("{provider}.jsonl")))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn recorded_body(line: &str) -> Vec<u8> {
    let value: Value = serde_json::from_str(line).unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(value["body"].as_str().unwrap())
        .unwrap()
}
