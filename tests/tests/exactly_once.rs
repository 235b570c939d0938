//! Exactly-once effects on the local stack, through the real binaries (issue 16): the
//! processor's idempotency store (on the stack's DynamoDB-compatible endpoint) lets a
//! delivery's handler complete once, whatever redelivers it: the provider sending it again, a
//! `dlq redrive` of a copy, a processor killed mid-handler, a restart of the whole stack.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use hookline::Envelope;
use hookline_e2e::*;

/// Stripe (its signed event id is the dedup id); failed messages come back after 6 s.
const MANIFEST: &str = r#"
[project]
name = "e2e"

[[providers]]
name = "stripe"
template = "stripe"
[providers.queue]
visibility_timeout_secs = 6
[providers.processor]
timeout_secs = 1
"#;

fn event(id: &str, note: &str) -> Vec<u8> {
    format!(r#"{{"id":"{id}","object":"event","type":"invoice.paid","created":1764400000,"livemode":false,"note":"{note}","data":{{"object":{{"id":"in_1"}}}}}}"#).into_bytes()
}

/// Waits until the queue and the DLQ are empty, then a little more: nothing left to run.
async fn settled(client: &aws_sdk_sqs::Client, queue: &str, dlq: &str) {
    for _ in 0..600 {
        if depth(client, queue).await == 0 && depth(client, dlq).await == 0 {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            if depth(client, queue).await == 0 && depth(client, dlq).await == 0 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the queues did not empty in 60 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_delivery_sent_three_times_and_redriven_runs_its_handler_once() {
    let h = harness(MANIFEST);
    let stack = h.start().await;
    let info = stack.providers()[0].clone();
    let client = sqs(&stack.sqs_endpoint()).await;
    let body = event("evt_once_1", "three times");
    for _ in 0..3 {
        // Each attempt signed anew, as Stripe does when it retries.
        let (status, _, answer) = post(&info.webhook_url, &signed(&stack, "stripe", &body), &body)
            .await
            .unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    }
    settled(&client, &info.queue_url, &info.dlq_url).await;
    let recorded = h.recorded("stripe");
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded_body(&recorded[0]), body);

    // A copy of the same delivery in the DLQ, moved back by a redrive: a duplicate, not run.
    let dedup = recorded[0]["dedup_id"].as_str().unwrap();
    let copy = Envelope::new("stripe", body.clone()).with_dedup_id(dedup);
    client
        .send_message()
        .queue_url(&info.dlq_url)
        .message_body(copy.to_json())
        .send()
        .await
        .unwrap();
    client
        .start_message_move_task()
        .source_arn(queue_arn(&client, &info.dlq_url).await)
        .destination_arn(queue_arn(&client, &info.queue_url).await)
        .send()
        .await
        .unwrap();
    settled(&client, &info.queue_url, &info.dlq_url).await;
    assert_eq!(h.recorded("stripe").len(), 1, "{:?}", h.recorded("stripe"));

    // Another delivery still runs: the store keys on the delivery, not on the provider.
    let other = event("evt_once_2", "another");
    post(&info.webhook_url, &signed(&stack, "stripe", &other), &other)
        .await
        .unwrap();
    assert_eq!(
        h.wait_recorded("stripe", 2, Duration::from_secs(30))
            .await
            .len(),
        2
    );
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_processor_killed_mid_handler_completes_the_delivery_exactly_once() {
    let h = harness(MANIFEST);
    let stack = h.start().await;
    let info = stack.providers()[0].clone();
    let client = sqs(&stack.sqs_endpoint()).await;
    // The recorder aborts the first time it sees each message of this body: the claim stays
    // until the invocation's deadline, then a redelivery runs the handler; the second copy,
    // sent meanwhile, finds the claim or the completed record.
    let body = event("evt_once_crash", "crash-once");
    for _ in 0..2 {
        let (status, _, _) = post(&info.webhook_url, &signed(&stack, "stripe", &body), &body)
            .await
            .unwrap();
        assert_eq!(status, 200);
    }
    let recorded = h.wait_recorded("stripe", 1, Duration::from_secs(60)).await;
    assert_eq!(recorded.len(), 1);
    settled(&client, &info.queue_url, &info.dlq_url).await;
    let recorded = h.recorded("stripe");
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert!(
        recorded[0]["receive_count"].as_u64().unwrap() >= 2,
        "completed on a redelivery after the crash: {recorded:?}"
    );
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_the_stack_keeps_the_idempotency_records() {
    let h = harness(MANIFEST);
    let (port, sqs_port) = (free_port(), free_port());
    let url = format!("http://127.0.0.1:{port}/webhooks/stripe");
    let body = event("evt_once_kill", "before and after kill -9");
    let secret = || std::fs::read_to_string(h.data.join("secrets/stripe")).unwrap();
    let send = |secret: String| {
        let (url, body) = (url.clone(), body.clone());
        async move {
            let signer =
                hookline::sign::Signer::new("stripe".parse().unwrap(), secret.trim()).unwrap();
            let headers = signer
                .headers(&body, chrono::Utc::now().timestamp(), "")
                .unwrap();
            post(&url, &headers, &body).await.unwrap().0
        }
    };

    let mut first = dev(&h, port, sqs_port);
    wait_ready(port).await;
    assert_eq!(send(secret()).await, 200);
    assert_eq!(
        h.wait_recorded("stripe", 1, Duration::from_secs(30))
            .await
            .len(),
        1
    );
    // The handler's line is written before its completion is recorded: kill once the message
    // is deleted, which follows the completion.
    let client = sqs(&format!("http://127.0.0.1:{sqs_port}")).await;
    let queue = client
        .get_queue_url()
        .queue_name("stripe")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    assert_eq!(
        wait_empty(&client, &queue, Duration::from_secs(30)).await,
        0
    );
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();

    let mut second = dev(&h, port, sqs_port);
    wait_ready(port).await;
    assert_eq!(send(secret()).await, 200);
    wait_empty(&client, &queue, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    second.kill().unwrap();
    second.wait().unwrap();
    let recorded = h.recorded("stripe");
    assert_eq!(
        recorded.len(),
        1,
        "processed again after the restart: {recorded:?}"
    );
}
