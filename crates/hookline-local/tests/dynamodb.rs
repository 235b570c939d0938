//! The local DynamoDB endpoint against moto's DynamoDB, the reference: each case runs on both
//! through aws-sdk-dynamodb, unchanged, with the idempotency store's requests (issue 16).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod dynamo;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use dynamo::{NOW, NOW_MS, Target, claim, code_and_message, get, in_progress, n, s};

on_both!(
    a_claim_on_a_new_key_writes_the_record,
    a_claim_on_a_live_in_progress_record_fails_with_the_old_item,
    a_claim_succeeds_once_the_in_progress_expiry_passed,
    a_claim_succeeds_once_the_record_expired,
    a_record_is_completed_with_its_data_and_read_back,
    completing_a_record_that_is_gone_fails_its_condition,
    a_record_is_deleted,
    an_unknown_table_is_resource_not_found,
    requests_dynamodb_refuses_are_refused_alike,
    tables_and_their_ttl_are_described,
);

async fn a_claim_on_a_new_key_writes_the_record(t: Target) {
    claim(&t, in_progress("k1", NOW + 3600, NOW_MS + 60_000))
        .await
        .unwrap();
    let item = get(&t, "k1").await.unwrap();
    assert_eq!(item, in_progress("k1", NOW + 3600, NOW_MS + 60_000));
    assert_eq!(get(&t, "other").await, None);
}

async fn a_claim_on_a_live_in_progress_record_fails_with_the_old_item(t: Target) {
    let first = in_progress("k2", NOW + 3600, NOW_MS + 60_000);
    claim(&t, first.clone()).await.unwrap();
    let err = claim(&t, in_progress("k2", NOW + 7200, NOW_MS + 120_000))
        .await
        .unwrap_err();
    let (code, message) = code_and_message(&err);
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ConditionalCheckFailedException",
            "The conditional request failed"
        )
    );
    let failed = err.into_service_error();
    assert!(failed.is_conditional_check_failed_exception());
    let aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(e) =
        failed
    else {
        panic!("not a ConditionalCheckFailedException: {failed:?}")
    };
    // ReturnValuesOnConditionCheckFailure ALL_OLD: the record as it is.
    assert_eq!(e.item(), Some(&first));
    assert_eq!(get(&t, "k2").await, Some(first), "the record is unchanged");
}

async fn a_claim_succeeds_once_the_in_progress_expiry_passed(t: Target) {
    // An in-progress record whose processing instance died: its in-progress expiry passed.
    t.client
        .put_item()
        .table_name(&t.table)
        .set_item(Some(in_progress("k3", NOW + 3600, NOW_MS - 1)))
        .send()
        .await
        .unwrap();
    let retry = in_progress("k3", NOW + 3600, NOW_MS + 60_000);
    claim(&t, retry.clone()).await.unwrap();
    assert_eq!(get(&t, "k3").await, Some(retry));
}

async fn a_claim_succeeds_once_the_record_expired(t: Target) {
    let mut completed = in_progress("k4", NOW - 1, NOW_MS + 60_000);
    completed.insert("status".into(), s("COMPLETED"));
    t.client
        .put_item()
        .table_name(&t.table)
        .set_item(Some(completed))
        .send()
        .await
        .unwrap();
    let again = in_progress("k4", NOW + 3600, NOW_MS + 60_000);
    claim(&t, again.clone()).await.unwrap();
    assert_eq!(get(&t, "k4").await, Some(again));
}

fn complete(
    t: &Target,
    key: &str,
    data: &str,
) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
    t.client
        .update_item()
        .table_name(&t.table)
        .key("id", s(key))
        .update_expression("SET #status = :completed, #expiration = :expiration, #data = :data")
        .condition_expression("attribute_exists(#id)")
        .expression_attribute_names("#id", "id")
        .expression_attribute_names("#status", "status")
        .expression_attribute_names("#expiration", "expiration")
        .expression_attribute_names("#data", "data")
        .expression_attribute_values(":completed", s("COMPLETED"))
        .expression_attribute_values(":expiration", n(NOW + 86_400))
        .expression_attribute_values(":data", s(data))
}

async fn a_record_is_completed_with_its_data_and_read_back(t: Target) {
    claim(&t, in_progress("k5", NOW + 3600, NOW_MS + 60_000))
        .await
        .unwrap();
    let out = complete(&t, "k5", "{\"ok\":true}")
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    let mut expected = in_progress("k5", NOW + 86_400, NOW_MS + 60_000);
    expected.insert("status".into(), s("COMPLETED"));
    expected.insert("data".into(), s("{\"ok\":true}"));
    assert_eq!(out.attributes, Some(expected.clone()));
    assert_eq!(get(&t, "k5").await, Some(expected));
    // A completed, unexpired record is not claimed again.
    claim(&t, in_progress("k5", NOW + 3600, NOW_MS + 60_000))
        .await
        .unwrap_err();
}

async fn completing_a_record_that_is_gone_fails_its_condition(t: Target) {
    let err = complete(&t, "gone", "{}").send().await.unwrap_err();
    assert_eq!(code_and_message(&err).0, "ConditionalCheckFailedException");
    assert_eq!(get(&t, "gone").await, None, "nothing was written");
}

async fn a_record_is_deleted(t: Target) {
    claim(&t, in_progress("k6", NOW + 3600, NOW_MS + 60_000))
        .await
        .unwrap();
    let out = t
        .client
        .delete_item()
        .table_name(&t.table)
        .key("id", s("k6"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.attributes,
        Some(in_progress("k6", NOW + 3600, NOW_MS + 60_000))
    );
    assert_eq!(get(&t, "k6").await, None);
    // Deleting what is not there succeeds, unless a condition says otherwise.
    t.client
        .delete_item()
        .table_name(&t.table)
        .key("id", s("k6"))
        .send()
        .await
        .unwrap();
    let err = t
        .client
        .delete_item()
        .table_name(&t.table)
        .key("id", s("k6"))
        .condition_expression("attribute_exists(id)")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_and_message(&err).0, "ConditionalCheckFailedException");
}

async fn an_unknown_table_is_resource_not_found(t: Target) {
    let missing = format!("{}-missing", t.table);
    let err = t
        .client
        .get_item()
        .table_name(&missing)
        .key("id", s("k"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_message(&err),
        (
            "ResourceNotFoundException".into(),
            "Requested resource not found".into()
        )
    );
    let err = t
        .client
        .describe_table()
        .table_name(&missing)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
    let record = in_progress("k", NOW, NOW_MS);
    let err = t
        .client
        .put_item()
        .table_name(&missing)
        .set_item(Some(record))
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
}

async fn requests_dynamodb_refuses_are_refused_alike(t: Target) {
    let validation = |err: (String, String), words: &str| {
        assert_eq!(err.0, "ValidationException", "{err:?}");
        assert!(err.1.contains(words), "{:?} lacks {words:?}", err.1);
    };
    // A placeholder no expression uses.
    let err = t
        .client
        .put_item()
        .table_name(&t.table)
        .item("id", s("v1"))
        .condition_expression("attribute_not_exists(id)")
        .expression_attribute_names("#unused", "x")
        .send()
        .await
        .unwrap_err();
    validation(
        code_and_message(&err),
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}",
    );
    // An item without its key, or with a key of the wrong type.
    let err = t
        .client
        .put_item()
        .table_name(&t.table)
        .item("other", s("x"))
        .send()
        .await
        .unwrap_err();
    validation(code_and_message(&err), "Missing the key id in the item");
    let err = t
        .client
        .put_item()
        .table_name(&t.table)
        .item("id", n(1))
        .send()
        .await
        .unwrap_err();
    validation(
        code_and_message(&err),
        "Type mismatch for key id expected: S actual: N",
    );
    // A key that is not the table's.
    let err = t
        .client
        .get_item()
        .table_name(&t.table)
        .key("other", s("x"))
        .send()
        .await
        .unwrap_err();
    validation(
        code_and_message(&err),
        "The provided key element does not match the schema",
    );
    // Updating the key, or one attribute twice.
    let update = |expression: &str| {
        t.client
            .update_item()
            .table_name(&t.table)
            .key("id", s("v2"))
            .update_expression(expression)
            .expression_attribute_values(":v", s("x"))
            .send()
    };
    let err = update("SET id = :v").await.unwrap_err();
    validation(
        code_and_message(&err),
        "Cannot update attribute id. This attribute is part of the key",
    );
    let err = update("SET a = :v, a = :v").await.unwrap_err();
    validation(
        code_and_message(&err),
        "Two document paths overlap with each other",
    );
    let err = update("SET a = :v SET b = :v").await.unwrap_err();
    validation(
        code_and_message(&err),
        "The \"SET\" section can only be used once in an update expression",
    );
    // NULL must be true.
    let err = t
        .client
        .put_item()
        .table_name(&t.table)
        .item("id", s("v3"))
        .item("z", AttributeValue::Null(false))
        .send()
        .await
        .unwrap_err();
    validation(
        code_and_message(&err),
        "Null attribute value types must have the value of true",
    );
    assert_eq!(get(&t, "v1").await, None);
    assert_eq!(get(&t, "v2").await, None);
}

async fn tables_and_their_ttl_are_described(t: Target) {
    let table = t
        .client
        .describe_table()
        .table_name(&t.table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    assert_eq!(table.table_name(), Some(t.table.as_str()));
    assert_eq!(table.table_status().map(|s| s.as_str()), Some("ACTIVE"));
    let key = &table.key_schema()[0];
    assert_eq!(
        (key.attribute_name(), key.key_type().as_str()),
        ("id", "HASH")
    );
    assert_eq!(
        table
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|m| m.as_str()),
        Some("PAY_PER_REQUEST")
    );
    assert!(
        table
            .table_arn()
            .unwrap()
            .ends_with(&format!(":table/{}", t.table))
    );
    let ttl = t
        .client
        .describe_time_to_live()
        .table_name(&t.table)
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    assert_eq!(
        (
            ttl.time_to_live_status().map(|s| s.as_str()),
            ttl.attribute_name()
        ),
        (Some("ENABLED"), Some("expiration"))
    );
    let again = t
        .client
        .create_table()
        .table_name(&t.table)
        .key_schema(key.clone())
        .attribute_definitions(table.attribute_definitions()[0].clone())
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_and_message(&again).0, "ResourceInUseException");
}
