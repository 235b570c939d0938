//! Functions that fail their init, through real binaries: the invocation fails at once with the
//! init error (as Lambda answers it), the HTTP API answers 500, the error is in the log, and the
//! function is not restarted in a loop (`hookline-local`'s `lambda::init`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::BTreeMap;
use std::time::Duration;

use hookline_e2e::*;
use hookline_local::lambda::{Function, FunctionSpec, InvokeError};
use hookline_local::logs::LogSink;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_that_fails_its_init_fails_each_request_at_once_and_is_not_restarted_in_a_loop() {
    let h = harness(ACME_QUICK_RETRY);
    let mut config = h.config();
    // The real ingest binary, with a setting it refuses at cold start: it exits before asking
    // for an invocation.
    config
        .extra_env
        .insert("HOOKLINE_MAX_BODY_BYTES".into(), "lots".into());
    let logs = LogSink::memory();
    config.logs = logs.clone();
    let stack = hookline_local::DevStack::start(config).await.unwrap();
    let body = br#"{"n":1}"#;
    let requests = 8;
    for _ in 0..requests {
        let (status, _, answer) = post(&url(&stack, "acme"), &signed(&stack, "acme", body), body)
            .await
            .unwrap();
        assert_eq!(
            (status, String::from_utf8_lossy(&answer).into_owned()),
            (500, r#"{"message":"Internal Server Error"}"#.to_owned())
        );
    }
    // Each start is caused by one request at most: a failed init is not retried while nothing
    // waits, and not at all while restarts back off.
    let starts = stack.function("acme-ingest").unwrap().starts();
    assert!(
        (1..=requests).contains(&starts),
        "{starts} processes started for {requests} requests"
    );
    let lines = logs.lines().join("\n");
    for expected in [
        // The function's own message, naming what to fix.
        "HOOKLINE_MAX_BODY_BYTES",
        // Lambda's words for a runtime that exits during init, in hookline's line.
        "[hookline] init failed (1 in a row): Runtime.ExitError: Runtime exited with error",
        // What the gateway answered, and why.
        "[hookline] API Gateway answered 500: the function failed to initialize: Runtime.ExitError",
    ] {
        assert!(lines.contains(expected), "no {expected:?} in:\n{lines}");
    }
    let client = sqs(&stack.sqs_endpoint()).await;
    assert_eq!(depth(&client, &stack.providers()[0].queue_url).await, 0);
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_init_error_posted_to_the_runtime_api_is_the_invocations_error() {
    let logs = LogSink::memory();
    let function = Function::new(
        FunctionSpec {
            name: "acme-ingest".into(),
            binary: binaries().join("init-error-ingest"),
            env: BTreeMap::new(),
            // Far longer than an init takes: an invocation left waiting would time out instead.
            timeout: Duration::from_secs(30),
            max_instances: 2,
        },
        logs.clone(),
    );
    let posted = InvokeError::Init("Runtime.InitError: HOOKLINE_TEST_SETTING is not set".into());
    for _ in 0..3 {
        let answer = function.invoke(b"{}".to_vec().into()).await;
        assert_eq!(answer, Err(posted.clone()));
    }
    assert!(
        (1..=3).contains(&function.starts()),
        "{}",
        function.starts()
    );
    let lines = logs.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("[acme-ingest] [hookline] init failed")
                && l.contains("Runtime.InitError: HOOKLINE_TEST_SETTING is not set")),
        "{lines:#?}"
    );
    function.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_whose_init_failed_once_serves_again_after_the_backoff() {
    let h = harness(ACME_QUICK_RETRY);
    let ingest = h.bins.join("acme-ingest");
    std::fs::remove_file(&ingest).unwrap();
    // Its first instance posts an init error; every later one is the real ingest.
    std::os::unix::fs::symlink(binaries().join("init-error-ingest"), &ingest).unwrap();
    let stack = h.start().await;
    // Each request its own delivery (its own body): the idempotency store would rightly run
    // the handler once for two acknowledged copies of one.
    let sent = std::sync::atomic::AtomicUsize::new(0);
    let send = || async {
        let n = sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let body = format!(r#"{{"n":{n}}}"#).into_bytes();
        post(&url(&stack, "acme"), &signed(&stack, "acme", &body), &body).await
    };
    let function = stack.function("acme-ingest").unwrap();
    let (status, _, _) = send().await.unwrap();
    assert_eq!(status, 500, "the first instance failed its init");
    assert!(h.recorder.join("init-failed").exists());
    assert_eq!(function.init_failures(), 1);
    // Requests fail at once with the init error until the backoff is over; then one start
    // succeeds, and from then on the function serves.
    let mut failed_fast = 0;
    let answer = loop {
        let (status, _, answer) = send().await.unwrap();
        if status != 500 {
            break (status, answer);
        }
        failed_fast += 1;
        assert!(failed_fast < 200, "the function never came back");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(answer.0, 200, "{}", String::from_utf8_lossy(&answer.1));
    let (status, _, _) = send().await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        function.init_failures(),
        0,
        "a successful init clears the failures"
    );
    let recorded = h.wait_recorded("acme", 2, Duration::from_secs(20)).await;
    assert_eq!(recorded.len(), 2, "only the two acknowledged deliveries");
    stack.shutdown().await;
}
