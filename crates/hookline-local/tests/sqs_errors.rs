//! The local SQS endpoint's errors as SQS's JSON protocol gives them (issue 14, item 12): the
//! shape name in `__type`, the query code and fault in `x-amzn-query-error` (the SQS Developer
//! Guide, "Interpreting Amazon SQS JSON API responses"), the status, and aws-sdk-sqs mapping each
//! to its typed error. `crates/hookline-local/src/sqs/error.rs` names the source of each name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use serde_json::json;

mod support;
use support::{create, header, raw_with_head, start};

/// One error on the wire: (action, body, status, `__type` after `com.amazonaws.sqs#`,
/// `x-amzn-query-error`).
struct Wire {
    action: &'static str,
    body: serde_json::Value,
    status: u16,
    shape: &'static str,
    query_error: &'static str,
}

#[tokio::test]
async fn errors_carry_sqs_shape_names_and_query_codes_on_the_wire() {
    let dir = tempfile::tempdir().unwrap();
    let (server, client) = start(dir.path()).await;
    let url = create(&client, "errors", &[]).await;
    let fifo = create(
        &client,
        "errors.fifo",
        &[(QueueAttributeName::FifoQueue, "true")],
    )
    .await;
    let entries: Vec<serde_json::Value> = (0..11)
        .map(|i| json!({ "Id": format!("e{i}"), "MessageBody": "m" }))
        .collect();
    let cases = [
        // The Developer Guide's own example.
        Wire {
            action: "GetQueueUrl",
            body: json!({ "QueueName": "absent" }),
            status: 400,
            shape: "QueueDoesNotExist",
            query_error: "AWS.SimpleQueueService.NonExistentQueue;Sender",
        },
        Wire {
            action: "ReceiveMessage",
            body: json!({ "QueueUrl": url, "MaxNumberOfMessages": 11 }),
            status: 400,
            shape: "InvalidParameterValueException",
            query_error: "InvalidParameterValue;Sender",
        },
        Wire {
            action: "SendMessage",
            body: json!({ "QueueUrl": fifo, "MessageBody": "m", "MessageDeduplicationId": "1" }),
            status: 400,
            shape: "MissingRequiredParameterException",
            query_error: "MissingParameter;Sender",
        },
        Wire {
            action: "CreateQueue",
            body: json!({ "QueueName": "errors", "Attributes": { "DelaySeconds": "5" } }),
            status: 400,
            shape: "QueueNameExists",
            query_error: "QueueAlreadyExists;Sender",
        },
        Wire {
            action: "SendMessageBatch",
            body: json!({ "QueueUrl": url, "Entries": entries }),
            status: 400,
            shape: "TooManyEntriesInBatchRequest",
            query_error: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest;Sender",
        },
        Wire {
            action: "DeleteMessage",
            body: json!({ "QueueUrl": url, "ReceiptHandle": "garbage" }),
            status: 400,
            shape: "ReceiptHandleIsInvalid",
            query_error: "ReceiptHandleIsInvalid;Sender",
        },
        Wire {
            action: "GetQueueAttributes",
            body: json!({ "QueueUrl": url, "AttributeNames": ["Bogus"] }),
            status: 400,
            shape: "InvalidAttributeName",
            query_error: "InvalidAttributeName;Sender",
        },
        Wire {
            action: "SendMessage",
            body: json!({ "QueueUrl": url, "MessageBody": "\u{1}" }),
            status: 400,
            shape: "InvalidMessageContents",
            query_error: "InvalidMessageContents;Sender",
        },
        Wire {
            action: "StartMessageMoveTask",
            body: json!({ "SourceArn": "arn:aws:sqs:us-east-1:000000000000:absent" }),
            status: 404,
            shape: "ResourceNotFoundException",
            query_error: "ResourceNotFoundException;Sender",
        },
    ];
    for case in cases {
        let target = format!("AmazonSQS.{}", case.action);
        let (status, head, json) =
            raw_with_head(&server.endpoint(), &target, &case.body.to_string()).await;
        let what = format!("{} {}", case.action, case.body);
        assert_eq!(status, case.status, "{what}: {json}");
        assert_eq!(
            json["__type"],
            format!("com.amazonaws.sqs#{}", case.shape),
            "{what}"
        );
        assert!(json["message"].is_string(), "{what}: {json}");
        assert_eq!(
            header(&head, "x-amzn-query-error"),
            Some(case.query_error),
            "{what}:\n{head}"
        );
        assert_eq!(
            header(&head, "content-type"),
            Some("application/x-amz-json-1.0"),
            "{what}"
        );
    }
}

/// What aws-sdk-sqs makes of them: its typed errors, or for the errors SQS does not model, the
/// query code as the error's code.
#[tokio::test]
async fn aws_sdk_sqs_maps_them_to_its_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = start(dir.path()).await;
    let url = create(&client, "typed", &[]).await;
    let fifo = create(
        &client,
        "typed.fifo",
        &[(QueueAttributeName::FifoQueue, "true")],
    )
    .await;

    let err = client
        .get_queue_url()
        .queue_name("absent")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_queue_does_not_exist(), "{err:?}");
    let err = client
        .send_message()
        .queue_url(format!("{}-absent", url))
        .message_body("m")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_queue_does_not_exist(), "{err:?}");
    let err = client
        .create_queue()
        .queue_name("typed")
        .attributes(QueueAttributeName::DelaySeconds, "5")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_queue_name_exists(), "{err:?}");
    let mut batch = client.send_message_batch().queue_url(&url);
    for i in 0..11 {
        batch = batch.entries(
            SendMessageBatchRequestEntry::builder()
                .id(format!("e{i}"))
                .message_body("m")
                .build()
                .unwrap(),
        );
    }
    let err = batch.send().await.unwrap_err().into_service_error();
    assert!(err.is_too_many_entries_in_batch_request(), "{err:?}");
    let err = client
        .delete_message()
        .queue_url(&url)
        .receipt_handle("garbage")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_receipt_handle_is_invalid(), "{err:?}");
    let err = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::from("Bogus"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_attribute_name(), "{err:?}");
    let err = client
        .send_message()
        .queue_url(&url)
        .message_body("\u{1}")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_message_contents(), "{err:?}");
    let err = client
        .start_message_move_task()
        .source_arn("arn:aws:sqs:us-east-1:000000000000:absent")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    // Not modelled: the query code is the code.
    let err = client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(11)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.meta().code(), Some("InvalidParameterValue"), "{err:?}");
    let err = client
        .send_message()
        .queue_url(&fifo)
        .message_body("m")
        .message_deduplication_id("1")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.meta().code(), Some("MissingParameter"), "{err:?}");
}
