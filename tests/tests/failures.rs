//! Failure injection with real processes: instances dying mid-request or mid-batch cost
//! nothing, and no secret reaches a log or a response whatever the input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use hookline_e2e::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_instance_dying_mid_request_is_500_and_the_retry_succeeds() {
    let h = harness(ACME_QUICK_RETRY);
    let ingest = h.bins.join("acme-ingest");
    std::fs::remove_file(&ingest).unwrap();
    std::os::unix::fs::symlink(binaries().join("crasher-ingest"), &ingest).unwrap();
    let stack = h.start().await;
    let body = br#"{"n":1}"#;
    let (status, _, answer) = post(&url(&stack, "acme"), &signed(&stack, "acme", body), body)
        .await
        .unwrap();
    // Lambda reports the crash as a function error (`Runtime.ExitError`), which the HTTP API
    // answers 500 {"message":"Internal Server Error"} (hookline-local's `gateway::answer`).
    assert_eq!(status, 500, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(answer, br#"{"message":"Internal Server Error"}"#);
    assert!(h.recorder.join("ingest-crashed").exists());
    let (status, _, answer) = post(&url(&stack, "acme"), &signed(&stack, "acme", body), body)
        .await
        .unwrap();
    assert_eq!(
        status,
        200,
        "the crashed instance is replaced: {}",
        String::from_utf8_lossy(&answer)
    );
    let recorded = h.wait_recorded("acme", 1, Duration::from_secs(20)).await;
    assert_eq!(
        recorded.len(),
        1,
        "only the acknowledged delivery was queued"
    );
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_processor_killed_mid_batch_gets_its_messages_back() {
    let h = harness(ACME_QUICK_RETRY);
    let stack = h.start().await;
    for body in [&br#"{"n":"crash-once"}"#[..], br#"{"n":"calm"}"#] {
        let (status, _, _) = post(&url(&stack, "acme"), &signed(&stack, "acme", body), body)
            .await
            .unwrap();
        assert_eq!(status, 200);
    }
    let recorded = h.wait_recorded("acme", 2, Duration::from_secs(30)).await;
    let crashed = recorded
        .iter()
        .find(|l| recorded_body(l) == br#"{"n":"crash-once"}"#)
        .expect("the crashed message came back and was processed");
    assert!(crashed["receive_count"].as_u64().unwrap() >= 2, "{crashed}");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_a_log_or_a_response() {
    let h = harness(ACME_QUICK_RETRY);
    let mut config = h.config();
    let logs = hookline_local::logs::LogSink::memory();
    config.logs = logs.clone();
    let stack = hookline_local::DevStack::start(config).await.unwrap();
    let secret = stack.providers()[0].secret.clone();
    let target = url(&stack, "acme");
    let good = br#"{"n":"ok"}"#.to_vec();
    let signed_good = signed(&stack, "acme", &good);
    let mut seen = String::new();
    type Request = (Vec<(String, String)>, Vec<u8>);
    let cases: Vec<Request> = vec![
        (signed_good.clone(), good.clone()),
        (signed_good.clone(), br#"{"n":"tampered"}"#.to_vec()),
        (vec![], good.clone()),
        (
            vec![("x-hub-signature-256".into(), format!("sha256={secret}"))],
            good.clone(),
        ),
        (
            vec![("x-hub-signature-256".into(), secret.clone())],
            good.clone(),
        ),
        (
            signed(&stack, "acme", &vec![b'a'; 2_000_000]),
            vec![b'a'; 2_000_000],
        ),
    ];
    for (headers, body) in cases {
        let (status, head, answer) = post(&target, &headers, &body).await.unwrap();
        seen.push_str(&format!(
            "{status}\n{head}\n{}\n",
            String::from_utf8_lossy(&answer)
        ));
    }
    h.wait_recorded("acme", 1, Duration::from_secs(20)).await;
    stack.shutdown().await;
    let all_logs = logs.lines().join("\n");
    assert!(
        all_logs.contains("webhook rejected"),
        "the error paths were logged"
    );
    assert!(
        !seen.contains(&secret),
        "a response carried the secret:\n{seen}"
    );
    assert!(!all_logs.contains(&secret), "a log carried the secret");
}
