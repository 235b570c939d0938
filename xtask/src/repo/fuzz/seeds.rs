//! Seed corpora for the fuzz targets, written from the repository's fixtures on every run, so
//! they follow the fixtures and nothing binary is committed. The input formats are described
//! in `fuzz/src/lib.rs`.

use std::path::Path;

use anyhow::{Context, Result};
use hookline::Envelope;
use hookline::sign::{SAMPLE_URL, Signer};
use hookline::verify::{Outgoing, Scheme};
use serde_json::json;

use crate::local::send::{Sample, samples};
use crate::project;

/// The clock of every signed seed. The clock travels in the input, so any value works; a
/// fixed one keeps the seeds stable from run to run.
const SEED_NOW: i64 = 1_767_225_600;

/// The random bytes of every seed's credentials: fixed, so the seeds stay the same.
const SEED_RANDOM: [u8; 32] = [0x2f; 32];

/// The verify fuzz target of a scheme: `verify_` and its name with `_` for `-`.
pub fn verify_target(scheme: &str) -> String {
    format!("verify_{}", scheme.replace('-', "_"))
}

/// A signed sample: its (verifying) secret, its headers and its body.
struct SignedSample {
    secret: String,
    head: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Writes `<dir>/<target>/seed-N` for every target that has seeds; returns how many.
pub fn write(dir: &Path) -> Result<usize> {
    let root = project::root();
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    let mut all_samples = Vec::new();
    // Every scheme's verify target, from its template's samples (the template is the scheme's).
    for scheme_name in Scheme::NAMES {
        let fixtures = root.join("templates").join(scheme_name).join("fixtures");
        let samples = samples(&fixtures)?;
        let mut signed = Vec::with_capacity(samples.len());
        for sample in &samples {
            let one = sign(scheme_name, sample)?;
            let config = match scheme_name {
                "generic-hmac" => format!("{SEED_NOW} {} x-signature sha256 hex", one.secret),
                _ => format!("{SEED_NOW} {}", one.secret),
            };
            seeds.push((
                verify_target(scheme_name),
                http_text(&config, None, &one.head, &one.body),
            ));
            signed.push(one);
        }
        all_samples.push((scheme_name, samples, signed));
    }

    let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 40000));
    for (scheme_name, samples, signed) in &all_samples {
        for (i, (sample, one)) in samples.iter().zip(signed).enumerate() {
            let (head, body) = (&one.head, &one.body);
            let config = format!("{scheme_name} {SEED_NOW} {}", one.secret);
            // One seed per provider with a failing queue, for the 503 path.
            let config = if i == 0 {
                format!("{config} fail")
            } else {
                config
            };
            let path = format!("/{scheme_name}");
            seeds.push((
                "gateway_event".to_owned(),
                http_text(&config, Some(&format!("POST {path}")), head, body),
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
            let event =
                hookline_local::gateway::event(&http::Method::POST, &uri, &headers, body, peer);
            seeds.push((
                "apigw_event".to_owned(),
                format!("{config}\n{event}").into_bytes(),
            ));

            let envelope = Envelope::new(*scheme_name, sample.body.clone())
                .with_event_type(sample.event_type.clone())
                .with_delivery_id(format!("delivery-{i}"))
                .with_header("content-type", sample.content_type.clone());
            let json = envelope.to_json();
            seeds.push(("envelope".to_owned(), json.clone().into_bytes()));
            seeds.push(("sqs_event".to_owned(), sqs_event(&json, i).into_bytes()));
        }
    }
    seeds.push((
        "envelope".to_owned(),
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
        seeds.push((
            "gateway_response".to_owned(),
            response.to_string().into_bytes(),
        ));
    }

    for request in sqs_requests() {
        seeds.push(("sqs_protocol".to_owned(), request.into_bytes()));
    }

    // Streaming PutObject bodies as aws-sdk-s3 sends them: unsigned with a checksum trailer
    // (STREAMING-UNSIGNED-PAYLOAD-TRAILER) and signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD).
    for body in [
        "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n",
        "b;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\nhello world\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n",
    ] {
        seeds.push(("s3_aws_chunked".to_owned(), body.as_bytes().to_vec()));
    }

    seeds.push((
        "manifest".to_owned(),
        std::fs::read(root.join("hookline.toml")).context("reading hookline.toml")?,
    ));
    let cases_path = root.join("crates/hookline-manifest/tests/cases.json");
    let cases: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&cases_path).with_context(|| format!("reading {}", cases_path.display()))?,
    )
    .with_context(|| format!("parsing {}", cases_path.display()))?;
    for case in cases["cases"].as_array().into_iter().flatten() {
        if let Some(toml) = case["toml"].as_str() {
            seeds.push(("manifest".to_owned(), toml.as_bytes().to_vec()));
        }
    }

    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for (target, bytes) in &seeds {
        let n = counts.entry(target.as_str()).or_default();
        let folder = dir.join(target);
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("creating {}", folder.display()))?;
        std::fs::write(folder.join(format!("seed-{n}")), bytes)
            .with_context(|| format!("writing a seed into {}", folder.display()))?;
        *n += 1;
    }
    Ok(seeds.len())
}

/// A sample as its provider sends it at [`SEED_NOW`] to [`SAMPLE_URL`]: its content type and
/// fixture headers, the signature, and the body (which Linear and Mailgun sign inside).
fn sign(scheme_name: &str, sample: &Sample) -> Result<SignedSample> {
    let scheme: Scheme = scheme_name.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let credentials = scheme.local_credentials(&SEED_RANDOM);
    let signer = Signer::new(scheme, &credentials.sign).map_err(|e| anyhow::anyhow!("{e}"))?;
    let signed = signer
        .sign(&Outgoing {
            url: SAMPLE_URL,
            body: &sample.body,
            timestamp: SEED_NOW,
            delivery_id: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        })
        .map_err(|e| anyhow::anyhow!("{scheme_name} sample `{}`: {e}", sample.event_type))?;
    let mut head = vec![("content-type".to_owned(), sample.content_type.clone())];
    head.extend(sample.headers.iter().cloned());
    head.extend(signed.headers);
    Ok(SignedSample {
        secret: credentials.verify,
        head,
        body: signed.body,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every scheme has its verify target, and every verify target is a scheme's.
    #[test]
    fn every_scheme_has_a_verify_target() {
        let targets = crate::repo::fuzz::targets().unwrap();
        let verify: Vec<&String> = targets
            .iter()
            .filter(|t| t.starts_with("verify_"))
            .collect();
        for scheme in Scheme::NAMES {
            assert!(
                targets.contains(&verify_target(scheme)),
                "fuzz/Cargo.toml has no {} target",
                verify_target(scheme)
            );
        }
        assert_eq!(verify.len(), Scheme::NAMES.len(), "{verify:?}");
    }

    /// Every template's samples can be signed, so every verify target gets seeds.
    #[test]
    fn every_sample_of_every_template_is_signed() {
        let dir = tempfile::tempdir().unwrap();
        let written = write(dir.path()).unwrap();
        for scheme in Scheme::NAMES {
            let folder = dir.path().join(verify_target(scheme));
            let seeds = std::fs::read_dir(&folder).map(Iterator::count).unwrap_or(0);
            assert!(seeds > 0, "no seeds for {scheme}");
        }
        assert!(written > Scheme::NAMES.len());
    }
}
