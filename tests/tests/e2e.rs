//! hookline end to end: real function binaries on the local stack, real HTTP, loopback only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use hookline_e2e::*;

const STRIPE_AND_GITHUB: &str = r#"
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
"#;

fn fixture(provider: &str, file: &str) -> Vec<u8> {
    std::fs::read(
        root()
            .join("functions")
            .join(provider)
            .join("fixtures")
            .join(file),
    )
    .or_else(|_| {
        std::fs::read(
            root()
                .join("templates")
                .join(provider)
                .join("fixtures")
                .join(file),
        )
    })
    .unwrap()
}

#[tokio::test]
async fn signed_deliveries_reach_the_processor_byte_for_byte() {
    let h = harness(STRIPE_AND_GITHUB);
    let stack = h.start().await;
    for (provider, file) in [("stripe", "invoice.paid.json"), ("github", "push.json")] {
        let body = fixture(provider, file);
        let mut headers = signed(&stack, provider, &body);
        headers.push(("X-GitHub-Event".into(), "push".into()));
        headers.push((
            "X-GitHub-Delivery".into(),
            "72d3162e-cc78-11e3-81ab-4c9367dc0958".into(),
        ));
        let (status, _, answer) = post(&url(&stack, provider), &headers, &body).await.unwrap();
        assert_eq!(
            status,
            200,
            "{provider}: {}",
            String::from_utf8_lossy(&answer)
        );
        let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(answer["status"], "received");
        let recorded = h.wait_recorded(provider, 1, Duration::from_secs(20)).await;
        assert_eq!(recorded.len(), 1, "{provider} was processed once");
        assert_eq!(
            recorded_body(&recorded[0]),
            body,
            "{provider}: the processor got the exact bytes"
        );
        assert_eq!(recorded[0]["message_id"], answer["message_id"]);
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn a_tampered_delivery_is_401_and_nothing_is_queued() {
    let h = harness(STRIPE_AND_GITHUB);
    let stack = h.start().await;
    let body = fixture("stripe", "payment_intent.succeeded.json");
    let headers = signed(&stack, "stripe", &body);
    let mut tampered = body.clone();
    tampered[20] ^= 1;
    let (status, _, answer) = post(&url(&stack, "stripe"), &headers, &tampered)
        .await
        .unwrap();
    assert_eq!(status, 401);
    assert!(String::from_utf8_lossy(&answer).contains("invalid_signature"));
    let client = sqs(&stack.sqs_endpoint()).await;
    let queue = stack
        .providers()
        .iter()
        .find(|p| p.name == "stripe")
        .unwrap()
        .queue_url
        .clone();
    assert_eq!(depth(&client, &queue).await, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(h.recorded("stripe").is_empty());
    stack.shutdown().await;
}

#[tokio::test]
async fn slack_url_verification_is_answered_with_the_challenge() {
    let h = harness(STRIPE_AND_GITHUB);
    let stack = h.start().await;
    let body = fixture("slack", "url_verification.json");
    let (status, _, answer) = post(
        &url(&stack, "slack"),
        &signed(&stack, "slack", &body),
        &body,
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    let challenge =
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["challenge"].clone();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&answer).unwrap()["challenge"],
        challenge
    );
    let client = sqs(&stack.sqs_endpoint()).await;
    let queue = stack
        .providers()
        .iter()
        .find(|p| p.name == "slack")
        .unwrap()
        .queue_url
        .clone();
    assert_eq!(
        depth(&client, &queue).await,
        0,
        "a handshake is never queued"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_queue_means_503_never_200() {
    let h = harness(STRIPE_AND_GITHUB);
    let mut config = h.config();
    config.ingest_sqs_endpoint = Some(format!("http://127.0.0.1:{}", free_port()));
    let stack = hookline_local::DevStack::start(config).await.unwrap();
    let body = fixture("stripe", "invoice.paid.json");
    let (status, head, answer) = post(
        &url(&stack, "stripe"),
        &signed(&stack, "stripe", &body),
        &body,
    )
    .await
    .unwrap();
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&answer));
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 5"),
        "{head}"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn unknown_routes_are_404_json() {
    let h = harness(STRIPE_AND_GITHUB);
    let stack = h.start().await;
    let (status, _, answer) = post(
        &format!("{}/webhooks/paypal", stack.gateway_url()),
        &[],
        b"{}",
    )
    .await
    .unwrap();
    assert_eq!(status, 404);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&answer).unwrap()["message"],
        "Not Found"
    );
    stack.shutdown().await;
}
