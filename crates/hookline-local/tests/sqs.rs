//! The local SQS endpoint through aws-sdk-sqs, unchanged: what deployed code and tools use.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName};

mod support;
use support::{count, create, raw, receive, start};

#[tokio::test]
async fn send_receive_change_visibility_delete() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let url = create(&client, "stripe", &[]).await;
    let attribute = MessageAttributeValue::builder()
        .data_type("String")
        .string_value("stripe")
        .build()
        .unwrap();
    let sent = client
        .send_message()
        .queue_url(&url)
        .message_body("{\"a\":1}")
        .message_attributes("provider", attribute)
        .send()
        .await
        .unwrap();
    assert_eq!(
        sent.md5_of_message_body.as_deref(),
        Some("bb6cb5c68df4652941caf652a366f2d8")
    );

    let got = receive(&client, &url, 10).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.message_id, sent.message_id);
    assert_eq!(m.body.as_deref(), Some("{\"a\":1}"));
    assert_eq!(
        m.message_attributes.as_ref().unwrap()["provider"].string_value(),
        Some("stripe")
    );
    assert_eq!(
        m.attributes.as_ref().unwrap()[&MessageSystemAttributeName::ApproximateReceiveCount],
        "1"
    );
    // Invisible while in flight.
    assert!(receive(&client, &url, 10).await.is_empty());
    assert_eq!(
        count(
            &client,
            &url,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible
        )
        .await,
        1
    );
    // Visible again at once after a visibility change to 0.
    client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(m.receipt_handle.as_deref().unwrap())
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    let again = receive(&client, &url, 10).await;
    assert_eq!(
        again[0].attributes.as_ref().unwrap()[&MessageSystemAttributeName::ApproximateReceiveCount],
        "2"
    );
    client
        .delete_message()
        .queue_url(&url)
        .receipt_handle(again[0].receipt_handle.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        count(
            &client,
            &url,
            QueueAttributeName::ApproximateNumberOfMessages
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &client,
            &url,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible
        )
        .await,
        0
    );
}

#[tokio::test]
async fn messages_move_to_the_dlq_after_max_receive_count() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let dlq = create(&client, "stripe-dlq", &[]).await;
    let policy = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:stripe-dlq","maxReceiveCount":"2"}"#;
    let url = create(
        &client,
        "stripe",
        &[
            (QueueAttributeName::RedrivePolicy, policy),
            (QueueAttributeName::VisibilityTimeout, "0"),
        ],
    )
    .await;
    client
        .send_message()
        .queue_url(&url)
        .message_body("poison")
        .send()
        .await
        .unwrap();
    assert_eq!(receive(&client, &url, 1).await.len(), 1);
    assert_eq!(receive(&client, &url, 1).await.len(), 1);
    assert!(
        receive(&client, &url, 1).await.is_empty(),
        "the third receive moves it instead"
    );
    let dead = receive(&client, &dlq, 1).await;
    assert_eq!(dead[0].body.as_deref(), Some("poison"));
    let attributes = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(attributes[&QueueAttributeName::RedrivePolicy], policy);
    assert_eq!(
        attributes[&QueueAttributeName::QueueArn],
        "arn:aws:sqs:us-east-1:000000000000:stripe"
    );
}

/// SQS Developer Guide, "Using dead-letter queues": a message moved to a standard DLQ keeps its
/// enqueue timestamp; one moved to a FIFO DLQ gets a new one.
#[tokio::test]
async fn a_fifo_dlq_resets_the_enqueue_time_and_a_standard_one_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    for fifo in [false, true] {
        let suffix = if fifo { ".fifo" } else { "" };
        let mut dlq_attributes = vec![];
        let mut attributes = vec![(QueueAttributeName::VisibilityTimeout, "0")];
        if fifo {
            dlq_attributes.push((QueueAttributeName::FifoQueue, "true"));
            attributes.push((QueueAttributeName::FifoQueue, "true"));
        }
        let dlq = create(&client, &format!("moved-dlq{suffix}"), &dlq_attributes).await;
        let policy = format!(
            r#"{{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:moved-dlq{suffix}","maxReceiveCount":"1"}}"#
        );
        attributes.push((QueueAttributeName::RedrivePolicy, &policy));
        let url = create(&client, &format!("moved{suffix}"), &attributes).await;
        let mut send = client.send_message().queue_url(&url).message_body("poison");
        if fifo {
            send = send.message_group_id("g").message_deduplication_id("d");
        }
        send.send().await.unwrap();
        let first = receive(&client, &url, 1).await;
        let sent = first[0].attributes.as_ref().unwrap()
            [&MessageSystemAttributeName::SentTimestamp]
            .clone();
        // Later than the send, whatever the clock's resolution.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(receive(&client, &url, 1).await.is_empty(), "moved instead");
        let dead = receive(&client, &dlq, 1).await;
        let moved = dead[0].attributes.as_ref().unwrap()
            [&MessageSystemAttributeName::SentTimestamp]
            .clone();
        if fifo {
            assert!(
                moved.parse::<u64>().unwrap() > sent.parse::<u64>().unwrap(),
                "{moved} vs {sent}"
            );
        } else {
            assert_eq!(moved, sent);
        }
    }
}

#[tokio::test]
async fn fifo_keeps_group_order_and_deduplicates() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let url = create(
        &client,
        "orders.fifo",
        &[(QueueAttributeName::FifoQueue, "true")],
    )
    .await;
    for (group, dedup, body) in [
        ("a", "1", "a1"),
        ("a", "2", "a2"),
        ("b", "3", "b1"),
        ("a", "1", "a1-again"),
    ] {
        client
            .send_message()
            .queue_url(&url)
            .message_body(body)
            .message_group_id(group)
            .message_deduplication_id(dedup)
            .send()
            .await
            .unwrap();
    }
    let first = receive(&client, &url, 1).await;
    assert_eq!(first[0].body.as_deref(), Some("a1"));
    // Group a is blocked while a1 is in flight; b is free.
    let next = receive(&client, &url, 10).await;
    let bodies: Vec<_> = next.iter().map(|m| m.body.clone().unwrap()).collect();
    assert_eq!(bodies, ["b1"]);
    client
        .delete_message()
        .queue_url(&url)
        .receipt_handle(first[0].receipt_handle.clone().unwrap())
        .send()
        .await
        .unwrap();
    let rest = receive(&client, &url, 10).await;
    assert_eq!(
        rest.iter()
            .map(|m| m.body.clone().unwrap())
            .collect::<Vec<_>>(),
        ["a2"],
        "a1-again was a duplicate"
    );
    let missing_group = client
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_deduplication_id("9")
        .send()
        .await;
    assert!(missing_group.is_err());
}

#[tokio::test]
async fn errors_map_to_sdk_error_types() {
    let dir = tempfile::tempdir().unwrap();
    let (server, client) = start(dir.path()).await;
    let err = client
        .get_queue_url()
        .queue_name("nope")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_queue_does_not_exist());
    let err = client
        .send_message()
        .queue_url(format!("{}/000000000000/nope", server.endpoint()))
        .message_body("x")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_queue_does_not_exist());
    let url = create(&client, "q", &[]).await;
    let big = "x".repeat(1_048_577);
    let err = client
        .send_message()
        .queue_url(&url)
        .message_body(big)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
    let err = client
        .send_message()
        .queue_url(&url)
        .message_body("bad \u{1} char")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_message_contents());
    let bad_name = MessageAttributeValue::builder()
        .data_type("String")
        .string_value("v")
        .build()
        .unwrap();
    let err = client
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_attributes("AWS.reserved", bad_name)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
    let err = client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(11)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
}

#[tokio::test]
async fn raw_requests_get_the_sqs_error_shape() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _client) = start(dir.path()).await;
    let cases: [(&str, &str, &str); 3] = [
        (
            "AmazonSQS.SendMessage",
            "{not json",
            "com.amazonaws.sqs#SerializationException",
        ),
        (
            "AmazonSQS.Explode",
            "{}",
            "com.amazonaws.sqs#UnsupportedOperation",
        ),
        ("Nope", "{}", "com.amazonaws.sqs#UnsupportedOperation"),
    ];
    for (target, body, expected) in cases {
        let (status, json) = raw(&server.endpoint(), target, body).await;
        assert_eq!(status, 400, "{target}");
        assert_eq!(json["__type"], expected, "{target}");
    }
}

#[tokio::test]
async fn messages_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (server, client) = start(dir.path()).await;
    let url = create(&client, "durable", &[]).await;
    for i in 0..20 {
        client
            .send_message()
            .queue_url(&url)
            .message_body(format!("m{i}"))
            .send()
            .await
            .unwrap();
    }
    server.shutdown().await;
    let (server, client) = start(dir.path()).await;
    let url = client
        .get_queue_url()
        .queue_name("durable")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    assert!(
        url.starts_with(&server.endpoint()),
        "URLs name the new port"
    );
    assert_eq!(
        count(
            &client,
            &url,
            QueueAttributeName::ApproximateNumberOfMessages
        )
        .await,
        20
    );
}

#[tokio::test]
async fn long_polling_returns_as_soon_as_a_message_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let url = create(&client, "poll", &[]).await;
    let poll = {
        let client = client.clone();
        let url = url.clone();
        tokio::spawn(async move {
            client
                .receive_message()
                .queue_url(url)
                .wait_time_seconds(10)
                .send()
                .await
                .unwrap()
                .messages
                .unwrap_or_default()
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    client
        .send_message()
        .queue_url(&url)
        .message_body("hello")
        .send()
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), poll)
        .await
        .expect("long poll must wake on send")
        .unwrap();
    assert_eq!(got.len(), 1);
}

#[tokio::test]
async fn batches_report_per_entry_results() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let url = create(&client, "batch", &[]).await;
    let entry = |id: &str, body: &str| {
        aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body(body)
            .build()
            .unwrap()
    };
    let out = client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("ok", "fine"))
        .entries(entry("bad", "\u{2}"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.successful.len(), 1);
    assert_eq!(out.failed[0].id, "bad");
    let got = receive(&client, &url, 10).await;
    let delete = |id: &str, receipt: &str| {
        aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
            .id(id)
            .receipt_handle(receipt)
            .build()
            .unwrap()
    };
    let out = client
        .delete_message_batch()
        .queue_url(&url)
        .entries(delete("one", got[0].receipt_handle.as_deref().unwrap()))
        .entries(delete("two", "garbage"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.successful.len(), 1);
    assert_eq!(out.failed[0].code, "ReceiptHandleIsInvalid");
    let dup = client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("x", "1"))
        .entries(entry("x", "2"))
        .send()
        .await
        .unwrap_err();
    assert!(dup.into_service_error().is_batch_entry_ids_not_distinct());
    let listed = client
        .list_queues()
        .queue_name_prefix("ba")
        .send()
        .await
        .unwrap()
        .queue_urls
        .unwrap();
    assert_eq!(listed, [url]);
    let url = &listed[0];
    client.purge_queue().queue_url(url).send().await.unwrap();
}
