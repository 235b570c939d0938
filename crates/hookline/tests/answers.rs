//! README's "Answers of an ingest function" table is what ingest answers: every successful
//! answer an ingest function gives to the providers' sample deliveries (each scheme's
//! `templates/<scheme>/fixtures/events.toml`, and the few deliveries no sample shows) has its
//! row, and every 2xx row is an answer some delivery gets. An answer a scheme starts giving
//! without a row, or a row no scheme gives any more, fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hookline::queue::MemoryQueue;
use hookline::sign::Signer;
use hookline::verify::Outgoing;
use hookline::{Ingest, Scheme, SigningSecret, Verifier};
use serde::Deserialize;
use serde_json::{Value, json};

const SECTION: &str = "### Answers of an ingest function";
const PUBLIC_URL: &str = "https://hooks.example.com/webhooks/answers";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[derive(Deserialize)]
struct Samples {
    events: Vec<Sample>,
}

#[derive(Deserialize)]
struct Sample {
    file: String,
    content_type: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// A delivery: its scheme, body and the headers besides the signature's.
struct Delivery {
    scheme: &'static str,
    what: String,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
}

/// Every sample of every scheme's template.
fn samples() -> Vec<Delivery> {
    let mut deliveries = Vec::new();
    for scheme in Scheme::NAMES {
        let dir = root().join("templates").join(scheme).join("fixtures");
        let toml = std::fs::read_to_string(dir.join("events.toml"))
            .unwrap_or_else(|e| panic!("{scheme}: {}: {e}", dir.display()));
        let samples: Samples = toml::from_str(&toml).unwrap();
        for sample in samples.events {
            let mut headers: Vec<(String, String)> = sample.headers.into_iter().collect();
            headers.extend(sample.content_type.map(|c| ("content-type".to_owned(), c)));
            deliveries.push(Delivery {
                scheme,
                what: format!("{scheme} {}", sample.file),
                body: std::fs::read(dir.join(&sample.file)).unwrap(),
                headers,
            });
        }
    }
    deliveries
}

/// Deliveries with an answer of their own that no template sample shows.
fn beyond_the_samples() -> Vec<Delivery> {
    let json = || vec![("content-type".to_owned(), "application/json".to_owned())];
    vec![
        // Slack's `ssl_check` (Slack, "Verifying requests from Slack": a form post with
        // `ssl_check=1`).
        Delivery {
            scheme: "slack",
            what: "slack ssl_check".into(),
            body: b"ssl_check=1&token=x".to_vec(),
            headers: vec![(
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            )],
        },
        // A Discord autocomplete interaction (type 4, Discord's "Interaction Type").
        Delivery {
            scheme: "discord",
            what: "discord autocomplete".into(),
            body: br#"{"type":4,"id":"1","application_id":"2","token":"t","version":1,"data":{"name":"deploy","options":[{"name":"env","type":3,"value":"pr","focused":true}]}}"#.to_vec(),
            headers: json(),
        },
        // Discord webhook events: the PING a webhook-events URL gets (type 0, no `event`) and
        // an event (Discord's "Webhook Events").
        Delivery {
            scheme: "discord",
            what: "discord webhook-event PING".into(),
            body: br#"{"version":1,"application_id":"1234560123453231555","type":0}"#.to_vec(),
            headers: json(),
        },
        Delivery {
            scheme: "discord",
            what: "discord webhook event".into(),
            body: br#"{"version":1,"application_id":"1234560123453231555","type":1,"event":{"type":"APPLICATION_AUTHORIZED","timestamp":"2024-10-18T14:42:53.064834","data":{"integration_type":1,"scopes":["applications.commands"],"user":{"id":"1"}}}}"#.to_vec(),
            headers: json(),
        },
    ]
}

/// What ingest answered a delivery, and whether it queued it.
struct Answered {
    what: String,
    status: i64,
    content_type: Option<String>,
    body: String,
    queued: bool,
}

async fn answer(delivery: &Delivery) -> Answered {
    let scheme: Scheme = delivery.scheme.parse().unwrap();
    assert!(
        scheme.can_sign(&delivery.body),
        "{}: the scheme cannot sign its own sample",
        delivery.what
    );
    let credentials = scheme.local_credentials(&[5; 32]);
    let verifier = Verifier::new(
        scheme.clone(),
        &[SigningSecret::new(credentials.verify.as_str())],
        Duration::from_secs(300),
    )
    .unwrap();
    let ingest = Ingest::new("answers", verifier, MemoryQueue::new())
        .with_public_url(Some(PUBLIC_URL.to_owned()));
    let signed = Signer::new(scheme, &credentials.sign)
        .unwrap()
        .sign(&Outgoing {
            url: PUBLIC_URL,
            body: &delivery.body,
            timestamp: chrono::Utc::now().timestamp(),
            delivery_id: "msg_answers",
        })
        .unwrap();
    let mut headers = serde_json::Map::new();
    for (name, value) in signed.headers.iter().chain(&delivery.headers) {
        headers.insert(name.to_ascii_lowercase(), Value::String(value.clone()));
    }
    let query = signed.url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let request = serde_json::from_value(json!({
        "version": "2.0",
        "rawPath": "/webhooks/answers",
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "http": { "method": "POST", "path": "/webhooks/answers" },
            "domainName": "hooks.example.com",
            "requestId": "r1",
            "timeEpoch": 0
        },
        "body": String::from_utf8(signed.body).unwrap(),
        "isBase64Encoded": false
    }))
    .unwrap();
    let response = ingest.handle(request).await;
    let body = match response.body {
        None => String::new(),
        Some(aws_lambda_events::encodings::Body::Text(text)) => text,
        Some(other) => panic!("{}: {other:?}", delivery.what),
    };
    assert!(
        (200..300).contains(&response.status_code),
        "{}: a signed sample is refused: {} {body}",
        delivery.what,
        response.status_code
    );
    Answered {
        what: delivery.what.clone(),
        status: response.status_code,
        content_type: response
            .headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned()),
        body,
        queued: !ingest.queue().messages().is_empty(),
    }
}

/// What a row must say of an answer: `empty`, its content type unless JSON, and for a JSON
/// body each field as `"name"`, with the value beside it when it is not a string
/// (`"type":5`, `"choices":[]`).
fn tokens(answer: &Answered) -> Vec<String> {
    let mut tokens = Vec::new();
    if answer.body.is_empty() {
        tokens.push("empty".to_owned());
    }
    match answer.content_type.as_deref() {
        None | Some("application/json") => {}
        Some(other) => tokens.push(format!("`{other}`")),
    }
    fn fields(value: &Value, tokens: &mut Vec<String>) {
        let Value::Object(object) = value else {
            return;
        };
        for (name, value) in object {
            match value {
                Value::String(_) => tokens.push(format!("\"{name}\"")),
                Value::Object(_) => {
                    tokens.push(format!("\"{name}\""));
                    fields(value, tokens);
                }
                other => tokens.push(format!("\"{name}\":{other}")),
            }
        }
    }
    if answer.content_type.as_deref() == Some("application/json") {
        fields(&serde_json::from_str(&answer.body).unwrap(), &mut tokens);
    }
    tokens
}

/// The table's rows: (status, the row, queued).
fn readme_rows() -> Vec<(i64, String, bool)> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = &readme[readme.find(SECTION).expect("README has the answers table")..];
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // the header and its rule
        .map(|row| {
            let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
            let queued = match *cells.last().unwrap() {
                "yes" => true,
                "no" => false,
                other => panic!("a queued? cell of {other:?}: {row}"),
            };
            (cells[0].parse().unwrap(), row.to_owned(), queued)
        })
        .collect()
}

#[tokio::test]
async fn every_answer_ingest_gives_has_its_readme_row_and_every_row_is_given() {
    let rows = readme_rows();
    let mut given = vec![false; rows.len()];
    let mut missing = Vec::new();
    for delivery in samples().iter().chain(&beyond_the_samples()) {
        let answer = answer(delivery).await;
        let tokens = tokens(&answer);
        let matching: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, (status, row, queued))| {
                *status == answer.status
                    && *queued == answer.queued
                    && tokens.iter().all(|t| row.contains(t.as_str()))
            })
            .map(|(i, _)| i)
            .collect();
        if matching.is_empty() {
            missing.push(format!(
                "{}: {} {:?} {:?} (queued: {}), which a row must show as {tokens:?}",
                answer.what, answer.status, answer.content_type, answer.body, answer.queued
            ));
        }
        for i in matching {
            given[i] = true;
        }
    }
    assert!(
        missing.is_empty(),
        "answers README's table does not show:\n{}",
        missing.join("\n")
    );
    let unused: Vec<&String> = rows
        .iter()
        .zip(&given)
        .filter(|((status, _, _), given)| (200..300).contains(status) && !**given)
        .map(|((_, row, _), _)| row)
        .collect();
    assert!(
        unused.is_empty(),
        "rows no delivery is answered with:\n{unused:#?}"
    );
}
