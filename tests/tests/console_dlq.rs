//! The local console's dead-letter views and actions over HTTP, on a real stack: poison
//! messages listed with their deliveries and the handler's error, redriven one or all, deleted;
//! unknown providers and messages answered 404 with nothing changed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use hookline_e2e::console::{CONSOLE_MANIFEST, ConsoleClient, location, queues_of};
use hookline_e2e::*;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_shown_redriven_and_deleted() {
    let h = harness(CONSOLE_MANIFEST);
    let stack = h.start().await;
    let console = ConsoleClient {
        gateway: stack.gateway_url(),
    };
    let mut poisoned = Vec::new();
    for n in 0..2 {
        let (status, made) = console
            .send_json(
                "POST",
                "/api/send",
                &json!({ "provider": "acme", "body": format!("{{\"poison\":{n}}}") }),
            )
            .await;
        assert_eq!((status, &made["status"]), (200, &json!(200)), "{made}");
        poisoned.push(made["delivery"].as_str().unwrap().to_owned());
    }
    // Refused once, then moved to the DLQ on the next receive (maxReceiveCount 1).
    let queues = console
        .wait_queues(WAIT, |q| {
            queues_of(q, "acme")["dead_letters"]
                .as_array()
                .unwrap()
                .len()
                == 2
        })
        .await;
    let acme = queues_of(&queues, "acme");
    assert_eq!(acme["dlq"]["visible"], 2, "{queues:#}");
    assert_eq!(acme["dlq"]["name"], "acme-dlq");
    assert!(acme["dlq"]["oldest_age_ms"].as_i64().unwrap() >= 0);
    let letters = acme["dead_letters"].as_array().unwrap();
    let delivered: Vec<&str> = letters
        .iter()
        .map(|m| m["delivery"].as_str().unwrap())
        .collect();
    assert!(
        poisoned.iter().all(|p| delivered.contains(&p.as_str())),
        "{letters:?}"
    );
    let first = letters
        .iter()
        .find(|m| m["delivery"] == poisoned[0].as_str())
        .unwrap()["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = letters
        .iter()
        .find(|m| m["delivery"] == poisoned[1].as_str())
        .unwrap()["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let detail = console.delivery(&poisoned[0]).await;
    assert_eq!(detail["delivery"]["processing"], "dead_lettered");
    let timeline = detail["timeline"].as_array().unwrap();
    let failed = timeline.iter().find(|t| t["kind"] == "attempt").unwrap();
    assert_eq!(failed["outcome"], "failed");
    assert!(
        failed["error"]
            .as_str()
            .unwrap_or_default()
            .contains("poison message refused"),
        "the handler's error: {failed}"
    );
    assert_eq!(timeline.last().unwrap()["kind"], "dead_lettered");
    assert_eq!(timeline.last().unwrap()["queue"], "acme-dlq");
    let (_, page) = console.page("/queues").await;
    assert!(page.contains(&first) && page.contains("Redrive all (2)"));
    let (_, page) = console.page(&format!("/deliveries/{}", poisoned[0])).await;
    assert!(page.contains("moved to the DLQ") && page.contains("poison message refused"));

    // Unknown provider or message: 404, the DLQ unchanged.
    for (method, path) in [
        (
            "POST",
            "/api/queues/acme/dlq/no-such-message/redrive".to_owned(),
        ),
        ("DELETE", "/api/queues/acme/dlq/no-such-message".to_owned()),
        ("POST", format!("/api/queues/nope/dlq/{first}/redrive")),
        ("POST", "/api/queues/nope/redrive".to_owned()),
    ] {
        let (status, error) = console.send_json(method, &path, &json!({})).await;
        assert_eq!(
            (status, error["error"].as_str()),
            (404, Some("not_found")),
            "{path}: {error}"
        );
    }
    assert_eq!(
        console
            .form("/queues/acme/dlq/no-such-message/delete", &[])
            .await
            .0,
        404
    );
    let (_, queues) = console.json("/api/queues").await;
    assert_eq!(
        queues_of(&queues, "acme")["dlq"]["visible"],
        2,
        "nothing changed"
    );

    // Redrive one (API): a new message in the queue, the DLQ one fewer, the timeline says so.
    let (status, moved) = console
        .send_json(
            "POST",
            &format!("/api/queues/acme/dlq/{first}/redrive"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    let new_id = moved["new_message_id"].as_str().unwrap().to_owned();
    assert_ne!(new_id, first);
    let (_, queues) = console.json("/api/queues").await;
    let dead: Vec<&str> = queues_of(&queues, "acme")["dead_letters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(dead, [second.as_str()]);
    let detail = console
        .wait_delivery(&poisoned[0], WAIT, |d| {
            d["timeline"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["message_id"] == new_id.as_str() && t["kind"] == "attempt")
        })
        .await;
    let redriven = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "redriven")
        .unwrap();
    assert_eq!(redriven["new_message_id"], new_id.as_str());
    assert!(
        detail["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["message_id"] == new_id.as_str() && t["kind"] == "attempt"),
        "the redriven message was processed again: {detail:#}"
    );

    // Delete one (the page's form), then again: 404.
    let (status, head, _) = console
        .form(&format!("/queues/acme/dlq/{second}/delete"), &[])
        .await;
    assert_eq!(status, 303, "{head}");
    assert!(location(&head).starts_with("/_hookline/queues?notice="));
    let (_, page) = console
        .page(location(&head).trim_start_matches("/_hookline"))
        .await;
    assert!(page.contains(&format!("Deleted {second}")));
    assert_eq!(
        console
            .form(&format!("/queues/acme/dlq/{second}/delete"), &[])
            .await
            .0,
        404
    );
    let detail = console.delivery(&poisoned[1]).await;
    assert_eq!(detail["delivery"]["processing"], "deleted");

    // Redrive all: refused for an empty DLQ; a task once the redriven poison is back.
    let (status, error) = console
        .send_json("POST", "/api/queues/stripe/redrive", &json!({}))
        .await;
    assert_eq!(status, 409, "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("stripe-dlq has no message to redrive")
    );
    let queues = console
        .wait_queues(WAIT, |q| queues_of(q, "acme")["dlq"]["visible"] == 1)
        .await;
    assert_eq!(
        queues_of(&queues, "acme")["dlq"]["visible"],
        1,
        "{queues:#}"
    );
    let (status, started) = console
        .send_json("POST", "/api/queues/acme/redrive", &json!({}))
        .await;
    assert_eq!(
        (status, &started["redriving"]),
        (202, &json!(1)),
        "{started}"
    );
    let queues = console
        .wait_queues(WAIT, |q| {
            queues_of(q, "acme")["redrive"]["status"] == "COMPLETED"
        })
        .await;
    let acme = queues_of(&queues, "acme");
    assert_eq!(acme["redrive"]["moved"], 1, "{queues:#}");
    stack.shutdown().await;
}
