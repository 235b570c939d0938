//! Where the local SQS endpoint once differed from SQS (issue 14, items 10 and 12): each test
//! goes through aws-sdk-sqs, names its source, and failed before the endpoint was changed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    MessageAttributeValue, MessageSystemAttributeName, MessageSystemAttributeNameForSends,
    MessageSystemAttributeValue, QueueAttributeName, SendMessageBatchRequestEntry,
};

mod support;
use support::{count, create, raw, receive, start};

const FIFO: (QueueAttributeName, &str) = (QueueAttributeName::FifoQueue, "true");

async fn send_fifo(client: &Client, url: &str, group: &str, dedup: &str, body: &str) {
    client
        .send_message()
        .queue_url(url)
        .message_body(body)
        .message_group_id(group)
        .message_deduplication_id(dedup)
        .send()
        .await
        .unwrap();
}

fn bodies(messages: &[aws_sdk_sqs::types::Message]) -> Vec<String> {
    messages.iter().map(|m| m.body.clone().unwrap()).collect()
}

async fn receive_with_visibility(
    client: &Client,
    url: &str,
    visibility: i32,
) -> Vec<aws_sdk_sqs::types::Message> {
    client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .visibility_timeout(visibility)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default()
}

/// "Inflight messages block delivery of available messages within the same message group" (AWS
/// Knowledge Center, "Why doesn't my Amazon SQS FIFO queue return all messages ...?"): while any
/// message of a group is in flight, the group returns nothing, even an earlier one of its
/// messages that is visible again.
#[tokio::test]
async fn a_fifo_group_is_blocked_while_any_of_its_messages_is_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let url = create(&client, "blocked.fifo", &[FIFO]).await;
    send_fifo(&client, &url, "g", "1", "g1").await;
    send_fifo(&client, &url, "g", "2", "g2").await;
    let both = receive(&client, &url, 10).await;
    assert_eq!(bodies(&both), ["g1", "g2"]);
    client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(both[0].receipt_handle.clone().unwrap())
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    assert!(
        receive(&client, &url, 10).await.is_empty(),
        "g1 is visible again but g2 is still in flight"
    );
}

/// A message still in its delivery delay is not in flight: the messages of its group sent
/// before it are delivered, those after it wait (SQS Developer Guide, "Amazon SQS delay queues":
/// delayed messages are invisible, not received).
#[tokio::test]
async fn a_delayed_fifo_message_holds_back_only_what_follows_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let url = create(&client, "delayed.fifo", &[FIFO]).await;
    send_fifo(&client, &url, "g", "1", "before").await;
    client
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::DelaySeconds, "900")
        .send()
        .await
        .unwrap();
    send_fifo(&client, &url, "g", "2", "delayed").await;
    client
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::DelaySeconds, "0")
        .send()
        .await
        .unwrap();
    send_fifo(&client, &url, "g", "3", "after").await;
    assert_eq!(bodies(&receive(&client, &url, 10).await), ["before"]);
}

/// SQS Developer Guide, "FIFO queue delivery logic in Amazon SQS": "Amazon SQS first attempts to
/// return as many messages with the same message group ID as possible".
#[tokio::test]
async fn a_fifo_receive_fills_its_batch_from_one_group_first() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let url = create(&client, "groups.fifo", &[FIFO]).await;
    for (group, dedup) in [("a", "1"), ("b", "2"), ("a", "3"), ("b", "4")] {
        send_fifo(&client, &url, group, dedup, &format!("{group}{dedup}")).await;
    }
    assert_eq!(
        bodies(&receive(&client, &url, 10).await),
        ["a1", "a3", "b2", "b4"]
    );
}

/// ChangeMessageVisibility with a handle whose timeout ran out, or with an earlier receive's
/// handle, answers 200 and changes nothing (observed; LocalStack pull request 9632's
/// AWS-validated test). A deleted message's handle is refused with SQS's words.
#[tokio::test]
async fn visibility_changes_with_stale_handles_succeed_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let url = create(&client, "stale", &[]).await;
    client
        .send_message()
        .queue_url(&url)
        .message_body("m")
        .send()
        .await
        .unwrap();
    // Received with a zero timeout: visible again at once, so its handle has expired.
    let expired = receive_with_visibility(&client, &url, 0).await[0]
        .receipt_handle
        .clone()
        .unwrap();
    let change = |handle: String, secs: i32| {
        client
            .change_message_visibility()
            .queue_url(&url)
            .receipt_handle(handle)
            .visibility_timeout(secs)
            .send()
    };
    change(expired.clone(), 300).await.unwrap();
    let again = receive_with_visibility(&client, &url, 300).await;
    assert_eq!(bodies(&again), ["m"], "the expired handle hid nothing");
    // The first receive's handle is superseded: making it visible does nothing.
    change(expired, 0).await.unwrap();
    assert!(receive(&client, &url, 10).await.is_empty());
    let current = again[0].receipt_handle.clone().unwrap();
    client
        .delete_message()
        .queue_url(&url)
        .receipt_handle(&current)
        .send()
        .await
        .unwrap();
    let err = change(current, 0).await.unwrap_err().into_service_error();
    assert_eq!(err.meta().code(), Some("InvalidParameterValue"));
    assert!(
        err.meta()
            .message()
            .unwrap()
            .contains("Message does not exist or is not available for visibility timeout change"),
        "{err:?}"
    );
}

/// A FIFO queue refuses DeleteMessage with an expired handle ("The receipt handle has expired",
/// observed: aws-sdk-js issue 1750); a standard queue answers 200 to an earlier receive's handle
/// without deleting ("If you use an old ReceiptHandle, the request will succeed, but the message
/// might not be deleted", SQS API Reference, DeleteMessage).
#[tokio::test]
async fn deletes_with_stale_handles_follow_the_queue_type() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let fifo = create(&client, "expire.fifo", &[FIFO]).await;
    send_fifo(&client, &fifo, "g", "1", "f").await;
    let handle = receive_with_visibility(&client, &fifo, 0).await[0]
        .receipt_handle
        .clone()
        .unwrap();
    let err = client
        .delete_message()
        .queue_url(&fifo)
        .receipt_handle(handle)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.meta().code(), Some("InvalidParameterValue"));
    assert!(
        err.meta()
            .message()
            .unwrap()
            .ends_with("Reason: The receipt handle has expired."),
        "{err:?}"
    );
    assert_eq!(
        bodies(&receive(&client, &fifo, 10).await),
        ["f"],
        "not deleted"
    );

    let standard = create(&client, "superseded", &[]).await;
    client
        .send_message()
        .queue_url(&standard)
        .message_body("s")
        .send()
        .await
        .unwrap();
    let first = receive_with_visibility(&client, &standard, 0).await[0]
        .receipt_handle
        .clone()
        .unwrap();
    assert_eq!(bodies(&receive(&client, &standard, 10).await), ["s"]);
    client
        .delete_message()
        .queue_url(&standard)
        .receipt_handle(first)
        .send()
        .await
        .unwrap();
    assert_eq!(
        count(
            &client,
            &standard,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible
        )
        .await,
        1,
        "an earlier receive's handle deletes nothing"
    );
}

/// `DeduplicationScope` "specifies whether message deduplication occurs at the message group or
/// queue level"; `perMessageGroupId` "is allowed only when the value for DeduplicationScope is
/// messageGroup" (SQS API Reference, SetQueueAttributes).
#[tokio::test]
async fn deduplication_per_message_group() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let url = create(
        &client,
        "high.fifo",
        &[
            FIFO,
            (QueueAttributeName::DeduplicationScope, "messageGroup"),
            (QueueAttributeName::FifoThroughputLimit, "perMessageGroupId"),
        ],
    )
    .await;
    send_fifo(&client, &url, "a", "same", "a").await;
    send_fifo(&client, &url, "b", "same", "b").await;
    send_fifo(&client, &url, "a", "same", "a-again").await;
    assert_eq!(bodies(&receive(&client, &url, 10).await), ["a", "b"]);
    let err = client
        .create_queue()
        .queue_name("bad.fifo")
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::FifoThroughputLimit, "perMessageGroupId")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.meta().code(), Some("InvalidParameterValue"));
}

/// After PurgeQueue, a message with a purged message's deduplication id is accepted again.
/// Undocumented, and reports differ (`Store::purge` names them); LocalStack does the same.
#[tokio::test]
async fn purge_forgets_deduplication_ids() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let url = create(&client, "purged.fifo", &[FIFO]).await;
    send_fifo(&client, &url, "g", "d", "before").await;
    client.purge_queue().queue_url(&url).send().await.unwrap();
    send_fifo(&client, &url, "g", "d", "after").await;
    assert_eq!(bodies(&receive(&client, &url, 10).await), ["after"]);
}

/// CreateQueue by name only returns an existing queue's URL whatever its attributes (observed);
/// differing values named in the request are `QueueNameExists` (SQS API Reference,
/// CreateQueue). Booleans are accepted in any case.
#[tokio::test]
async fn create_queue_is_idempotent_by_name_and_booleans_ignore_case() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let url = create(
        &client,
        "made",
        &[(QueueAttributeName::VisibilityTimeout, "60")],
    )
    .await;
    assert_eq!(create(&client, "made", &[]).await, url);
    assert_eq!(
        create(
            &client,
            "made",
            &[(QueueAttributeName::VisibilityTimeout, "60")]
        )
        .await,
        url
    );
    let err = client
        .create_queue()
        .queue_name("made")
        .attributes(QueueAttributeName::VisibilityTimeout, "30")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_queue_name_exists(), "{err:?}");
    let fifo = create(
        &client,
        "cased.fifo",
        &[
            (QueueAttributeName::FifoQueue, "True"),
            (QueueAttributeName::ContentBasedDeduplication, "TRUE"),
        ],
    )
    .await;
    let attributes = client
        .get_queue_attributes()
        .queue_url(&fifo)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(attributes[&QueueAttributeName::FifoQueue], "true");
    assert_eq!(
        attributes[&QueueAttributeName::ContentBasedDeduplication],
        "true"
    );
}

/// SQS accepts a bare queue name where a QueueUrl is expected (observed).
#[tokio::test]
async fn a_bare_queue_name_works_as_the_queue_url() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    create(&client, "bare", &[]).await;
    client
        .send_message()
        .queue_url("bare")
        .message_body("by name")
        .send()
        .await
        .unwrap();
    assert_eq!(bodies(&receive(&client, "bare", 10).await), ["by name"]);
}

/// TagQueue, UntagQueue, ListQueueTags and CreateQueue's `tags` (SQS API Reference).
#[tokio::test]
async fn tags_are_stored_and_returned() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let url = client
        .create_queue()
        .queue_name("tagged")
        .tags("team", "payments")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let tags = |url: String| {
        let client = client.clone();
        async move {
            client
                .list_queue_tags()
                .queue_url(url)
                .send()
                .await
                .unwrap()
                .tags
        }
    };
    assert_eq!(tags(url.clone()).await.unwrap()["team"], "payments");
    client
        .tag_queue()
        .queue_url(&url)
        .tags("team", "billing")
        .tags("env", "dev")
        .send()
        .await
        .unwrap();
    let now = tags(url.clone()).await.unwrap();
    assert_eq!(
        (now["team"].as_str(), now["env"].as_str()),
        ("billing", "dev")
    );
    client
        .untag_queue()
        .queue_url(&url)
        .tag_keys("team")
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    assert_eq!(tags(url).await, None, "no tags: the map is left out");
}

/// SSE-SQS is on by default for new queues (AWS Compute Blog, "Announcing server-side encryption
/// with Amazon Simple Queue Service-managed encryption keys (SSE-SQS) by default"); a FIFO
/// queue reports `DeduplicationScope` and `FifoThroughputLimit` (SQS API Reference,
/// GetQueueAttributes).
#[tokio::test]
async fn queue_attributes_report_sqs_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let all = |url: String| {
        let client = client.clone();
        async move {
            client
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(QueueAttributeName::All)
                .send()
                .await
                .unwrap()
                .attributes
                .unwrap()
        }
    };
    let standard = all(create(&client, "plain", &[]).await).await;
    assert_eq!(standard[&QueueAttributeName::SqsManagedSseEnabled], "true");
    assert!(!standard.contains_key(&QueueAttributeName::DeduplicationScope));
    let fifo = all(create(&client, "ordered.fifo", &[FIFO]).await).await;
    assert_eq!(fifo[&QueueAttributeName::DeduplicationScope], "queue");
    assert_eq!(fifo[&QueueAttributeName::FifoThroughputLimit], "perQueue");
}

/// SQS leaves empty lists out of its JSON answers: an empty receive answers `{}` (observed), a
/// batch whose entries all succeed has no `Failed` (async-aws issue 1620) and one whose entries
/// all fail no `Successful` (opentelemetry-python-contrib issue 4744).
#[tokio::test]
async fn empty_lists_are_left_out_of_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (server, client) = start(dir.path()).await;
    let url = create(&client, "quiet", &[]).await;
    let call = |action: &str, body: serde_json::Value| {
        let endpoint = server.endpoint();
        let target = format!("AmazonSQS.{action}");
        async move { raw(&endpoint, &target, &body.to_string()).await }
    };
    let (status, json) = call("ReceiveMessage", serde_json::json!({ "QueueUrl": url })).await;
    assert_eq!((status, json), (200, serde_json::json!({})));
    let entry = |id: &str, body: &str| serde_json::json!({ "Id": id, "MessageBody": body });
    let (_, all_sent) = call(
        "SendMessageBatch",
        serde_json::json!({ "QueueUrl": url, "Entries": [entry("a", "1"), entry("b", "2")] }),
    )
    .await;
    assert_eq!(all_sent["Successful"].as_array().unwrap().len(), 2);
    assert!(all_sent.get("Failed").is_none(), "{all_sent}");
    let (_, all_failed) = call(
        "SendMessageBatch",
        serde_json::json!({ "QueueUrl": url, "Entries": [entry("c", "\u{1}")] }),
    )
    .await;
    assert_eq!(all_failed["Failed"].as_array().unwrap().len(), 1);
    assert!(all_failed.get("Successful").is_none(), "{all_failed}");
}

/// SendMessageBatch: "the maximum total payload size (the sum of the individual lengths of all
/// of the batched messages)" is 1 MiB, attributes included (SQS API Reference).
#[tokio::test]
async fn a_batch_over_1_mib_with_its_attributes_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let url = create(&client, "heavy", &[]).await;
    let attribute = MessageAttributeValue::builder()
        .data_type("String")
        .string_value("x".repeat(100))
        .build()
        .unwrap();
    let entry = |id: &str| {
        SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body("b".repeat(524_288))
            .message_attributes("pad", attribute.clone())
            .build()
            .unwrap()
    };
    // The bodies alone are exactly 1 MiB; the attributes push the batch over.
    let err = client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("one"))
        .entries(entry("two"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_batch_request_too_long(), "{err:?}");
    assert_eq!(
        count(
            &client,
            &url,
            QueueAttributeName::ApproximateNumberOfMessages
        )
        .await,
        0
    );
}

/// A FIFO batch with an entry that lacks its group fails as a whole and sends nothing
/// (observed; the API Reference does not say).
#[tokio::test]
async fn a_fifo_batch_is_validated_as_a_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let url = create(&client, "whole.fifo", &[FIFO]).await;
    let good = SendMessageBatchRequestEntry::builder()
        .id("good")
        .message_body("g")
        .message_group_id("g")
        .message_deduplication_id("1")
        .build()
        .unwrap();
    let groupless = SendMessageBatchRequestEntry::builder()
        .id("groupless")
        .message_body("x")
        .message_deduplication_id("2")
        .build()
        .unwrap();
    let err = client
        .send_message_batch()
        .queue_url(&url)
        .entries(good)
        .entries(groupless)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    // SQS names the missing group an invalid value in a batch (LocalStack's AWS-recorded
    // `test_send_batch_missing_message_group_id_for_fifo_queue`).
    assert_eq!(err.meta().code(), Some("InvalidParameterValue"), "{err:?}");
    assert_eq!(
        err.meta().message(),
        Some("The request must contain the parameter MessageGroupId."),
        "{err:?}"
    );
    assert_eq!(
        count(
            &client,
            &url,
            QueueAttributeName::ApproximateNumberOfMessages
        )
        .await,
        0
    );
}

/// A message moved to a dead-letter queue carries `DeadLetterQueueSourceArn`, and
/// ListDeadLetterSourceQueues names the queues that use a DLQ (SQS API Reference).
#[tokio::test]
async fn dead_letters_name_their_source() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let dlq = create(&client, "src-dlq", &[]).await;
    let policy = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:src-dlq","maxReceiveCount":"1"}"#;
    let source = create(
        &client,
        "src",
        &[
            (QueueAttributeName::RedrivePolicy, policy),
            (QueueAttributeName::VisibilityTimeout, "0"),
        ],
    )
    .await;
    create(&client, "unrelated", &[]).await;
    client
        .send_message()
        .queue_url(&source)
        .message_body("poison")
        .send()
        .await
        .unwrap();
    assert_eq!(receive(&client, &source, 1).await.len(), 1);
    assert!(receive(&client, &source, 1).await.is_empty(), "moved");
    let dead = receive(&client, &dlq, 1).await;
    assert_eq!(
        dead[0].attributes.as_ref().unwrap()[&MessageSystemAttributeName::DeadLetterQueueSourceArn],
        "arn:aws:sqs:us-east-1:000000000000:src"
    );
    let sources = client
        .list_dead_letter_source_queues()
        .queue_url(&dlq)
        .send()
        .await
        .unwrap()
        .queue_urls;
    assert_eq!(sources, [source]);
}

/// The `AWSTraceHeader` message system attribute: sent with `MessageSystemAttributes`, returned
/// on receive (SQS API Reference, SendMessage and ReceiveMessage), in batches too.
#[tokio::test]
async fn the_trace_header_travels_with_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let url = create(&client, "traced", &[]).await;
    let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let trace = MessageSystemAttributeValue::builder()
        .data_type("String")
        .string_value(header)
        .build()
        .unwrap();
    let sent = client
        .send_message()
        .queue_url(&url)
        .message_body("one")
        .message_system_attributes(
            MessageSystemAttributeNameForSends::AwsTraceHeader,
            trace.clone(),
        )
        .send()
        .await
        .unwrap();
    assert!(sent.md5_of_message_system_attributes.is_some());
    client
        .send_message_batch()
        .queue_url(&url)
        .entries(
            SendMessageBatchRequestEntry::builder()
                .id("two")
                .message_body("two")
                .message_system_attributes(
                    MessageSystemAttributeNameForSends::AwsTraceHeader,
                    trace,
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let got = client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .message_system_attribute_names(MessageSystemAttributeName::AwsTraceHeader)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap();
    assert_eq!(got.len(), 2);
    for m in got {
        let attributes = m.attributes.unwrap();
        assert_eq!(
            attributes[&MessageSystemAttributeName::AwsTraceHeader],
            header
        );
        assert_eq!(attributes.len(), 1, "only what was asked for");
    }
}

/// ReceiveMessage's `MessageAttributeNames`: "All or .*", or "all message attributes starting
/// with a prefix, for example bar.*" (SQS API Reference), the prefix being what comes before
/// `.*`, and `*` meaning all, as LocalStack's AWS-validated snapshot test
/// `test_receive_message_message_attribute_names_filters` records SQS answering.
#[tokio::test]
async fn message_attribute_names_select_all_or_by_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let url = create(
        &client,
        "selected",
        &[(QueueAttributeName::VisibilityTimeout, "0")],
    )
    .await;
    let value = MessageAttributeValue::builder()
        .data_type("String")
        .string_value("v")
        .build()
        .unwrap();
    client
        .send_message()
        .queue_url(&url)
        .message_body("m")
        .message_attributes("Help.Me", value.clone())
        .message_attributes("Hello", value.clone())
        .message_attributes("General", value)
        .send()
        .await
        .unwrap();
    let all = vec!["General", "Hello", "Help.Me"];
    for (names, expected) in [
        (vec!["All"], all.clone()),
        (vec![".*"], all.clone()),
        (vec!["*"], all),
        (vec!["Hel.*"], vec!["Hello", "Help.Me"]),
        (vec!["Help.*"], vec!["Help.Me"]),
        (vec!["Foo", "Hello"], vec!["Hello"]),
        (vec!["Foo", "Help"], vec![]),
    ] {
        let mut request = client.receive_message().queue_url(&url);
        for name in &names {
            request = request.message_attribute_names(*name);
        }
        let got = request.send().await.unwrap().messages.unwrap();
        let mut keys: Vec<String> = got[0]
            .message_attributes
            .clone()
            .unwrap_or_default()
            .into_keys()
            .collect();
        keys.sort();
        assert_eq!(keys, expected, "{names:?}");
        assert_eq!(
            got[0].md5_of_message_attributes.is_some(),
            !expected.is_empty(),
            "the digest covers what is returned: {names:?}"
        );
    }
}
