//! Ingest through its public entry point: a real payload-2.0 request in, a response out, and the
//! queue inspected after every case.

use std::time::Duration;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::encodings::Body;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use http::header::CONTENT_TYPE;
use serde_json::{Value, json};

use super::*;
use crate::envelope::Envelope;
use crate::queue::MemoryQueue;
use crate::verify::test_support::{hmac_sha256_base64, hmac_sha256_hex, scheme as named};
use crate::verify::{Scheme, SigningSecret, Verifier};

pub(super) const NOW: i64 = 1_764_400_000;
const SECRET: &str = "whsec_dGVzdC1zZWNyZXQtZm9yLWhvb2tsaW5l";

pub(super) fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(NOW, 0).unwrap()
}

pub(super) fn ingest(scheme: Scheme, queue: MemoryQueue) -> Ingest<MemoryQueue> {
    let verifier = Verifier::new(
        scheme,
        &[SigningSecret::new(SECRET)],
        Duration::from_secs(300),
    )
    .unwrap();
    Ingest::new("acme", verifier, queue)
}

/// A payload-2.0 request as API Gateway sends it.
pub(super) fn request(
    method: &str,
    headers: &[(String, String)],
    body: &[u8],
    base64: bool,
) -> ApiGatewayV2httpRequest {
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), Value::String(v.clone())))
        .collect();
    let body = if base64 {
        base64::engine::general_purpose::STANDARD.encode(body)
    } else {
        String::from_utf8(body.to_vec()).unwrap()
    };
    serde_json::from_value(json!({
        "version": "2.0",
        "routeKey": "POST /webhooks/acme",
        "rawPath": "/webhooks/acme",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "http": { "method": method, "path": "/webhooks/acme", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "Stripe/1.0" },
            "requestId": "req-1",
            "routeKey": "POST /webhooks/acme",
            "stage": "$default",
            "time": "29/Nov/2026:06:00:00 +0000",
            "timeEpoch": NOW * 1000
        },
        "body": body,
        "isBase64Encoded": base64
    }))
    .unwrap()
}

/// Headers that sign `body` at `ts` the way each provider does.
pub(super) fn signed(scheme: &Scheme, body: &[u8], ts: i64) -> Vec<(String, String)> {
    let key = SECRET.as_bytes();
    let t = ts.to_string();
    let pairs: Vec<(&str, String)> = match scheme.name() {
        "stripe" => vec![(
            "Stripe-Signature",
            format!(
                "t={t},v1={}",
                hmac_sha256_hex(key, &[t.as_bytes(), b".", body])
            ),
        )],
        "github" => vec![
            (
                "X-Hub-Signature-256",
                format!("sha256={}", hmac_sha256_hex(key, &[body])),
            ),
            ("X-GitHub-Event", "push".into()),
            (
                "X-GitHub-Delivery",
                "72d3162e-cc78-11e3-81ab-4c9367dc0958".into(),
            ),
        ],
        "slack" => vec![
            (
                "X-Slack-Signature",
                format!(
                    "v0={}",
                    hmac_sha256_hex(key, &[b"v0:", t.as_bytes(), b":", body])
                ),
            ),
            ("X-Slack-Request-Timestamp", t.clone()),
        ],
        "shopify" => vec![
            ("X-Shopify-Hmac-Sha256", hmac_sha256_base64(key, &[body])),
            ("X-Shopify-Topic", "orders/create".into()),
            (
                "X-Shopify-Webhook-Id",
                "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043".into(),
            ),
        ],
        "standard-webhooks" => {
            let raw_key = crate::verify::test_support::standard_webhooks_key(SECRET);
            vec![
                ("webhook-id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W".into()),
                ("webhook-timestamp", t.clone()),
                (
                    "webhook-signature",
                    format!(
                        "v1,{}",
                        hmac_sha256_base64(
                            &raw_key,
                            &[
                                b"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W.",
                                t.as_bytes(),
                                b".",
                                body
                            ]
                        )
                    ),
                ),
            ]
        }
        "generic-hmac" => vec![("X-Signature", hmac_sha256_hex(key, &[body]))],
        other => panic!("no reference signature for {other}"),
    };
    let mut out: Vec<(String, String)> =
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    out.push(("Content-Type".into(), "application/json".into()));
    out
}

fn all_schemes() -> Vec<Scheme> {
    [
        "stripe",
        "github",
        "slack",
        "shopify",
        "standard-webhooks",
        "generic-hmac",
    ]
    .map(named)
    .to_vec()
}

fn event_body() -> Vec<u8> {
    // Spacing and key order a re-serialiser would not keep.
    br#"{ "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy", "type": "event_callback",  "event_id": "Ev1", "event": {"type": "app_mention"}, "amount": 1.50 }"#.to_vec()
}

pub(super) fn body_json(response: &ApiGatewayV2httpResponse) -> Value {
    match &response.body {
        Some(Body::Text(text)) => serde_json::from_str(text).unwrap(),
        other => panic!("expected a JSON text body, got {other:?}"),
    }
}

async fn rejected(
    ingest: &Ingest<MemoryQueue>,
    req: ApiGatewayV2httpRequest,
    status: i64,
    code: &str,
) {
    let response = ingest.handle_at(req, now()).await;
    assert_eq!(response.status_code, status, "{:?}", response.body);
    assert_eq!(body_json(&response)["error"], code);
    assert!(
        ingest.queue().messages().is_empty(),
        "a rejected request enqueued something"
    );
}

#[tokio::test]
async fn a_signed_delivery_is_queued_with_its_exact_bytes() {
    for scheme in all_schemes() {
        let ingest = ingest(scheme.clone(), MemoryQueue::new());
        let body = event_body();
        let response = ingest
            .handle_at(
                request("POST", &signed(&scheme, &body, NOW), &body, false),
                now(),
            )
            .await;
        assert_eq!(response.status_code, 200, "{scheme}: {:?}", response.body);
        let json = body_json(&response);
        assert_eq!(
            json,
            json!({ "status": "received", "message_id": "memory-1" }),
            "{scheme}"
        );
        let messages = ingest.queue().messages();
        assert_eq!(messages.len(), 1);
        let envelope = Envelope::from_json(&messages[0].body).unwrap();
        assert_eq!(envelope.body, body, "{scheme}");
        assert_eq!(envelope.provider, "acme");
        assert_eq!(envelope.received_at, now());
        assert_eq!(envelope.content_type.as_deref(), Some("application/json"));
        assert_eq!(messages[0].event_type, envelope.event_type);
        let expected = match scheme.name() {
            "stripe" => (Some("event_callback"), Some("evt_1NG8Du2eZvKYlo2CUI79vXWy")),
            "github" => (Some("push"), Some("72d3162e-cc78-11e3-81ab-4c9367dc0958")),
            "slack" => (Some("app_mention"), Some("Ev1")),
            "shopify" => (
                Some("orders/create"),
                Some("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"),
            ),
            "standard-webhooks" => (
                Some("event_callback"),
                Some("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"),
            ),
            _ => (None, None),
        };
        assert_eq!(
            (
                envelope.event_type.as_deref(),
                envelope.delivery_id.as_deref()
            ),
            expected,
            "{scheme}"
        );
    }
}

#[tokio::test]
async fn an_event_type_sqs_refuses_as_an_attribute_stays_in_the_envelope_only() {
    let scheme = named("stripe");
    let ingest = ingest(scheme.clone(), MemoryQueue::new());
    let body = br#"{"id":"evt_1","type":"invoice.\u0001\uffff"}"#.to_vec();
    let response = ingest
        .handle_at(
            request("POST", &signed(&scheme, &body, NOW), &body, false),
            now(),
        )
        .await;
    assert_eq!(response.status_code, 200, "{:?}", response.body);
    let messages = ingest.queue().messages();
    assert_eq!(messages[0].event_type, None);
    let envelope = Envelope::from_json(&messages[0].body).unwrap();
    assert_eq!(
        envelope.event_type.as_deref(),
        Some("invoice.\u{1}\u{FFFF}")
    );
    assert!(!messages[0].body.contains('\u{FFFF}'));
}

#[tokio::test]
async fn a_binary_body_is_queued_byte_for_byte() {
    let scheme = named("shopify");
    let ingest = ingest(scheme.clone(), MemoryQueue::new());
    let body: Vec<u8> = vec![0x00, 0xff, 0xfe, 0x80, b'{', 0xc3];
    let response = ingest
        .handle_at(
            request("POST", &signed(&scheme, &body, NOW), &body, true),
            now(),
        )
        .await;
    assert_eq!(response.status_code, 200);
    let envelope = Envelope::from_json(&ingest.queue().messages()[0].body).unwrap();
    assert_eq!(envelope.body, body);
}

#[tokio::test]
async fn tampered_unsigned_and_wrongly_keyed_deliveries_are_401() {
    for scheme in all_schemes() {
        let ingest = ingest(scheme.clone(), MemoryQueue::new());
        let body = event_body();
        let mut tampered = body.clone();
        tampered[3] = b'X';
        rejected(
            &ingest,
            request("POST", &signed(&scheme, &body, NOW), &tampered, false),
            401,
            "invalid_signature",
        )
        .await;
        let unsigned = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        rejected(
            &ingest,
            request("POST", &unsigned, &body, false),
            401,
            "missing_signature",
        )
        .await;
        let mut garbled = signed(&scheme, &body, NOW);
        for (name, value) in garbled.iter_mut() {
            if name.to_ascii_lowercase().contains("sig")
                || name.to_ascii_lowercase().contains("hmac")
            {
                *value = format!("{value}garbage");
            }
        }
        rejected(
            &ingest,
            request("POST", &garbled, &body, false),
            401,
            "malformed_signature",
        )
        .await;
    }
}

#[tokio::test]
async fn stale_and_future_timestamps_are_401() {
    for scheme in [named("stripe"), named("slack"), named("standard-webhooks")] {
        let ingest = ingest(scheme.clone(), MemoryQueue::new());
        let body = event_body();
        for ts in [NOW - 301, NOW + 301] {
            rejected(
                &ingest,
                request("POST", &signed(&scheme, &body, ts), &body, false),
                401,
                "timestamp_out_of_tolerance",
            )
            .await;
        }
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_before_anything_else() {
    for scheme in all_schemes() {
        let ingest = ingest(scheme.clone(), MemoryQueue::new()).with_max_body_bytes(64);
        let at_limit =
            br#"{"id":"evt_1","type":"a","event":{"type":"b"},"pad":"012345678"}"#.to_vec();
        assert_eq!(at_limit.len(), 64);
        let ok = ingest
            .handle_at(
                request("POST", &signed(&scheme, &at_limit, NOW), &at_limit, false),
                now(),
            )
            .await;
        assert_eq!(ok.status_code, 200, "{scheme}: {:?}", ok.body);
        let ingest = ingest_with_limit(scheme.clone(), 63);
        // Unsigned: the limit is checked before the signature.
        rejected(
            &ingest,
            request("POST", &[], &at_limit, false),
            413,
            "payload_too_large",
        )
        .await;
        rejected(
            &ingest,
            request("POST", &[], &at_limit, true),
            413,
            "payload_too_large",
        )
        .await;
    }
}

fn ingest_with_limit(scheme: Scheme, limit: usize) -> Ingest<MemoryQueue> {
    ingest(scheme, MemoryQueue::new()).with_max_body_bytes(limit)
}

#[tokio::test]
async fn an_envelope_over_the_sqs_limit_is_413() {
    let scheme = named("github");
    let ingest =
        ingest(scheme.clone(), MemoryQueue::new()).with_max_body_bytes(SQS_MAX_MESSAGE_BYTES);
    // Under the body limit, but base64 in the envelope makes it 4/3 as large.
    let body = vec![0xffu8; 900 * 1024];
    rejected(
        &ingest,
        request("POST", &signed(&scheme, &body, NOW), &body, true),
        413,
        "payload_too_large",
    )
    .await;
    // The answer says which limit it was, with the real numbers.
    let response = ingest
        .handle_at(
            request("POST", &signed(&scheme, &body, NOW), &body, true),
            now(),
        )
        .await;
    let message = body_json(&response)["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("the body of 921600 bytes makes a queue message of "),
        "{message}"
    );
    assert!(
        message.contains(&format!("over SQS's {SQS_MAX_MESSAGE_BYTES} byte limit")),
        "{message}"
    );
    let default_limit = ingest_with_limit(scheme.clone(), DEFAULT_MAX_BODY_BYTES);
    let text = vec![b'a'; DEFAULT_MAX_BODY_BYTES];
    let response = default_limit
        .handle_at(
            request("POST", &signed(&scheme, &text, NOW), &text, false),
            now(),
        )
        .await;
    assert_eq!(
        response.status_code, 200,
        "a body at the default limit fits one SQS message"
    );
    assert!(default_limit.queue().messages()[0].size() <= SQS_MAX_MESSAGE_BYTES);
}

#[tokio::test]
async fn a_signed_but_malformed_body_is_400() {
    for scheme in [named("stripe"), named("standard-webhooks"), named("slack")] {
        let ingest = ingest(scheme.clone(), MemoryQueue::new());
        let body = b"{\"id\": \"evt_1\", \"type\":".to_vec();
        rejected(
            &ingest,
            request("POST", &signed(&scheme, &body, NOW), &body, false),
            400,
            "malformed_body",
        )
        .await;
    }
}

#[tokio::test]
async fn an_empty_or_non_utf8_body_is_handled_without_panic() {
    for scheme in all_schemes() {
        let ingest = ingest(scheme.clone(), MemoryQueue::new());
        for body in [&b""[..], &[0xff, 0xfe, 0xfd][..]] {
            let response = ingest
                .handle_at(
                    request("POST", &signed(&scheme, body, NOW), body, true),
                    now(),
                )
                .await;
            let expected = if matches!(scheme.name(), "stripe" | "standard-webhooks") {
                400
            } else {
                200
            };
            assert_eq!(response.status_code, expected, "{scheme} {body:?}");
        }
    }
}

#[tokio::test]
async fn a_body_marked_base64_that_is_not_is_400() {
    let ingest = ingest(named("github"), MemoryQueue::new());
    let mut req = request("POST", &signed(&named("github"), b"x", NOW), b"", false);
    req.body = Some("%%%not base64".into());
    req.is_base64_encoded = true;
    rejected(&ingest, req, 400, "malformed_request").await;
}

#[tokio::test]
async fn only_post_is_accepted() {
    let ingest = ingest(named("github"), MemoryQueue::new());
    let body = event_body();
    rejected(
        &ingest,
        request("GET", &signed(&named("github"), &body, NOW), &body, false),
        405,
        "method_not_allowed",
    )
    .await;
}

#[tokio::test]
async fn a_queue_failure_is_503_with_retry_after_and_never_200() {
    for scheme in all_schemes() {
        let ingest = ingest(scheme.clone(), MemoryQueue::failing());
        let body = event_body();
        let response = ingest
            .handle_at(
                request("POST", &signed(&scheme, &body, NOW), &body, false),
                now(),
            )
            .await;
        assert_eq!(response.status_code, 503);
        assert_eq!(
            response
                .headers
                .get("retry-after")
                .map(|v| v.to_str().unwrap()),
            Some("5")
        );
        let json = body_json(&response);
        assert_eq!(json["error"], "queue_unavailable");
        assert!(
            !json["message"].as_str().unwrap().contains("memory queue"),
            "internals leaked: {json}"
        );
        assert!(ingest.queue().messages().is_empty());
    }
}

#[tokio::test]
async fn slack_handshakes_are_answered_and_not_queued() {
    let scheme = named("slack");
    let ingest = ingest(scheme.clone(), MemoryQueue::new());
    let body = br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let response = ingest
        .handle_at(
            request("POST", &signed(&scheme, body, NOW), body, false),
            now(),
        )
        .await;
    assert_eq!(response.status_code, 200);
    assert_eq!(
        body_json(&response),
        json!({"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    );
    let ssl = b"ssl_check=1&token=Jhj5dZrVaK7ZwHHjRyZWjbDl";
    let response = ingest
        .handle_at(
            request("POST", &signed(&scheme, ssl, NOW), ssl, false),
            now(),
        )
        .await;
    assert_eq!((response.status_code, response.body), (200, None));
    assert!(ingest.queue().messages().is_empty());
    // A handshake must be signed like everything else.
    let mut forged = signed(&scheme, body, NOW);
    forged[0].1 = format!("v0={}", "0".repeat(64));
    rejected(
        &ingest,
        request("POST", &forged, body, false),
        401,
        "invalid_signature",
    )
    .await;
}

#[tokio::test]
async fn duplicated_signature_headers_are_401() {
    // API Gateway joins repeated headers with a comma.
    let scheme = named("github");
    let ingest = ingest(scheme.clone(), MemoryQueue::new());
    let body = event_body();
    let mut headers = signed(&scheme, &body, NOW);
    let sig = headers[0].1.clone();
    headers[0].1 = format!("{sig},{sig}");
    rejected(
        &ingest,
        request("POST", &headers, &body, false),
        401,
        "malformed_signature",
    )
    .await;
}

#[tokio::test]
async fn logs_carry_the_outcome_and_never_the_secret() {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let scheme = named("stripe");
    let body = event_body();
    let ok = ingest(scheme.clone(), MemoryQueue::new());
    ok.handle_at(
        request("POST", &signed(&scheme, &body, NOW), &body, false),
        now(),
    )
    .await;
    ok.handle_at(
        request("POST", &signed(&scheme, &body, NOW - 1000), &body, false),
        now(),
    )
    .await;
    ok.handle_at(
        request("POST", &signed(&scheme, &body, NOW), b"{}", false),
        now(),
    )
    .await;
    let down = ingest(scheme.clone(), MemoryQueue::failing());
    down.handle_at(
        request("POST", &signed(&scheme, &body, NOW), &body, false),
        now(),
    )
    .await;

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "one line per request: {logs}");
    let statuses: Vec<i64> = lines
        .iter()
        .map(|l| l["fields"]["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 401, 401, 503]);
    assert_eq!(lines[0]["fields"]["provider"], "acme");
    assert_eq!(
        lines[0]["fields"]["delivery_id"],
        "evt_1NG8Du2eZvKYlo2CUI79vXWy"
    );
    assert!(lines.iter().all(|l| l["fields"]["latency_ms"].is_f64()));
    assert!(
        !logs.contains(SECRET) && !logs.contains("dGVzdC1zZWNyZXQ"),
        "a secret reached the logs"
    );
}

/// A loader that hands out `secret` and counts its calls.
fn counting_loader(
    secret: &'static str,
) -> (SecretLoader, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&calls);
    let load: SecretLoader = Box::new(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async move { Ok(vec![SigningSecret::new(secret)]) })
    });
    (load, calls)
}

#[tokio::test]
async fn a_mismatch_reads_the_secrets_again_at_most_once_per_interval() {
    let scheme = named("github");
    let rotated = "rotated-secret";
    let (load, calls) = counting_loader(rotated);
    let ingest = ingest(scheme.clone(), MemoryQueue::new())
        .with_secret_refresh(load, Duration::from_secs(3600));
    let body = event_body();
    // The happy path never reads the secrets.
    let ok = ingest
        .handle_at(
            request("POST", &signed(&scheme, &body, NOW), &body, false),
            now(),
        )
        .await;
    assert_eq!(ok.status_code, 200);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0);
    // Signed with the new secret: refused until the interval since the cold start has passed.
    let new_signature = vec![(
        "x-hub-signature-256".to_owned(),
        format!("sha256={}", hmac_sha256_hex(rotated.as_bytes(), &[&body])),
    )];
    let refused = ingest
        .handle_at(request("POST", &new_signature, &body, false), now())
        .await;
    assert_eq!(refused.status_code, 401);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0);

    let (load, calls) = counting_loader(rotated);
    let ingest = ingest_with_refresh(scheme.clone(), load);
    let accepted = ingest
        .handle_at(request("POST", &new_signature, &body, false), now())
        .await;
    assert_eq!(accepted.status_code, 200, "{:?}", accepted.body);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    // A forged signature right after: no second read within the interval.
    let forged = vec![(
        "x-hub-signature-256".to_owned(),
        format!("sha256={}", hmac_sha256_hex(b"forged", &[&body])),
    )];
    let refused = ingest
        .handle_at(request("POST", &forged, &body, false), now())
        .await;
    assert_eq!(refused.status_code, 401);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// An ingest whose refresh is due at once (the cold start is long ago) and then not again for
/// an hour.
fn ingest_with_refresh(scheme: Scheme, load: SecretLoader) -> Ingest<MemoryQueue> {
    let due_now_then_hourly = Duration::from_secs(3600);
    let ingest = ingest(scheme, MemoryQueue::new()).with_secret_refresh(load, due_now_then_hourly);
    ingest.verifiers.backdate_last_read(due_now_then_hourly);
    ingest
}

#[tokio::test]
async fn slack_forms_are_acknowledged_with_an_empty_200_and_events_with_json() {
    let scheme = named("slack");
    let ingest = ingest(scheme.clone(), MemoryQueue::new());
    for form in [
        &b"command=%2Fdeploy&text=prod&trigger_id=1.2.3&response_url=https%3A%2F%2Fhooks.slack.com%2Fx"[..],
        b"payload=%7B%22type%22%3A%22block_actions%22%7D",
    ] {
        let response = ingest
            .handle_at(request("POST", &signed(&scheme, form, NOW), form, false), now())
            .await;
        assert_eq!(response.status_code, 200);
        // Slack would post any body as a message (or read it as a response_action).
        assert_eq!(response.body, None);
        assert!(response.headers.get(CONTENT_TYPE).is_none());
    }
    assert_eq!(ingest.queue().messages().len(), 2, "both forms are queued");
    let event = event_body();
    let response = ingest
        .handle_at(
            request("POST", &signed(&scheme, &event, NOW), &event, false),
            now(),
        )
        .await;
    assert_eq!(body_json(&response)["status"], "received");
}

/// Every handshake is answered only once its signature verifies (issue 13): an unsigned or
/// wrongly signed one is 401 with nothing answered and nothing queued.
#[tokio::test]
async fn handshakes_are_answered_only_after_verification() {
    use crate::sign::Signer;
    use crate::verify::Outgoing;
    /// Scheme, body, headers that are not the signature's, what the answer says.
    type Handshake<'a> = (&'a str, &'a [u8], &'a [(&'a str, &'a str)], &'a str);
    let handshakes: [Handshake; 4] = [
        (
            "zoom",
            br#"{"event":"endpoint.url_validation","payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1764400000000}"#,
            &[],
            "encryptedToken",
        ),
        (
            "twitch",
            br#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387","type":"channel.follow","version":"1"}}"#,
            &[("twitch-eventsub-message-type", "webhook_callback_verification")],
            "pogchamp-kappa-360noscope-vohiyo",
        ),
        ("discord", br#"{"type":1}"#, &[], r#"{"type":1}"#),
        (
            "slack",
            br#"{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#,
            &[],
            "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        ),
    ];
    for (name, body, extra, answer) in handshakes {
        let scheme = named(name);
        let credentials = scheme.local_credentials(&[3; 32]);
        let verifier = Verifier::new(
            scheme.clone(),
            &[SigningSecret::new(credentials.verify.as_str())],
            Duration::from_secs(600),
        )
        .unwrap();
        let ingest = Ingest::new("acme", verifier, MemoryQueue::new());
        let signed = Signer::new(scheme.clone(), &credentials.sign)
            .unwrap()
            .sign(&Outgoing {
                url: "",
                body,
                timestamp: NOW,
                delivery_id: "msg_1",
            })
            .unwrap();
        let mut headers = signed.headers.clone();
        headers.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let response = ingest
            .handle_at(request("POST", &headers, body, false), now())
            .await;
        assert_eq!(response.status_code, 200, "{name}");
        let Some(Body::Text(text)) = response.body else {
            panic!("{name}: no answer");
        };
        assert!(text.contains(answer), "{name}: {text}");
        // Unsigned: refused, nothing answered.
        let unsigned: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let response = ingest
            .handle_at(request("POST", &unsigned, body, false), now())
            .await;
        assert_eq!(response.status_code, 401, "{name}");
        let Some(Body::Text(text)) = response.body else {
            panic!("{name}: no error body");
        };
        assert!(!text.contains(answer), "{name}: {text}");
        assert!(ingest.queue().messages().is_empty(), "{name}");
    }
}

/// `group_by` as a header (Shopify's shop domain): the group id is the header's value; without
/// the header, the provider's name; a value SQS refuses as a group id, its SHA-256. None of
/// them refuses the delivery.
#[tokio::test]
async fn the_message_group_comes_from_group_by_and_never_refuses_a_delivery() {
    let scheme = named("stripe");
    let ingest =
        ingest(scheme.clone(), MemoryQueue::new()).with_group_by("X-Shop-Domain".parse().unwrap());
    let long = "s".repeat(129);
    for (i, shop) in [Some("a.myshopify.com"), None, Some(long.as_str())]
        .into_iter()
        .enumerate()
    {
        let body = format!(r#"{{"id":"evt_{i}","type":"invoice.paid"}}"#).into_bytes();
        let mut headers = signed(&scheme, &body, NOW);
        if let Some(shop) = shop {
            headers.push(("x-shop-domain".into(), shop.into()));
        }
        let response = ingest
            .handle_at(request("POST", &headers, &body, false), now())
            .await;
        assert_eq!(response.status_code, 200, "{:?}", response.body);
    }
    let groups: Vec<String> = ingest
        .queue()
        .messages()
        .into_iter()
        .map(|m| m.group_id)
        .collect();
    assert_eq!(groups[0], "a.myshopify.com");
    assert_eq!(groups[1], "acme");
    assert_eq!(
        groups[2],
        crate::queue::group::sqs_group_id(long.as_bytes())
    );
    assert_eq!(groups[2].len(), 64);
}

/// What each request's metrics count (crate::metrics writes them as EMF): received always;
/// queued with the queue's latency; refused by code, with a latency only when a send was made.
#[tokio::test]
async fn each_request_is_measured_as_queued_or_rejected_by_code() {
    let scheme = named("stripe");
    let body = br#"{"id":"evt_1","type":"invoice.paid"}"#.to_vec();
    let good = || request("POST", &signed(&scheme, &body, NOW), &body, false);

    let ok = ingest(scheme.clone(), MemoryQueue::new());
    let (response, outcome) = ok.handle_measured(good(), now(), None).await;
    assert_eq!(response.status_code, 200);
    assert_eq!((outcome.code, outcome.enqueued), (None, true));
    assert!(outcome.enqueue_latency_ms.is_some_and(|ms| ms >= 0.0));

    let mut tampered = body.clone();
    tampered[3] = b'X';
    let (response, outcome) = ok
        .handle_measured(
            request("POST", &signed(&scheme, &body, NOW), &tampered, false),
            now(),
            None,
        )
        .await;
    assert_eq!(response.status_code, 401);
    assert_eq!(
        (outcome.code, outcome.enqueued, outcome.enqueue_latency_ms),
        (Some("invalid_signature"), false, None)
    );

    let down = ingest(scheme.clone(), MemoryQueue::failing());
    let (response, outcome) = down.handle_measured(good(), now(), None).await;
    assert_eq!(response.status_code, 503);
    assert_eq!(
        (outcome.code, outcome.enqueued),
        (Some(QUEUE_UNAVAILABLE), false)
    );
    assert!(outcome.enqueue_latency_ms.is_some());
    assert_eq!(ok.stage(), crate::config::DEFAULT_STAGE);
}

/// The invocation's X-Ray trace header rides on the queue message (SQS's `AWSTraceHeader`), so
/// that Lambda continues the trace in the processor; one SQS would refuse is left out.
#[tokio::test]
async fn the_trace_header_travels_with_the_message() {
    let scheme = named("stripe");
    let ingest = ingest(scheme.clone(), MemoryQueue::new());
    let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    for trace in [Some(header), None, Some("Root=1-a b"), Some("")] {
        let body = br#"{"id":"evt_1","type":"invoice.paid"}"#.to_vec();
        let (response, _) = ingest
            .handle_measured(
                request("POST", &signed(&scheme, &body, NOW), &body, false),
                now(),
                trace,
            )
            .await;
        assert_eq!(response.status_code, 200);
    }
    let traces: Vec<Option<String>> = ingest
        .queue()
        .messages()
        .into_iter()
        .map(|m| m.trace_header)
        .collect();
    assert_eq!(traces, [Some(header.to_owned()), None, None, None]);
}
