//! Bodies too large for a queue message, kept in the body bucket ([`crate::claim_check`]).

use std::sync::Arc;

use super::tests::{NOW, body_json, ingest, now, request, signed};
use super::*;
use crate::claim_check::MemoryBodies;
use crate::envelope::Envelope;
use crate::queue::MemoryQueue;
use crate::verify::test_support::scheme as named;

/// Ingest with a body bucket and the largest body limit.
fn with_bucket(queue: MemoryQueue, bodies: &MemoryBodies) -> Ingest<MemoryQueue> {
    ingest(named("github"), queue)
        .with_body_store(Arc::new(bodies.clone()))
        .with_max_body_bytes(MAX_BODY_BYTES)
}

/// A JSON body of `size` bytes.
fn big_json(size: usize) -> Vec<u8> {
    let mut body = b"{\"pad\":\"".to_vec();
    body.resize(size - 2, b'x');
    body.extend_from_slice(b"\"}");
    body
}

#[tokio::test]
async fn a_body_too_large_for_a_message_is_stored_then_queued_as_a_reference() {
    let (queue, bodies) = (MemoryQueue::new(), MemoryBodies::new("bodies"));
    let ingest = with_bucket(queue.clone(), &bodies);
    let scheme = named("github");
    for (body, base64) in [
        (big_json(3_000_000), false),
        (big_json(MAX_BODY_BYTES), false),
        ((0..MAX_BASE64_BODY_BYTES).map(|i| i as u8).collect(), true),
    ] {
        let response = ingest
            .handle_at(
                request("POST", &signed(&scheme, &body, NOW), &body, base64),
                now(),
            )
            .await;
        assert_eq!(response.status_code, 200, "{:?}", response.body);
        let message = queue.messages().pop().unwrap();
        assert!(message.size() < 64 * 1024, "{}", message.size());
        let envelope = Envelope::from_json(&message.body).unwrap();
        let body_ref = envelope.body_ref.clone().unwrap();
        assert_eq!(body_ref.bucket, "bodies");
        assert!(
            body_ref.key.starts_with("acme/2025/11/29/") && body_ref.key.ends_with(&envelope.id),
            "{}",
            body_ref.key
        );
        assert_eq!(body_ref.size, body.len() as u64);
        // Byte for byte, and the reference's hash is the body's.
        assert_eq!(bodies.objects()[&body_ref.key], body);
        assert_eq!(body_ref.check(body.clone()), Ok(body));
    }
}

#[tokio::test]
async fn a_body_that_fits_a_message_stays_in_it() {
    let (queue, bodies) = (MemoryQueue::new(), MemoryBodies::new("bodies"));
    let ingest = with_bucket(queue.clone(), &bodies);
    let scheme = named("github");
    let body = big_json(MAX_INLINE_BODY_BYTES);
    let response = ingest
        .handle_at(
            request("POST", &signed(&scheme, &body, NOW), &body, false),
            now(),
        )
        .await;
    assert_eq!(response.status_code, 200);
    let envelope = Envelope::from_json(&queue.messages()[0].body).unwrap();
    assert_eq!((envelope.body_ref, envelope.body), (None, body));
    assert!(bodies.objects().is_empty());
}

#[tokio::test]
async fn a_bucket_that_refuses_the_body_is_503_and_nothing_is_queued() {
    let (queue, bodies) = (MemoryQueue::new(), MemoryBodies::new("bodies"));
    bodies.set_failing(true);
    let ingest = with_bucket(queue.clone(), &bodies);
    let scheme = named("github");
    let body = big_json(2_000_000);
    let response = ingest
        .handle_at(
            request("POST", &signed(&scheme, &body, NOW), &body, false),
            now(),
        )
        .await;
    assert_eq!(response.status_code, 503);
    assert_eq!(body_json(&response)["error"], BODY_STORE_UNAVAILABLE);
    assert_eq!(response.headers["retry-after"], "5");
    assert!(queue.messages().is_empty());
}

#[tokio::test]
async fn a_queue_that_refuses_the_reference_is_503_and_leaves_only_an_orphan_body() {
    let (queue, bodies) = (MemoryQueue::failing(), MemoryBodies::new("bodies"));
    let ingest = with_bucket(queue.clone(), &bodies);
    let scheme = named("github");
    let body = big_json(2_000_000);
    let response = ingest
        .handle_at(
            request("POST", &signed(&scheme, &body, NOW), &body, false),
            now(),
        )
        .await;
    assert_eq!(response.status_code, 503);
    assert_eq!(body_json(&response)["error"], QUEUE_UNAVAILABLE);
    // Nothing a processor could see; the object is left to the bucket's lifecycle rule (ingest
    // may only put).
    assert!(queue.messages().is_empty());
    assert_eq!(bodies.objects().len(), 1);
}

#[tokio::test]
async fn without_a_bucket_a_body_too_large_for_a_message_is_413_naming_what_is_missing() {
    let queue = MemoryQueue::new();
    let ingest = ingest(named("github"), queue.clone()).with_max_body_bytes(MAX_BODY_BYTES);
    let scheme = named("github");
    let body = big_json(2_000_000);
    let response = ingest
        .handle_at(
            request("POST", &signed(&scheme, &body, NOW), &body, false),
            now(),
        )
        .await;
    assert_eq!(response.status_code, 413);
    let message = body_json(&response)["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("the body of 2000000 bytes makes a queue message of ")
            && message.contains("HOOKLINE_BODY_BUCKET"),
        "{message}"
    );
    assert!(queue.messages().is_empty());
}

#[tokio::test]
async fn a_binary_body_over_what_base64_leaves_of_the_event_is_413_saying_so() {
    let (queue, bodies) = (MemoryQueue::new(), MemoryBodies::new("bodies"));
    let ingest = with_bucket(queue.clone(), &bodies);
    let scheme = named("github");
    let body = vec![0xffu8; MAX_BASE64_BODY_BYTES + 1];
    let response = ingest
        .handle_at(
            request("POST", &signed(&scheme, &body, NOW), &body, true),
            now(),
        )
        .await;
    assert_eq!(response.status_code, 413);
    let message = body_json(&response)["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with(&format!(
            "the body is {} bytes, over the {MAX_BASE64_BODY_BYTES} byte limit of bodies API Gateway base64-encodes",
            MAX_BASE64_BODY_BYTES + 1
        )),
        "{message}"
    );
    assert!(queue.messages().is_empty() && bodies.objects().is_empty());
    // The same size as text is within the limit.
    let text = vec![b'a'; MAX_BASE64_BODY_BYTES + 1];
    let response = ingest
        .handle_at(
            request("POST", &signed(&scheme, &text, NOW), &text, false),
            now(),
        )
        .await;
    assert_eq!(response.status_code, 200);
}

#[test]
fn the_largest_bodies_are_what_lambdas_6_mb_event_leaves() {
    assert_eq!(MAX_BODY_BYTES, 6_291_456 - 32_768);
    assert_eq!(MAX_BASE64_BODY_BYTES, 4_694_016);
}
