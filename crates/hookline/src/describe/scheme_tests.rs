//! What each scheme finds in deliveries it verified: event types, ids, dedup ids, handshakes.

use super::*;
use crate::verify::test_support::{headers, scheme};

fn describe(
    scheme: &Scheme,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Description, MalformedBody> {
    super::describe(scheme, &Request::post(headers, body))
}

fn stripe(body: &[u8]) -> Result<Description, MalformedBody> {
    describe(&scheme("stripe"), &HeaderMap::new(), body)
}

#[test]
fn stripe_reads_id_and_type_from_the_body() {
    let d = stripe(br#"{"id":"evt_1","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1","type":"x"}}}"#);
    assert_eq!(
        d.as_ref().map(|d| d.event_type.as_deref()),
        Ok(Some("invoice.paid"))
    );
    assert_eq!(d.map(|d| d.delivery_id), Ok(Some("evt_1".to_owned())));
}

#[test]
fn stripe_rejects_non_objects() {
    for body in [&b""[..], b"[]", b"{\"id\":", b"\xff\xfe", b"null"] {
        assert_eq!(stripe(body), Err(MalformedBody::NotJsonObject), "{body:?}");
    }
    // Fields of unexpected types are metadata we do not have, not malformed bodies.
    let body = br#"{"id":5,"type":null}"#;
    assert_eq!(
        stripe(body),
        Ok(Description {
            dedup_id: body_digest(None, body),
            ..Description::default()
        })
    );
}

#[test]
fn dedup_ids_come_from_signed_bytes_only() {
    let body = br#"{"id":"evt_1","type":"invoice.paid"}"#;
    assert_eq!(stripe(body).unwrap().dedup_id, "evt_1");
    // GitHub's and Shopify's ids are headers nobody signed: the body decides.
    for (scheme, id_header) in [
        (scheme("github"), "X-GitHub-Delivery"),
        (scheme("shopify"), "X-Shopify-Webhook-Id"),
    ] {
        let first = describe(&scheme, &headers(&[(id_header, "a")]), b"{}").unwrap();
        let replayed = describe(&scheme, &headers(&[(id_header, "b")]), b"{}").unwrap();
        assert_eq!(first.delivery_id.as_deref(), Some("a"));
        assert_eq!(first.dedup_id, replayed.dedup_id, "{scheme}");
        assert_eq!(
            first.dedup_id,
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
    // Standard Webhooks signs webhook-id.
    let sw = describe(
        &scheme("standard-webhooks"),
        &headers(&[("webhook-id", "msg_1")]),
        br#"{"type":"a"}"#,
    )
    .unwrap();
    assert_eq!(sw.dedup_id, "msg_1");
    // Slack: event_id inside the signed JSON; a form body (slash command) by its digest.
    let event = br#"{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}"#;
    assert_eq!(
        describe(&scheme("slack"), &headers(&[]), event)
            .unwrap()
            .dedup_id,
        "Ev1"
    );
    let form = b"command=%2Fdeploy&trigger_id=1.2.3";
    assert_eq!(
        describe(&scheme("slack"), &headers(&[]), form)
            .unwrap()
            .dedup_id,
        body_digest(None, form)
    );
    // One order, two topics, the same bytes: two deliveries.
    let order = br#"{"id":820982911946154500,"financial_status":"paid"}"#;
    let topic = |t: &str| {
        describe(
            &scheme("shopify"),
            &headers(&[("X-Shopify-Topic", t)]),
            order,
        )
        .unwrap()
        .dedup_id
    };
    assert_ne!(topic("orders/create"), topic("orders/paid"));
}

#[test]
fn github_and_shopify_read_headers() {
    let h = headers(&[
        ("X-GitHub-Event", "push"),
        ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
    ]);
    let d = describe(&scheme("github"), &h, b"payload=%7B%7D");
    assert_eq!(
        d.map(|d| (d.event_type, d.delivery_id)),
        Ok((
            Some("push".into()),
            Some("72d3162e-cc78-11e3-81ab-4c9367dc0958".into())
        ))
    );
    let h = headers(&[
        ("X-Shopify-Topic", "orders/create"),
        ("X-Shopify-Webhook-Id", "b54557e4"),
    ]);
    let d = describe(&scheme("shopify"), &h, b"not json either");
    assert_eq!(
        d.map(|d| (d.event_type, d.delivery_id)),
        Ok((Some("orders/create".into()), Some("b54557e4".into())))
    );
}

#[test]
fn standard_webhooks_reads_type_and_id() {
    let h = headers(&[("svix-id", "msg_1")]);
    let d = describe(
        &scheme("standard-webhooks"),
        &h,
        br#"{"type":"user.created","data":{}}"#,
    );
    assert_eq!(
        d.map(|d| (d.event_type, d.delivery_id)),
        Ok((Some("user.created".into()), Some("msg_1".into())))
    );
    assert_eq!(
        describe(&scheme("standard-webhooks"), &h, b"x"),
        Err(MalformedBody::NotJsonObject)
    );
}

#[test]
fn slack_events_handshakes_and_forms() {
    let slack = |body: &[u8]| describe(&scheme("slack"), &HeaderMap::new(), body);
    let d = slack(br#"{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}"#);
    assert_eq!(
        d.map(|d| (d.event_type, d.delivery_id)),
        Ok((Some("app_mention".into()), Some("Ev1".into())))
    );
    let d = slack(br#"{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#);
    assert_eq!(
        d.map(|d| d.handshake),
        Ok(Some(Handshake {
            kind: "url_verification",
            answer: Answer::json(
                &serde_json::json!({"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
            ),
        }))
    );
    assert_eq!(
        slack(br#"{"type":"url_verification"}"#),
        Err(MalformedBody::IncompleteHandshake {
            handshake: "url_verification",
            field: "challenge"
        })
    );
    assert_eq!(slack(b"{oops"), Err(MalformedBody::NotJsonObject));
    assert_eq!(
        slack(b"ssl_check=1&token=x").map(|d| d.handshake),
        Ok(Some(Handshake {
            kind: "ssl_check",
            answer: Answer::empty()
        }))
    );
    assert_eq!(
        slack(b"command=%2Fdeploy&text=now").map(|d| d.event_type),
        Ok(Some("slash_command".into()))
    );
    let payload = b"payload=%7B%22type%22%3A%22block_actions%22%7D";
    assert_eq!(
        slack(payload).map(|d| d.event_type),
        Ok(Some("block_actions".into()))
    );
}
