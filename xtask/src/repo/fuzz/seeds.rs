//! Seed corpora for the fuzz targets, written from the repository's fixtures on every run, so
//! they follow the fixtures and nothing binary is committed. The input formats are described
//! in `fuzz/src/lib.rs`.

use std::path::Path;

use anyhow::{Context, Result};
use hookline::Envelope;
use hookline::sign::Signer;
use hookline::verify::Scheme;
use serde_json::json;

use crate::local::send::{Sample, samples};
use crate::project;

/// The clock of every signed seed. The clock travels in the input, so any value works; a
/// fixed one keeps the seeds stable from run to run.
const SEED_NOW: i64 = 1_767_225_600;

/// A secret per scheme, in the format the provider hands out.
fn seed_secret(scheme: &str) -> &'static str {
    match scheme {
        // Standard Webhooks' published test key; Stripe's secrets look the same.
        "stripe" | "standard-webhooks" => "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        _ => "2f6c1c3b8c0e4f9a9d1e7b3a5c6d8e0f",
    }
}

/// (fuzz target, scheme, template) for the verify targets.
const VERIFY_TARGETS: [(&str, &str, &str); 6] = [
    ("verify_stripe", "stripe", "stripe"),
    ("verify_github", "github", "github"),
    ("verify_slack", "slack", "slack"),
    ("verify_shopify", "shopify", "shopify"),
    (
        "verify_standard_webhooks",
        "standard-webhooks",
        "standard-webhooks",
    ),
    ("verify_generic_hmac", "generic-hmac", "generic-hmac"),
];

/// Writes `<dir>/<target>/seed-N` for every target that has seeds; returns how many.
pub fn write(dir: &Path) -> Result<usize> {
    let root = project::root();
    let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut all_samples = Vec::new();
    for (target, scheme_name, template) in VERIFY_TARGETS {
        let fixtures = root.join("templates").join(template).join("fixtures");
        let samples = samples(&fixtures)?;
        let mut heads = Vec::with_capacity(samples.len());
        for sample in &samples {
            let config = match scheme_name {
                "generic-hmac" => format!(
                    "{SEED_NOW} {} x-signature sha256 hex",
                    seed_secret(scheme_name)
                ),
                _ => format!("{SEED_NOW} {}", seed_secret(scheme_name)),
            };
            let head = signed_head(scheme_name, sample)?;
            seeds.push((target, http_text(&config, None, &head, &sample.body)));
            heads.push(head);
        }
        all_samples.push((scheme_name, samples, heads));
    }

    let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 40000));
    for (scheme_name, samples, heads) in &all_samples {
        for (i, (sample, head)) in samples.iter().zip(heads).enumerate() {
            let config = format!("{scheme_name} {SEED_NOW} {}", seed_secret(scheme_name));
            // One seed per provider with a failing queue, for the 503 path.
            let config = if i == 0 {
                format!("{config} fail")
            } else {
                config
            };
            let path = format!("/{scheme_name}");
            seeds.push((
                "gateway_event",
                http_text(&config, Some(&format!("POST {path}")), head, &sample.body),
            ));
            let mut headers = http::HeaderMap::new();
            for (name, value) in head {
                if let (Ok(name), Ok(value)) = (
                    http::HeaderName::from_bytes(name.as_bytes()),
                    http::HeaderValue::from_str(value),
                ) {
                    headers.append(name, value);
                }
            }
            let uri: http::Uri = path.parse().context("a seed path")?;
            let event = hookline_local::gateway::event(
                &http::Method::POST,
                &uri,
                &headers,
                &sample.body,
                peer,
            );
            seeds.push(("apigw_event", format!("{config}\n{event}").into_bytes()));

            let envelope = Envelope::new(*scheme_name, sample.body.clone())
                .with_event_type(sample.event_type.clone())
                .with_delivery_id(format!("delivery-{i}"))
                .with_header("content-type", sample.content_type.clone());
            let json = envelope.to_json();
            seeds.push(("envelope", json.clone().into_bytes()));
            seeds.push(("sqs_event", sqs_event(&json, i).into_bytes()));
        }
    }
    seeds.push((
        "envelope",
        Envelope::new("binary", vec![0, 159, 146, 150, 255])
            .to_json()
            .into_bytes(),
    ));

    for response in [
        json!({"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "{\"status\":\"received\"}"}),
        json!({"statusCode": 401, "body": "{\"error\":\"invalid_signature\"}", "isBase64Encoded": false}),
        json!({"statusCode": 200, "body": "aGVsbG8=", "isBase64Encoded": true, "multiValueHeaders": {"x-a": ["1", "2"]}}),
        json!({"status": "received"}),
    ] {
        seeds.push(("gateway_response", response.to_string().into_bytes()));
    }

    for request in sqs_requests() {
        seeds.push(("sqs_protocol", request.into_bytes()));
    }

    seeds.push((
        "manifest",
        std::fs::read(root.join("hookline.toml")).context("reading hookline.toml")?,
    ));
    let cases_path = root.join("crates/hookline-manifest/tests/cases.json");
    let cases: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&cases_path).with_context(|| format!("reading {}", cases_path.display()))?,
    )
    .with_context(|| format!("parsing {}", cases_path.display()))?;
    for case in cases["cases"].as_array().into_iter().flatten() {
        if let Some(toml) = case["toml"].as_str() {
            seeds.push(("manifest", toml.as_bytes().to_vec()));
        }
    }

    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for (target, bytes) in &seeds {
        let n = counts.entry(target).or_default();
        let folder = dir.join(target);
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("creating {}", folder.display()))?;
        std::fs::write(folder.join(format!("seed-{n}")), bytes)
            .with_context(|| format!("writing a seed into {}", folder.display()))?;
        *n += 1;
    }
    Ok(seeds.len())
}

/// The headers a provider sends with a sample: its content type and fixture headers, and the
/// signature of the body at [`SEED_NOW`].
fn signed_head(scheme_name: &str, sample: &Sample) -> Result<Vec<(String, String)>> {
    let scheme: Scheme = scheme_name.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let signer =
        Signer::new(scheme, seed_secret(scheme_name)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut head = vec![("content-type".to_owned(), sample.content_type.clone())];
    head.extend(sample.headers.iter().cloned());
    head.extend(
        signer
            .headers(&sample.body, SEED_NOW, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    Ok(head)
}

/// `config`, an optional request line, `name: value` lines, an empty line, the body.
fn http_text(
    config: &str,
    request_line: Option<&str>,
    head: &[(String, String)],
    body: &[u8],
) -> Vec<u8> {
    let mut text = format!("{config}\n");
    if let Some(line) = request_line {
        text.push_str(line);
        text.push('\n');
    }
    for (name, value) in head {
        text.push_str(&format!("{name}: {value}\n"));
    }
    text.push('\n');
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// An SQS event of two records around `envelope`, on a FIFO queue for odd `i`.
fn sqs_event(envelope: &str, i: usize) -> String {
    let arn = if i % 2 == 1 {
        "arn:aws:sqs:us-east-1:000000000000:seed.fifo"
    } else {
        "arn:aws:sqs:us-east-1:000000000000:seed"
    };
    let record = |id: &str, body: &str| {
        json!({
            "messageId": id,
            "receiptHandle": format!("rh-{id}"),
            "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1767225600000"},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": "us-east-1",
        })
    };
    json!({"Records": [record("m-1", envelope), record("m-2", "not an envelope")]}).to_string()
}

/// One request per action the local endpoint serves, on the fuzz target's queues.
fn sqs_requests() -> Vec<String> {
    let url = "http://127.0.0.1:9324/000000000000/fuzz";
    let fifo = "http://127.0.0.1:9324/000000000000/fuzz.fifo";
    let attributes = json!({"provider": {"DataType": "String", "StringValue": "stripe"}});
    [
        ("CreateQueue", json!({"QueueName": "seed", "Attributes": {"VisibilityTimeout": "30"}})),
        ("GetQueueUrl", json!({"QueueName": "fuzz"})),
        ("ListQueues", json!({"QueueNamePrefix": "fu"})),
        ("SendMessage", json!({"QueueUrl": url, "MessageBody": "{\"id\":1}", "MessageAttributes": attributes})),
        ("SendMessage", json!({"QueueUrl": fifo, "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "d"})),
        ("SendMessageBatch", json!({"QueueUrl": url, "Entries": [{"Id": "a", "MessageBody": "1"}, {"Id": "b", "MessageBody": "2", "DelaySeconds": 1}]})),
        ("ReceiveMessage", json!({"QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1, "MessageSystemAttributeNames": ["All"], "MessageAttributeNames": ["All"]})),
        ("DeleteMessage", json!({"QueueUrl": url, "ReceiptHandle": "not-a-handle"})),
        ("ChangeMessageVisibility", json!({"QueueUrl": url, "ReceiptHandle": "x", "VisibilityTimeout": 0})),
        ("GetQueueAttributes", json!({"QueueUrl": url, "AttributeNames": ["All"]})),
        ("SetQueueAttributes", json!({"QueueUrl": url, "Attributes": {"MessageRetentionPeriod": "60"}})),
        ("PurgeQueue", json!({"QueueUrl": url})),
        ("DeleteQueue", json!({"QueueUrl": "http://127.0.0.1:9324/000000000000/seed"})),
    ]
    .into_iter()
    .map(|(action, body)| format!("{action}\n{body}"))
    .collect()
}
