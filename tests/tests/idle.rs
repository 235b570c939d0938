//! An idle local stack costs nothing (issue 14, item 0): with five providers, their event-source
//! pollers waiting and no traffic, the SQS store commits no transaction. Polls read beside the
//! writer (`StoreHandle::may_receive`) and wake only on a change that can make a message
//! receivable; before, every empty receive was a commit that woke every other poller, and an
//! idle `cargo xtask dev` burned a core. Counted in commits, not in time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use hookline_e2e::*;

const FIVE_PROVIDERS: &str = r#"
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
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_stack_with_five_providers_commits_nothing() {
    let h = harness(FIVE_PROVIDERS);
    let stack = h.start().await;
    let store = stack.sqs_store().clone();
    let before = store.commits();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = store.commits() - before;
    // Nothing on an idle stack writes to the queues: no periodic work runs on the SQS store.
    // Committing each empty receive, the pollers (up to four per provider, each looking every
    // 200 ms) made hundreds of commits in these 3 s; waking each other, thousands.
    assert_eq!(idle, 0, "{idle} commits in 3 s on an idle stack");
    // The pollers were waiting, not gone: a delivery sent now is processed.
    let body = br#"{"id":"evt_idle","object":"event","type":"invoice.paid","created":1764400000,"livemode":false,"data":{"object":{"id":"in_1"}}}"#;
    let headers = signed(&stack, "stripe", body);
    let (status, _, answer) = post(&url(&stack, "stripe"), &headers, body).await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let recorded = h.wait_recorded("stripe", 1, Duration::from_secs(30)).await;
    assert_eq!(recorded.len(), 1, "the idle poller received the delivery");
    assert_eq!(recorded_body(&recorded[0]), body);
    stack.shutdown().await;
}
