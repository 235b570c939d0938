//! The local DynamoDB endpoint on its own: what it refuses and how, DynamoDB's documented
//! behaviour moto does not have, the TTL sweep, durability across `kill -9`, and boto3.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod dynamo;
mod endpoint_process;

use aws_sdk_dynamodb::types::AttributeValue;
use dynamo::{NOW, NOW_MS, Target, claim, code_and_message, get, in_progress, n, s};
use hookline_local::endpoint::AwsEndpoint;

/// What DynamoDB has and this endpoint does not implement gets DynamoDB's error shapes with a
/// message naming it; an unknown table and an unknown action too, over plain HTTP, with the
/// CRC32 of the body in `x-amz-crc32` as DynamoDB sends it.
#[tokio::test]
async fn what_is_not_implemented_is_refused_by_name() {
    let t = Target::local().await;
    let put = |condition: &str| {
        t.client
            .put_item()
            .table_name(&t.table)
            .item("id", s("k"))
            .condition_expression(condition)
            .expression_attribute_values(":v", s("x"))
            .send()
    };
    for (condition, words) in [
        (
            "begins_with(id, :v)",
            "does not support the function begins_with",
        ),
        (
            "id BETWEEN :v AND :v",
            "does not support the BETWEEN comparator",
        ),
        ("id IN (:v)", "does not support the IN comparator"),
        ("m.inner = :v", "does not support nested attribute paths"),
    ] {
        let (code, message) = code_and_message(&put(condition).await.unwrap_err());
        assert_eq!(code, "ValidationException", "{condition}");
        assert!(
            message.starts_with("hookline's local DynamoDB endpoint"),
            "{message}"
        );
        assert!(message.contains(words), "{condition}: {message}");
    }
    let update = |expression: &str| {
        t.client
            .update_item()
            .table_name(&t.table)
            .key("id", s("k"))
            .update_expression(expression)
            .expression_attribute_values(":v", n(1))
            .send()
    };
    for (expression, words) in [
        ("ADD hits :v", "does not support the ADD clause"),
        ("SET hits = hits + :v", "does not support arithmetic"),
        (
            "SET hits = if_not_exists(hits, :v)",
            "does not support the function if_not_exists",
        ),
    ] {
        let (code, message) = code_and_message(&update(expression).await.unwrap_err());
        assert_eq!(code, "ValidationException", "{expression}");
        assert!(message.contains(words), "{expression}: {message}");
    }
    let err = t
        .client
        .scan()
        .table_name(&t.table)
        .send()
        .await
        .unwrap_err();
    let (code, message) = code_and_message(&err);
    assert_eq!(code, "UnknownOperationException");
    assert!(
        message.contains("`Scan`") && message.contains("GetItem"),
        "{message}"
    );
    assert_eq!(get(&t, "k").await, None, "nothing was written");

    let (status, headers, body) = raw(
        &t.endpoint,
        "DynamoDB_20120810.GetItem",
        r#"{"TableName":"nope","Key":{"id":{"S":"k"}}}"#,
    )
    .await;
    assert_eq!(status, 400);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
            "message": "Requested resource not found",
        })
    );
    assert_eq!(headers["content-type"], "application/x-amz-json-1.0");
    assert_eq!(
        headers["x-amz-crc32"],
        crc32fast::hash(body.as_bytes()).to_string()
    );
    let (status, _, body) = raw(&t.endpoint, "DynamoDB_20120810.ListBackups", "{}").await;
    assert_eq!(status, 400);
    assert!(
        body.contains("com.amazon.coral.service#UnknownOperationException"),
        "{body}"
    );
}

/// DynamoDB's own rules where moto differs (moto stores numbers as sent and answers these
/// placeholder mistakes with a 500): "Leading and trailing zeroes are trimmed" (Developer Guide,
/// data types), numbers compare by value, an undefined placeholder is named.
#[tokio::test]
async fn numbers_and_placeholders_follow_dynamodb() {
    let t = Target::local().await;
    t.client
        .put_item()
        .table_name(&t.table)
        .item("id", s("n"))
        .item("amount", AttributeValue::N("0012.50".into()))
        .item("nine", n(9))
        .send()
        .await
        .unwrap();
    assert_eq!(
        get(&t, "n").await.unwrap()["amount"],
        AttributeValue::N("12.5".into())
    );
    let check = |condition: &str| {
        t.client
            .put_item()
            .table_name(&t.table)
            .item("id", s("n"))
            .condition_expression(condition)
            .expression_attribute_values(":ten", n(10))
            .send()
    };
    check("nine < :ten").await.unwrap();
    let err = check("nine > :ten").await.unwrap_err();
    assert_eq!(code_and_message(&err).0, "ConditionalCheckFailedException");
    let (code, message) = code_and_message(&check("nine < :eleven").await.unwrap_err());
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :eleven"
    );
    let (_, message) = code_and_message(&check("status = :ten").await.unwrap_err());
    assert!(message.ends_with("reserved keyword: status"), "{message}");
    let again = t
        .client
        .update_time_to_live()
        .table_name(&t.table)
        .time_to_live_specification(
            aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
                .attribute_name("expiration")
                .enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_and_message(&again).1, "TimeToLive is already enabled");
}

/// Expired records are read as they are until the sweep deletes them, as DynamoDB's TTL does;
/// the sweep leaves records whose TTL is more than five years past, records without one, and
/// records whose TTL attribute is not a number (Developer Guide, "Using DynamoDB Time to Live").
#[tokio::test]
async fn the_ttl_sweep_deletes_what_expired() {
    let t = Target::local().await;
    let put = |key: &str, expiration: AttributeValue| {
        let mut item = in_progress(key, 0, NOW_MS);
        item.insert("expiration".into(), expiration);
        t.client
            .put_item()
            .table_name(&t.table)
            .set_item(Some(item))
            .send()
    };
    put("expired", n(NOW - 1)).await.unwrap();
    put("live", n(NOW + 1)).await.unwrap();
    put("ancient", n(NOW - 6 * 365 * 86_400)).await.unwrap();
    put("text", s("0")).await.unwrap();
    t.client
        .put_item()
        .table_name(&t.table)
        .item("id", s("none"))
        .send()
        .await
        .unwrap();
    assert!(get(&t, "expired").await.is_some(), "still read until swept");
    let tables = t.local.as_ref().unwrap().0.tables().clone();
    assert_eq!(tables.delete_expired(NOW).await.unwrap(), 1);
    assert_eq!(get(&t, "expired").await, None);
    for kept in ["live", "ancient", "text", "none"] {
        assert!(get(&t, kept).await.is_some(), "{kept}");
    }
}

/// The child of [`an_acknowledged_write_survives_kill_9`]: serves the endpoint on the folder it
/// is given until it is killed.
#[tokio::test]
#[ignore = "the durability test's child process: that test runs it"]
async fn endpoint_child_process() {
    endpoint_process::serve_until_killed().await;
}

/// Every write answered 200 is on disk: the endpoint runs in another process, which is killed
/// with SIGKILL right after the answers, and a new endpoint on the same folder reads them all.
#[tokio::test]
async fn an_acknowledged_write_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, endpoint) = endpoint_process::spawn(dir.path());
    let client = dynamo::client(&endpoint);
    dynamo::create_table(&client, "durable").await;
    let t = Target {
        client,
        table: "durable".into(),
        endpoint,
        local: None,
    };
    for i in 0..20 {
        claim(&t, in_progress(&format!("k{i}"), NOW + i, NOW_MS))
            .await
            .unwrap();
    }
    child.kill().unwrap(); // SIGKILL: no shutdown, no flush.
    child.wait().unwrap();

    let server = AwsEndpoint::start("127.0.0.1:0".parse().unwrap(), dir.path())
        .await
        .unwrap();
    let t = Target {
        client: dynamo::client(&server.endpoint()),
        table: "durable".into(),
        endpoint: server.endpoint(),
        local: None,
    };
    for i in 0..20 {
        assert_eq!(
            get(&t, &format!("k{i}")).await,
            Some(in_progress(&format!("k{i}"), NOW + i, NOW_MS))
        );
    }
    let ttl = t
        .client
        .describe_time_to_live()
        .table_name("durable")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description.unwrap().attribute_name(),
        Some("expiration")
    );
}

/// boto3, unchanged (it checks `x-amz-crc32` itself): tables, TTL, the conditional claim with
/// ALL_OLD, update, get and delete, and its resource layer.
#[tokio::test]
async fn boto3_works_against_the_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let server = AwsEndpoint::start("127.0.0.1:0".parse().unwrap(), dir.path())
        .await
        .unwrap();
    endpoint_process::boto3("boto3_dynamodb.py", &server.endpoint(), "boto3 dynamodb ok").await;
    server.shutdown().await;
}

/// One HTTP/1.1 request over a plain TCP stream: status, headers (lower case) and body.
async fn raw(
    endpoint: &str,
    target: &str,
    body: &str,
) -> (u16, std::collections::BTreeMap<String, String>, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: {target}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    (head[9..12].parse().unwrap(), headers, body.to_owned())
}
