//! The local console over HTTP, on a real stack: every page and its JSON twin, the forms,
//! and bad input (unknown ids, bad filters, foreign origins) answered clearly with nothing
//! changed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use hookline_e2e::console::{CONSOLE_MANIFEST, ConsoleClient, location};
use hookline_e2e::*;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);

fn processed(d: &Value) -> bool {
    d["delivery"]["processing"] == "processed"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_api_show_what_arrived_and_refuse_bad_input() {
    let h = harness(CONSOLE_MANIFEST);
    let stack = h.start().await;
    let console = ConsoleClient {
        gateway: stack.gateway_url(),
    };
    assert_eq!(
        stack.console_url(),
        Some(format!("{}/_hookline/", stack.gateway_url()))
    );

    // Empty, every page answers.
    for path in ["", "/", "/deliveries", "/queues", "/send"] {
        let (status, page) = console.page(path).await;
        assert_eq!(status, 200, "{path}: {page}");
        assert!(page.contains("<nav aria-label=\"Console\">"), "{path}");
    }
    assert!(console.page("/").await.1.contains("Nothing yet"));
    let (status, head, _) = console.get("/assets/console.css").await;
    assert_eq!(status, 200);
    assert!(head.contains("text/css"), "{head}");
    let (status, head, _) = console.get("/assets/console.js").await;
    assert_eq!(status, 200);
    assert!(head.contains("text/javascript"), "{head}");
    assert_eq!(console.get("/assets/nope.js").await.0, 404);

    // A sample sent through the API: answered 200, listed, processed, shown whole.
    let (status, sent) = console
        .send_json(
            "POST",
            "/api/send",
            &json!({ "provider": "stripe", "event": "invoice.paid" }),
        )
        .await;
    assert_eq!((status, &sent["status"]), (200, &json!(200)), "{sent}");
    let id = sent["delivery"].as_str().unwrap().to_owned();
    let detail = console.wait_delivery(&id, WAIT, processed).await;
    assert!(processed(&detail), "{detail:#}");
    let summary = &detail["delivery"];
    assert_eq!(summary["provider"], "stripe");
    assert_eq!(summary["event_type"], "invoice.paid");
    // The sample as a new event: its id renewed (`hookline_local::fresh`), nothing else.
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("functions/stripe/fixtures/invoice.paid.json"))
            .unwrap(),
    )
    .unwrap();
    let sent_body = detail["request"]["body"]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut sent_event: serde_json::Value = serde_json::from_str(&sent_body).unwrap();
    let new_id = sent_event["id"].as_str().unwrap().to_owned();
    assert!(
        new_id.starts_with("evt_") && new_id != fixture["id"],
        "{new_id}"
    );
    sent_event["id"] = fixture["id"].clone();
    assert_eq!(sent_event, fixture);
    assert_eq!(detail["request"]["target"], "/webhooks/stripe");
    let signature = detail["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == "stripe-signature")
        .unwrap()[1]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(signature.contains("masked"), "{signature}");
    assert!(
        !detail.to_string().contains("v1="),
        "a signature value is shown: {detail}"
    );
    assert_eq!(detail["envelope"]["provider"], "stripe");
    assert!(
        detail["envelope"]["headers"]["stripe-signature"]
            .as_str()
            .unwrap()
            .contains("masked")
    );
    let kinds: Vec<(&str, Option<&str>)> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["kind"].as_str().unwrap(), t["outcome"].as_str()))
        .collect();
    assert_eq!(kinds, [("queued", None), ("attempt", Some("succeeded"))]);
    assert_eq!(detail["timeline"][1]["receive_count"], 1);
    assert_eq!(
        detail["timeline"][0]["message_id"], summary["message_id"],
        "the message the answer named"
    );
    let listed = console.deliveries("").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["processing"], "processed");
    let (status, page) = console.page(&format!("/deliveries/{id}")).await;
    assert_eq!(status, 200);
    for shown in ["invoice.paid", "processed", "Replay original", "masked"] {
        assert!(page.contains(shown), "{shown} not on the page");
    }
    assert!(!page.contains("v1="), "a signature value is on the page");
    assert!(console.page("/").await.1.contains(&id));

    // A refused delivery (GitHub signature, changed body) and a request to no route.
    let body = br#"{"n":1}"#;
    let mut headers = signed(&stack, "acme", body);
    headers.retain(|(k, _)| k != "content-type");
    headers.push(("content-type".into(), "application/json".into()));
    let (status, _, _) = post(&url(&stack, "acme"), &headers, br#"{"n":2}"#)
        .await
        .unwrap();
    assert_eq!(status, 401);
    let (status, _, _) = post(
        &format!("{}/webhooks/nowhere", stack.gateway_url()),
        &[],
        b"x",
    )
    .await
    .unwrap();
    assert_eq!(status, 404);
    let refused = console.deliveries("?status=4xx&provider=acme").await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["error_code"], "invalid_signature");
    assert_eq!(refused[0]["processing"], "not_queued");
    let unrouted = console.deliveries("?provider=-").await;
    assert_eq!(unrouted.len(), 1);
    assert_eq!(unrouted[0]["status"], 404);
    assert_eq!(console.deliveries("?status=2xx").await.len(), 1);
    assert_eq!(console.deliveries("?status=401").await.len(), 1);
    assert_eq!(console.deliveries("?event=invoice.paid").await.len(), 1);
    let delivery_id = summary["delivery_id"].as_str().unwrap();
    assert_eq!(
        console.deliveries(&format!("?q={delivery_id}")).await.len(),
        1
    );
    assert_eq!(
        console
            .deliveries(&format!("?q={}", summary["message_id"].as_str().unwrap()))
            .await
            .len(),
        1
    );
    assert_eq!(console.deliveries("?q=evt_nothing").await.len(), 0);
    assert_eq!(console.deliveries("?limit=1").await.len(), 1);
    let (_, page) = console.page("/deliveries?provider=acme&status=4xx").await;
    assert!(
        page.contains("invalid_signature") && !page.contains(&id),
        "only the refused one"
    );

    // Bad filters: 400 with what is understood, HTML and JSON.
    for (query, says) in [
        ("?status=ok", "`status` is a class"),
        ("?provider=nope", "no provider `nope`"),
        ("?before=x", "`before`"),
        ("?limit=9999", "`limit`"),
        ("?colour=red", "unknown filter `colour`"),
    ] {
        let (status, error) = console.json(&format!("/api/deliveries{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(error["error"], "bad_request");
        assert!(
            error["message"].as_str().unwrap().contains(says),
            "{query}: {error}"
        );
        let (status, page) = console.page(&format!("/deliveries{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert!(page.contains("400 Bad Request"), "{query}");
    }

    // Unknown ids and paths: 404, HTML and JSON.
    let (status, error) = console.json("/api/deliveries/no-such-id").await;
    assert_eq!((status, error["error"].as_str()), (404, Some("not_found")));
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("no delivery `no-such-id`")
    );
    assert_eq!(console.page("/deliveries/no-such-id").await.0, 404);
    assert_eq!(console.page("/no-such-page").await.0, 404);
    assert_eq!(console.json("/api/no-such-endpoint").await.0, 404);
    let (status, error) = console.json("/api/send").await;
    assert_eq!(
        (status, error["error"].as_str()),
        (405, Some("method_not_allowed"))
    );
    assert_eq!(
        console.page(&format!("/deliveries/{id}/replay")).await.0,
        405
    );
    let (status, error) = console
        .send_json(
            "POST",
            "/api/deliveries/no-such-id/replay",
            &json!({ "mode": "original" }),
        )
        .await;
    assert_eq!((status, error["error"].as_str()), (404, Some("not_found")));

    // Replays: original and re-signed, through the API and the page's form.
    let (status, error) = console
        .send_json(
            "POST",
            &format!("/api/deliveries/{id}/replay"),
            &json!({ "mode": "twice" }),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("`original` or `resigned`")
    );
    let (status, replayed) = console
        .send_json(
            "POST",
            &format!("/api/deliveries/{id}/replay"),
            &json!({ "mode": "original" }),
        )
        .await;
    assert_eq!(
        (status, &replayed["status"]),
        (200, &json!(200)),
        "{replayed}"
    );
    let replay = console
        .delivery(replayed["delivery"].as_str().unwrap())
        .await;
    assert_eq!(replay["delivery"]["replay_of"], id.as_str());
    assert_eq!(replay["request"]["body"]["text"], sent_body.as_str());
    let (status, head, _) = console
        .form(&format!("/deliveries/{id}/replay"), &[("mode", "resigned")])
        .await;
    assert_eq!(status, 303, "{head}");
    let shown = location(&head);
    assert!(shown.starts_with("/_hookline/deliveries/"), "{shown}");
    let (status, page) = console.page(shown.trim_start_matches("/_hookline")).await;
    assert_eq!(status, 200);
    assert!(page.contains("the gateway answered 200"), "the notice");
    assert_eq!(
        console.delivery(&id).await["replays"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let unrouted_id = unrouted[0]["id"].as_str().unwrap();
    let (status, error) = console
        .send_json(
            "POST",
            &format!("/api/deliveries/{unrouted_id}/replay"),
            &json!({ "mode": "resigned" }),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("no provider's route")
    );
    assert_eq!(
        console
            .form(&format!("/deliveries/{id}/replay"), &[])
            .await
            .0,
        400
    );

    // Send: samples listed; the form sends and shows; bad sends say why.
    let (status, samples) = console.json("/api/samples").await;
    assert_eq!(status, 200);
    let stripe = samples["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "stripe")
        .unwrap();
    assert!(
        stripe["samples"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["event_type"] == "invoice.paid")
    );
    let (_, page) = console.page("/send").await;
    assert!(page.contains(r#"<option value="charge.refunded">"#) && page.contains("No samples"));
    let (status, head, _) = console
        .form(
            "/send",
            &[
                ("provider", "stripe"),
                ("event", "charge.refunded"),
                ("body", ""),
            ],
        )
        .await;
    assert_eq!(status, 303, "{head}");
    assert!(location(&head).starts_with("/_hookline/deliveries/"));
    for (request, status, says) in [
        (json!({ "provider": "nope" }), 404, "no provider `nope`"),
        (
            json!({ "provider": "stripe", "event": "nope" }),
            400,
            "no sample event `nope`",
        ),
        (json!({ "provider": "acme" }), 409, "no samples"),
        (
            json!({ "provider": "stripe", "colour": 1 }),
            400,
            "unknown field",
        ),
    ] {
        let before = console.deliveries("").await.len();
        let (got, error) = console.send_json("POST", "/api/send", &request).await;
        assert_eq!(got, status, "{request}: {error}");
        assert!(
            error["message"].as_str().unwrap().contains(says),
            "{request}: {error}"
        );
        assert_eq!(
            console.deliveries("").await.len(),
            before,
            "{request}: nothing sent"
        );
    }
    let (status, made) = console
        .send_json(
            "POST",
            "/api/send",
            &json!({ "provider": "acme", "body": "{\"custom\":true}" }),
        )
        .await;
    assert_eq!((status, &made["status"]), (200, &json!(200)), "{made}");
    let (status, head, _) = console
        .form("/send", &[("provider", "stripe"), ("event", "nope")])
        .await;
    assert_eq!(status, 400, "{head}");

    // Changes only from the console's own origin and loopback host; JSON only as JSON.
    let count = console.deliveries("").await.len();
    let foreign = [
        ("origin".to_owned(), "http://evil.example".to_owned()),
        (
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        ),
    ];
    let (status, _, body) = request("POST", &console.url("/send"), &foreign, b"provider=stripe")
        .await
        .unwrap();
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    let cross_site = [("sec-fetch-site".to_owned(), "cross-site".to_owned())];
    let (status, _, _) = request(
        "POST",
        &console.url("/send"),
        &cross_site,
        b"provider=stripe",
    )
    .await
    .unwrap();
    assert_eq!(status, 403);
    let rebound = [("host".to_owned(), "evil.example:80".to_owned())];
    let (status, _, _) = request("GET", &console.url("/deliveries"), &rebound, b"")
        .await
        .unwrap();
    assert_eq!(status, 403);
    let plain = [("content-type".to_owned(), "text/plain".to_owned())];
    let (status, _, body) = request(
        "POST",
        &console.url("/api/send"),
        &plain,
        br#"{"provider":"stripe"}"#,
    )
    .await
    .unwrap();
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        console.deliveries("").await.len(),
        count,
        "nothing was sent"
    );

    // A slash command: Slack is answered an empty 200 that names no message; the ingest
    // invocation's trace header still joins the delivery to its message.
    let command = b"command=%2Fdeploy&text=now";
    let mut headers = signed(&stack, "chat", command);
    headers.retain(|(k, _)| k != "content-type");
    headers.push((
        "content-type".into(),
        "application/x-www-form-urlencoded".into(),
    ));
    let (status, _, answer) = post(&url(&stack, "chat"), &headers, command).await.unwrap();
    assert_eq!((status, answer.as_slice()), (200, &b""[..]));
    let chat = console.deliveries("?provider=chat").await;
    let detail = console
        .wait_delivery(chat[0]["id"].as_str().unwrap(), WAIT, processed)
        .await;
    assert!(processed(&detail), "{detail:#}");
    assert_eq!(detail["delivery"]["event_type"], "slash_command");
    assert!(detail["delivery"]["message_id"].is_string(), "{detail:#}");
    assert_eq!(detail["envelope"]["provider"], "chat");
    assert!(
        detail["envelope"]["headers"]["x-slack-signature"]
            .as_str()
            .unwrap()
            .contains("masked")
    );
    let (_, page) = console
        .page(&format!("/deliveries/{}", chat[0]["id"].as_str().unwrap()))
        .await;
    assert!(
        page.contains("<th scope=\"row\">command</th><td>/deploy</td>"),
        "the form's fields, decoded"
    );

    // The history survives a restart.
    let ids: Vec<Value> = console
        .deliveries("")
        .await
        .iter()
        .map(|d| d["id"].clone())
        .collect();
    stack.shutdown().await;
    let stack = h.start().await;
    let console = ConsoleClient {
        gateway: stack.gateway_url(),
    };
    let after: Vec<Value> = console
        .deliveries("")
        .await
        .iter()
        .map(|d| d["id"].clone())
        .collect();
    assert_eq!(after, ids);
    assert!(processed(&console.delivery(&id).await));
    stack.shutdown().await;
}
