//! Bodies reach the functions encoded as an API Gateway HTTP API encodes them: by content type,
//! text only for `text/*`, `application/json`, `application/xml` and `application/javascript`,
//! base64 otherwise (hookline-local's `gateway::event` names the sources). Form posts (Slack,
//! GitHub form deliveries, Twilio) therefore arrive base64, and every scheme of the registry must
//! verify and queue such a delivery byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use hookline::sign::Signer;
use hookline::verify::{Outgoing, Request};
use hookline::{Scheme, SigningSecret, Verifier};
use hookline_e2e::*;
use hookline_local::gateway::event::is_text_content_type;
use serde::Deserialize;
use serde_json::Value;

fn template_fixture(template: &str, file: &str) -> Vec<u8> {
    std::fs::read(
        root()
            .join("templates")
            .join(template)
            .join("fixtures")
            .join(file),
    )
    .unwrap()
}

/// `application/x-www-form-urlencoded` encoding of `bytes`.
fn form_encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_post_reaches_the_function_base64_encoded_and_json_as_text() {
    let h = harness(ACME_QUICK_RETRY);
    let ingest = h.bins.join("acme-ingest");
    std::fs::remove_file(&ingest).unwrap();
    std::os::unix::fs::symlink(binaries().join("scripted-ingest"), &ingest).unwrap();
    let stack = h.start().await;
    let form = template_fixture("slack", "slash_command.txt");
    let json = template_fixture("github", "push.json");
    for (body, content_type, base64) in [
        (&form, "application/x-www-form-urlencoded", true),
        (&json, "application/json", false),
        (&json, "application/vnd.github+json", true),
    ] {
        let headers = [
            ("x-test-behaviour".to_owned(), "echo".to_owned()),
            ("content-type".to_owned(), content_type.to_owned()),
        ];
        let (status, _, answer) = post(&url(&stack, "acme"), &headers, body).await.unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
        let event: Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(event["isBase64Encoded"], base64, "{content_type}");
        let text = event["body"].as_str().unwrap();
        let received = if base64 {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap()
        } else {
            text.as_bytes().to_vec()
        };
        assert_eq!(&received, body, "{content_type}: the exact bytes");
    }
    stack.shutdown().await;
}

/// One provider per scheme of the registry, each made from the template of the same name.
fn every_scheme_manifest() -> String {
    let mut manifest = String::from("[project]\nname = \"e2e\"\n");
    for scheme in Scheme::NAMES {
        assert!(
            root().join("templates").join(scheme).is_dir(),
            "the scheme {scheme} has no template in templates/ to take samples from"
        );
        manifest.push_str(&format!(
            "\n[[providers]]\nname = \"{scheme}\"\ntemplate = \"{scheme}\"\n"
        ));
    }
    manifest
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

/// A delivery before signing: what it is, its body, its headers.
type Unsigned = (String, Vec<u8>, Vec<(String, String)>);

/// A provider's deliveries: every sample of its template, and for GitHub one delivered as a
/// form (`application/x-www-form-urlencoded`, GitHub's other content type). A sample whose
/// content type reaches Lambda as text (`application/json`) is sent without one, as some JSON
/// senders do, so that it arrives base64 like the forms.
fn deliveries(template: &str) -> Vec<Unsigned> {
    let dir = root().join("templates").join(template).join("fixtures");
    let samples: Samples =
        toml::from_str(&std::fs::read_to_string(dir.join("events.toml")).unwrap()).unwrap();
    let mut out: Vec<Unsigned> = samples
        .events
        .into_iter()
        .map(|sample| {
            let mut headers: Vec<(String, String)> = sample.headers.into_iter().collect();
            if let Some(content_type) = sample.content_type
                && !is_text_content_type(Some(content_type.as_bytes()))
            {
                headers.push(("content-type".into(), content_type));
            }
            let body = std::fs::read(dir.join(&sample.file)).unwrap();
            (format!("{template} {}", sample.file), body, headers)
        })
        .collect();
    if template == "github" {
        let form = format!(
            "payload={}",
            form_encode(&template_fixture("github", "push.json"))
        );
        out.push((
            "github push.json as a form".into(),
            form.into_bytes(),
            vec![
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("x-github-event".into(), "push".into()),
            ],
        ));
    }
    out
}

/// Every scheme of the registry, with every sample of its template, verifies a delivery that
/// reaches the function base64-encoded and queues it byte for byte (handshakes are answered,
/// not queued). A delivery the scheme cannot sign is skipped with the scheme's reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scheme_verifies_and_queues_a_base64_encoded_delivery() {
    let h = harness(&every_scheme_manifest());
    let mut config = h.config();
    // Sixteen providers on two cores: one instance of each function is enough.
    config.max_instances = 1;
    let stack = hookline_local::DevStack::start(config).await.unwrap();
    let mut queued: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    let mut skipped = Vec::new();
    for provider in &h.manifest.providers {
        let info = stack
            .providers()
            .iter()
            .find(|p| p.name == provider.name)
            .unwrap();
        let scheme = provider.scheme().unwrap();
        let signer = Signer::new(scheme.clone(), &info.signing_key).unwrap();
        let verifier = Verifier::new(
            scheme.clone(),
            &[SigningSecret::new(info.secret.as_str())],
            scheme.default_tolerance(),
        )
        .unwrap();
        let expected = queued.entry(provider.name.clone()).or_default();
        for (i, (what, body, mut headers)) in deliveries(&provider.template).into_iter().enumerate()
        {
            let signed = match signer.sign(&Outgoing {
                url: &info.webhook_url,
                body: &body,
                timestamp: chrono::Utc::now().timestamp(),
                delivery_id: &format!("msg_{i}_{}", uuid::Uuid::new_v4().simple()),
            }) {
                Ok(signed) => signed,
                Err(err) => {
                    skipped.push(format!("{what}: {err}"));
                    continue;
                }
            };
            headers.extend(signed.headers);
            let content_type = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| v.as_bytes());
            assert!(!is_text_content_type(content_type), "{what}: sent as text");
            let (status, _, answer) = post(&signed.url, &headers, &signed.body).await.unwrap();
            assert!(
                (200..300).contains(&status),
                "{what}: {status} {}",
                String::from_utf8_lossy(&answer)
            );
            // What ingest did with it: a handshake is answered, everything else queued.
            let mut map = hookline::aws_lambda_events::http::HeaderMap::new();
            for (k, v) in &headers {
                map.append(
                    hookline::aws_lambda_events::http::HeaderName::from_bytes(k.as_bytes())
                        .unwrap(),
                    v.parse().unwrap(),
                );
            }
            let description = verifier
                .describe(&Request {
                    method: "POST",
                    url: &signed.url,
                    headers: &map,
                    body: &signed.body,
                })
                .unwrap();
            if description.handshake.is_none() {
                expected.push(signed.body);
            }
        }
    }
    for (provider, expected) in &mut queued {
        assert!(
            !expected.is_empty(),
            "{provider}: no delivery was queued (skipped: {skipped:?})"
        );
        let recorded = h
            .wait_recorded(provider, expected.len(), Duration::from_secs(60))
            .await;
        let mut got: Vec<Vec<u8>> = recorded.iter().map(recorded_body).collect();
        got.sort();
        expected.sort();
        assert_eq!(
            &got, expected,
            "{provider}: the processor got the exact bytes, once"
        );
    }
    eprintln!(
        "skipped: {skipped:?}; queued: {:?}",
        queued
            .iter()
            .map(|(p, b)| (p.clone(), b.len()))
            .collect::<Vec<_>>()
    );
    stack.shutdown().await;
}
