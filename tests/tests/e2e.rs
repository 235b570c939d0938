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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

const POISON: &str = r#"
[project]
name = "e2e"

[[providers]]
name = "acme"
template = "github"
[providers.queue]
max_receive_count = 2
# The least the manifest allows: 6 × the processor timeout + the batching window.
visibility_timeout_secs = 7
max_batching_window_secs = 1
[providers.processor]
timeout_secs = 1
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_message_is_retried_alone_dead_lettered_and_redriven() {
    let h = harness(POISON);
    let stack = h.start().await;
    for body in [
        &br#"{"n":"good-1"}"#[..],
        br#"{"n":"poison"}"#,
        br#"{"n":"good-2"}"#,
    ] {
        let (status, _, _) = post(&url(&stack, "acme"), &signed(&stack, "acme", body), body)
            .await
            .unwrap();
        assert_eq!(status, 200);
    }
    let info = stack.providers()[0].clone();
    let client = sqs(&stack.sqs_endpoint()).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    while depth(&client, &info.dlq_url).await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the poison message never reached the DLQ"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let bodies: Vec<Vec<u8>> = h.recorded("acme").iter().map(recorded_body).collect();
    assert_eq!(
        bodies.len(),
        2,
        "each good message processed exactly once, never retried with the poison one"
    );
    assert!(
        bodies.contains(&br#"{"n":"good-1"}"#.to_vec())
            && bodies.contains(&br#"{"n":"good-2"}"#.to_vec())
    );
    assert_eq!(depth(&client, &info.queue_url).await, 0);

    // Fix the handler, then bring the message back with the real CLI.
    std::fs::write(h.recorder.join("cured"), "").unwrap();
    let port = stack.sqs_endpoint().rsplit(':').next().unwrap().to_owned();
    // Async: the stack runs on this test's runtime and must keep answering meanwhile.
    let output = tokio::process::Command::new(binaries().join("xtask"))
        .args(["dlq", "redrive", "acme", "--sqs-port", &port])
        .env("HOOKLINE_MANIFEST", &h.manifest_path)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // SQS's own redrive (a message move task) ran to its end.
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("redrive completed: moved 1 message(s)"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let recorded = h.wait_recorded("acme", 3, Duration::from_secs(20)).await;
    assert_eq!(recorded_body(&recorded[2]), br#"{"n":"poison"}"#);
    assert_eq!(depth(&client, &info.dlq_url).await, 0);
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_works_against_the_local_endpoint_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let server = hookline_local::sqs::SqsServer::start("127.0.0.1:0".parse().unwrap(), dir.path())
        .await
        .unwrap();
    let python = std::env::var_os("HOOKLINE_TEST_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root().join(".tools/venv/bin/python"));
    let script = root().join("tests/python/boto3_check.py");
    let output = tokio::process::Command::new(&python).arg(&script).arg(server.endpoint()).output().await.unwrap_or_else(|e| {
        panic!("cannot run {}: {e}\nboto3 is required: run `cargo xtask test` (it installs it into .tools/venv)", python.display())
    });
    assert!(
        output.status.success(),
        "boto3 check failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("boto3 ok"));
    server.shutdown().await;
}
