//! The SQS corpus: every case of `tests/fixtures/bad/sqs.toml` as raw bytes to the stack's SQS
//! endpoint. Each answer must be the SQS JSON protocol's error shape (or the success the case
//! names), and no queue may change: not the scratch queue the cases aim at, not its
//! attributes, not the list of queues.

use std::collections::BTreeMap;
use std::time::Instant;

use aws_sdk_sqs::types::QueueAttributeName;
use hookline_e2e::{depth, harness, root, sqs};
use serde::Deserialize;
use serde_json::Value;

use super::wire::{self, Answer};

const JSON_1_0: &str = "application/x-amz-json-1.0";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Corpus {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    /// `X-Amz-Target`; absent: the request has none.
    #[serde(default)]
    target: Option<String>,
    /// `Content-Type`, `application/x-amz-json-1.0` when absent; `""`: no such header.
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    body: String,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    status: u16,
    /// The error shape's name (`__type` is `com.amazonaws.sqs#<type>`).
    #[serde(default, rename = "type")]
    error_type: Option<String>,
    /// The query protocol's code in `x-amzn-query-error`, when it is not `type`.
    #[serde(default)]
    query: Option<String>,
    /// Text the error message contains.
    #[serde(default)]
    message: Option<String>,
    /// Messages the request adds to the scratch queue.
    #[serde(default)]
    queued: u64,
}

/// Runs the whole corpus; panics with every failure, each naming its case.
pub async fn run() {
    let started = Instant::now();
    let path = root().join("tests/fixtures/bad/sqs.toml");
    let corpus: Corpus = toml::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let manifest =
        std::fs::read_to_string(root().join("tests/fixtures/bad/hookline.toml")).unwrap();
    let h = harness(&manifest);
    let stack = h.start().await;
    let corpus_started = Instant::now();
    let endpoint = stack.sqs_endpoint();
    let authority = endpoint.strip_prefix("http://").unwrap().to_owned();
    let client = sqs(&endpoint).await;
    let scratch = client
        .create_queue()
        .queue_name("bad-input-scratch")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queues = list_queues(&client).await;
    let attributes = settings(&client, &scratch).await;
    let vars = |name: &str| match name {
        "queue" => Some(scratch.clone()),
        "missing_queue" => Some(format!("{endpoint}/000000000000/no-such-queue")),
        _ => None,
    };

    let mut failures = Vec::new();
    let mut queued = 0;
    for case in &corpus.case {
        let label = &case.name;
        let body = match wire::expand(&case.body, &vars) {
            Ok(body) => body,
            Err(e) => {
                failures.push(format!("{label}: the corpus is wrong: {e}"));
                continue;
            }
        };
        let mut head = format!(
            "POST / HTTP/1.1\r\nhost: {authority}\r\ncontent-length: {}\r\nconnection: close\r\n",
            body.len()
        )
        .into_bytes();
        if let Some(target) = &case.target {
            head.extend_from_slice(b"x-amz-target: ");
            head.extend_from_slice(&wire::expand(target, &vars).unwrap());
            head.extend_from_slice(b"\r\n");
        }
        match case.content_type.as_deref() {
            Some("") => {}
            other => head.extend_from_slice(
                format!("content-type: {}\r\n", other.unwrap_or(JSON_1_0)).as_bytes(),
            ),
        }
        head.extend_from_slice(b"\r\n");
        let request = [head, body].concat();
        let mut problems = match wire::exchange(&authority, &request).await {
            Ok(answer) => check(&answer, &case.expect),
            Err(e) => vec![e],
        };
        queued += case.expect.queued;
        let now_queued = depth(&client, &scratch).await;
        if now_queued != queued {
            problems.push(format!(
                "the scratch queue holds {now_queued} messages, {queued} expected"
            ));
        }
        if list_queues(&client).await != queues {
            problems.push("the list of queues changed".into());
        }
        if settings(&client, &scratch).await != attributes {
            problems.push("the scratch queue's attributes changed".into());
        }
        if !problems.is_empty() {
            failures.push(format!("{label}: {}", problems.join("; ")));
        }
    }
    for info in stack.providers() {
        for url in [&info.queue_url, &info.dlq_url] {
            let n = depth(&client, url).await;
            if n != 0 {
                failures.push(format!("after the corpus: {n} messages in {url}"));
            }
        }
    }
    stack.shutdown().await;
    eprintln!(
        "sqs corpus: {} cases in {:.1} s ({:.1} s with the build and the stack's start)",
        corpus.case.len(),
        corpus_started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} failures in the SQS corpus:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn check(answer: &Answer, expect: &Expect) -> Vec<String> {
    let mut problems = Vec::new();
    if answer.status != expect.status {
        problems.push(format!(
            "status {} instead of {}",
            answer.status, expect.status
        ));
    }
    if answer.header("content-type") != Some(JSON_1_0) {
        problems.push(format!("content type {:?}", answer.header("content-type")));
    }
    let json: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    match &expect.error_type {
        None => {
            if expect.queued > 0 && !json["MessageId"].is_string() {
                problems.push("no MessageId".into());
            }
        }
        Some(error_type) => {
            let full = format!("com.amazonaws.sqs#{error_type}");
            if json["__type"] != full.as_str() {
                problems.push(format!("__type {} instead of {full:?}", json["__type"]));
            }
            if answer.header("x-amzn-errortype") != Some(full.as_str()) {
                problems.push(format!(
                    "x-amzn-errortype {:?}",
                    answer.header("x-amzn-errortype")
                ));
            }
            let query = format!(
                "{};Sender",
                expect.query.as_deref().unwrap_or(error_type.as_str())
            );
            if answer.header("x-amzn-query-error") != Some(query.as_str()) {
                problems.push(format!(
                    "x-amzn-query-error {:?} instead of {query:?}",
                    answer.header("x-amzn-query-error")
                ));
            }
            match json["message"].as_str() {
                None => problems.push("no message".into()),
                Some(text) if text.len() > 1024 => {
                    problems.push(format!("a message of {} bytes", text.len()));
                }
                Some(text) => {
                    if let Some(part) = &expect.message
                        && !text.contains(part.as_str())
                    {
                        problems.push(format!("the message does not say {part:?}"));
                    }
                }
            }
        }
    }
    if !problems.is_empty() {
        problems.push(format!("answer: {}", answer.shown()));
    }
    problems
}

async fn list_queues(client: &aws_sdk_sqs::Client) -> Vec<String> {
    let mut urls = client
        .list_queues()
        .send()
        .await
        .unwrap()
        .queue_urls
        .unwrap_or_default();
    urls.sort();
    urls
}

/// A queue's attributes, without the counters and timestamps that move on their own.
async fn settings(client: &aws_sdk_sqs::Client, url: &str) -> BTreeMap<String, String> {
    let out = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    out.attributes
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.as_str().to_owned(), v))
        .filter(|(k, _)| !k.starts_with("Approximate"))
        .collect()
}
