//! What the local gateway answers when an invocation fails or a request is over a quota, as an
//! API Gateway HTTP API answers it (the table and its sources are in hookline-local's
//! `gateway::answer`), through a real function binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use hookline_e2e::*;
use hookline_manifest::limits::{
    HTTP_API_MAX_REQUEST_LINE_AND_HEADERS_BYTES, LAMBDA_MAX_REQUEST_PAYLOAD_BYTES,
};

/// One route whose ingest function is `scripted-ingest`, with a 1 s timeout.
const SCRIPTED: &str = r#"
[project]
name = "e2e"

[[providers]]
name = "acme"
template = "github"
[providers.ingest]
timeout_secs = 1
"#;

async fn scripted_stack() -> (Harness, hookline_local::DevStack) {
    let h = harness(SCRIPTED);
    let ingest = h.bins.join("acme-ingest");
    std::fs::remove_file(&ingest).unwrap();
    std::os::unix::fs::symlink(binaries().join("scripted-ingest"), &ingest).unwrap();
    let stack = h.start().await;
    (h, stack)
}

fn behaving(behaviour: &str) -> Vec<(String, String)> {
    vec![("x-test-behaviour".to_owned(), behaviour.to_owned())]
}

const INTERNAL_SERVER_ERROR: &str = r#"{"message":"Internal Server Error"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_function_failure_is_500_internal_server_error() {
    let (_h, stack) = scripted_stack().await;
    let target = url(&stack, "acme");
    for behaviour in ["error", "sleep", "huge", "invalid"] {
        let (status, _, answer) = post(&target, &behaving(behaviour), b"{}").await.unwrap();
        assert_eq!(
            (status, String::from_utf8_lossy(&answer).into_owned()),
            (500, INTERNAL_SERVER_ERROR.to_owned()),
            "{behaviour}"
        );
    }
    let (status, _, answer) = post(&target, &behaving("ok"), b"{}").await.unwrap();
    assert_eq!(
        (status, answer),
        (200, b"ok".to_vec()),
        "and then it answers again"
    );
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_line_and_header_values_are_held_to_10240_bytes() {
    let (_h, stack) = scripted_stack().await;
    let target = url(&stack, "acme");
    let rest = target.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let body = b"{}";
    // What `post` sends besides our headers: the request line, and the values of `Host`,
    // `Content-Length` and `Connection`.
    let sent = "POST /".len()
        + path.len()
        + " HTTP/1.1".len()
        + authority.len()
        + body.len().to_string().len()
        + "close".len()
        + "ok".len();
    for (pad, expected) in [(0, 200), (1, 431)] {
        let fill = HTTP_API_MAX_REQUEST_LINE_AND_HEADERS_BYTES - sent + pad;
        let mut headers = behaving("ok");
        headers.push(("x-pad".to_owned(), "p".repeat(fill)));
        let (status, _, answer) = post(&target, &headers, body).await.unwrap();
        assert_eq!(status, expected, "{}", String::from_utf8_lossy(&answer));
        if expected == 431 {
            assert_eq!(answer, br#"{"message":"Request Header Fields Too Large"}"#);
        }
    }
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_over_lambdas_6_mb_is_413_and_never_invoked() {
    let (_h, stack) = scripted_stack().await;
    let target = url(&stack, "acme");
    let mut headers = behaving("ok");
    headers.push(("content-type".to_owned(), "text/plain".to_owned()));
    // Under API Gateway's 10 MiB, but the event that carries it is over Lambda's 6 MB.
    let body = vec![b'a'; LAMBDA_MAX_REQUEST_PAYLOAD_BYTES];
    let (status, _, answer) = post(&target, &headers, &body).await.unwrap();
    assert_eq!(
        (status, String::from_utf8_lossy(&answer).into_owned()),
        (413, r#"{"message":"Request Entity Too Large"}"#.to_owned())
    );
    assert_eq!(stack.function("acme-ingest").unwrap().starts(), 0);
    // An event within it is invoked.
    let body = vec![b'a'; LAMBDA_MAX_REQUEST_PAYLOAD_BYTES - 64 * 1024];
    let (status, _, answer) = post(&target, &headers, &body).await.unwrap();
    assert_eq!((status, answer), (200, b"ok".to_vec()));
    stack.shutdown().await;
}
