//! Bodies reach the functions encoded as an API Gateway HTTP API encodes them: by content type,
//! text only for `text/*`, `application/json`, `application/xml` and `application/javascript`,
//! base64 otherwise (hookline-local's `gateway::event` names the sources). Form posts (Slack,
//! GitHub form deliveries, Twilio) therefore arrive base64, and every scheme must verify and
//! queue such a delivery byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use base64::Engine as _;
use hookline::Scheme;
use hookline::sign::Signer;
use hookline_e2e::*;
use serde_json::Value;

const EVERY_SCHEME: &str = r#"
[project]
name = "e2e"

[[providers]]
name = "stripe"
template = "stripe"

[[providers]]
name = "github"
template = "github"

[[providers]]
name = "slack"
template = "slack"

[[providers]]
name = "shopify"
template = "shopify"

[[providers]]
name = "standard-webhooks"
template = "standard-webhooks"

# The signing settings `Signer` uses for the scheme (X-Signature, SHA-256, hex).
[[providers]]
name = "generic-hmac"
template = "generic-hmac"
"#;

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

/// Signature headers for `provider` and `body`, then `extra`, and no other content type.
fn signed_as(
    stack: &hookline_local::DevStack,
    provider: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let info = stack
        .providers()
        .iter()
        .find(|p| p.name == provider)
        .unwrap();
    let scheme: Scheme = info.scheme.parse().unwrap();
    let mut headers = Signer::new(scheme, &info.signing_key)
        .unwrap()
        .headers(
            body,
            chrono::Utc::now().timestamp(),
            &format!("msg_{}", uuid::Uuid::new_v4().simple()),
        )
        .unwrap();
    headers.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    headers
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

/// (provider, body, extra headers, whether the acknowledgement's body is empty)
type Delivery = (
    &'static str,
    Vec<u8>,
    Vec<(&'static str, &'static str)>,
    bool,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scheme_verifies_and_queues_a_base64_encoded_delivery() {
    let h = harness(EVERY_SCHEME);
    let stack = h.start().await;
    const FORM: &str = "application/x-www-form-urlencoded";
    let github_form = format!(
        "payload={}",
        form_encode(&template_fixture("github", "push.json"))
    )
    .into_bytes();
    let deliveries: Vec<Delivery> = vec![
        // A Slack slash command and an interaction, as Slack posts them.
        (
            "slack",
            template_fixture("slack", "slash_command.txt"),
            vec![("content-type", FORM)],
            true,
        ),
        (
            "slack",
            template_fixture("slack", "block_actions.txt"),
            vec![("content-type", FORM)],
            true,
        ),
        // A GitHub webhook whose content type is set to `application/x-www-form-urlencoded`.
        (
            "github",
            github_form,
            vec![
                ("content-type", FORM),
                ("x-github-event", "push"),
                ("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            ],
            false,
        ),
        // JSON senders without a content type: base64 too.
        (
            "stripe",
            template_fixture("stripe", "invoice.paid.json"),
            vec![],
            false,
        ),
        (
            "shopify",
            template_fixture("shopify", "orders.create.json"),
            vec![
                ("x-shopify-topic", "orders/create"),
                (
                    "x-shopify-webhook-id",
                    "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
                ),
            ],
            false,
        ),
        (
            "standard-webhooks",
            template_fixture("standard-webhooks", "user.created.json"),
            vec![("content-type", "application/octet-stream")],
            false,
        ),
        (
            "generic-hmac",
            template_fixture("generic-hmac", "event.json"),
            vec![("content-type", "application/cloudevents+json")],
            false,
        ),
    ];
    for (provider, body, extra, empty_ack) in &deliveries {
        let headers = signed_as(&stack, provider, body, extra);
        let (status, _, answer) = post(&url(&stack, provider), &headers, body).await.unwrap();
        assert_eq!(
            status,
            200,
            "{provider}: {}",
            String::from_utf8_lossy(&answer)
        );
        assert_eq!(
            answer.is_empty(),
            *empty_ack,
            "{provider}'s acknowledgement"
        );
    }
    for provider in [
        "stripe",
        "github",
        "slack",
        "shopify",
        "standard-webhooks",
        "generic-hmac",
    ] {
        let expected: Vec<&Vec<u8>> = deliveries
            .iter()
            .filter(|d| d.0 == provider)
            .map(|d| &d.1)
            .collect();
        let recorded = h
            .wait_recorded(provider, expected.len(), Duration::from_secs(30))
            .await;
        let mut got: Vec<Vec<u8>> = recorded.iter().map(recorded_body).collect();
        let mut want: Vec<Vec<u8>> = expected.into_iter().cloned().collect();
        got.sort();
        want.sort();
        assert_eq!(
            got, want,
            "{provider}: the processor got the exact bytes, once"
        );
    }
    stack.shutdown().await;
}
