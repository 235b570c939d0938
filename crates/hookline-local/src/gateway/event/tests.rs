#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use std::collections::BTreeSet;

use serde_json::json;

use super::*;

/// The example event of "Working with AWS Lambda proxy integrations for HTTP APIs"
/// (payload format 2.0), without the parts a local route never has: `pathParameters`,
/// `stageVariables`, and `requestContext.authentication`/`authorizer`.
const DOCUMENTED: &str = r#"{
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/my/path",
    "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
    "cookies": ["cookie1", "cookie2"],
    "headers": {"header1": "value1", "header2": "value1,value2"},
    "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "api-id",
        "domainName": "id.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "id",
        "http": {
            "method": "POST",
            "path": "/my/path",
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "agent"
        },
        "requestId": "id",
        "routeKey": "$default",
        "stage": "$default",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390
    },
    "body": "Hello from Lambda",
    "isBase64Encoded": false
}"#;

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

fn sample(body: &[u8]) -> Value {
    sample_typed(body, Some("application/json"))
}

fn sample_typed(body: &[u8], content_type: Option<&'static str>) -> Value {
    let mut headers = HeaderMap::new();
    if let Some(content_type) = content_type {
        headers.append("content-type", HeaderValue::from_static(content_type));
    }
    headers.append("host", HeaderValue::from_static("hooks.example.com"));
    headers.append("user-agent", HeaderValue::from_static("agent"));
    headers.append("x-repeated", HeaderValue::from_static("a"));
    headers.append("x-repeated", HeaderValue::from_static("b"));
    headers.append("x-latin1", HeaderValue::from_bytes(b"caf\xe9").unwrap());
    headers.append("cookie", HeaderValue::from_static("c1=1; c2=2"));
    headers.append("cookie", HeaderValue::from_static("c3=3"));
    let uri: Uri = "/webhooks/stripe?p=1&p=2&q=&r".parse().unwrap();
    event(
        &Method::POST,
        &uri,
        &headers,
        body,
        "192.0.2.1:40000".parse().unwrap(),
    )
}

#[test]
fn the_event_has_the_documented_keys() {
    let documented: Value = serde_json::from_str(DOCUMENTED).unwrap();
    let event = sample(b"{}");
    assert_eq!(keys(&event), keys(&documented));
    assert_eq!(
        keys(&event["requestContext"]),
        keys(&documented["requestContext"])
    );
    assert_eq!(
        keys(&event["requestContext"]["http"]),
        keys(&documented["requestContext"]["http"])
    );
    // Without cookies, a query string or a body, API Gateway leaves those keys out.
    let bare = super::event(
        &Method::POST,
        &"/hook".parse().unwrap(),
        &HeaderMap::new(),
        b"",
        "127.0.0.1:1".parse().unwrap(),
    );
    let mut expected = keys(&documented);
    expected.remove("cookies");
    expected.remove("queryStringParameters");
    expected.remove("body");
    assert_eq!(keys(&bare), expected);
    assert_eq!(bare["rawQueryString"], "");
    assert_eq!(bare["isBase64Encoded"], false);
}

#[test]
fn the_event_carries_the_request() {
    let event = sample(b"{\"id\":1}");
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "POST /webhooks/stripe");
    assert_eq!(event["rawPath"], "/webhooks/stripe");
    assert_eq!(event["rawQueryString"], "p=1&p=2&q=&r");
    assert_eq!(
        event["queryStringParameters"],
        json!({ "p": "1,2", "q": "", "r": "" })
    );
    assert_eq!(event["cookies"], json!(["c1=1", "c2=2", "c3=3"]));
    assert_eq!(
        event["headers"],
        json!({
            "content-type": "application/json",
            "host": "hooks.example.com",
            "user-agent": "agent",
            "x-repeated": "a,b",
            "x-latin1": "caf\u{FFFD}",
            "x-forwarded-for": "192.0.2.1",
            "x-forwarded-port": "80",
            "x-forwarded-proto": "http",
        })
    );
    let context = &event["requestContext"];
    assert_eq!(context["accountId"], aws_local::ACCOUNT_ID);
    assert_eq!(context["apiId"], "local");
    assert_eq!(context["domainName"], "hooks.example.com");
    assert_eq!(context["domainPrefix"], "hooks");
    assert_eq!(context["routeKey"], "POST /webhooks/stripe");
    assert_eq!(context["stage"], "$default");
    assert!(context["timeEpoch"].as_i64().unwrap() > 0);
    assert_eq!(
        context["http"],
        json!({
            "method": "POST",
            "path": "/webhooks/stripe",
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "agent",
        })
    );
    assert_eq!(event["body"], "{\"id\":1}");
    assert_eq!(event["isBase64Encoded"], false);
}

#[test]
fn text_content_types_arrive_as_text() {
    for content_type in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/xml",
        "application/javascript",
        "text/plain",
        "text/html; charset=ISO-8859-1",
        "text/csv",
    ] {
        let event = sample_typed(b"a=1&b=2", Some(content_type));
        assert_eq!(event["body"], "a=1&b=2", "{content_type}");
        assert_eq!(event["isBase64Encoded"], false, "{content_type}");
    }
}

#[test]
fn every_other_content_type_arrives_base64_even_utf8() {
    for content_type in [
        Some("application/x-www-form-urlencoded"),
        Some("application/x-www-form-urlencoded; charset=utf-8"),
        Some("multipart/form-data; boundary=x"),
        Some("application/vnd.github+json"),
        Some("application/cloudevents+json"),
        Some("application/atom+xml"),
        Some("application/octet-stream"),
        Some("image/jpeg"),
        Some("texty/plain"),
        Some(""),
        None,
    ] {
        let event = sample_typed(b"a=1&b=2", content_type);
        assert_eq!(event["body"], "YT0xJmI9Mg==", "{content_type:?}");
        assert_eq!(event["isBase64Encoded"], true, "{content_type:?}");
    }
}

#[test]
fn a_text_type_body_that_is_not_utf8_is_base64() {
    let event = sample_typed(&[0xff, 0x00, 0x80], Some("application/json"));
    assert_eq!(event["body"], "/wCA");
    assert_eq!(event["isBase64Encoded"], true);
}

#[test]
fn an_empty_body_has_no_body_key_whatever_the_type() {
    for content_type in [
        None,
        Some("application/x-www-form-urlencoded"),
        Some("text/plain"),
    ] {
        let event = sample_typed(b"", content_type);
        assert!(event.get("body").is_none(), "{content_type:?}");
        assert_eq!(event["isBase64Encoded"], false, "{content_type:?}");
    }
}

#[test]
fn the_event_reads_back_as_the_request() {
    let event = sample(b"{}");
    let request: ApiGatewayV2httpRequest = serde_json::from_value(event).unwrap();
    assert_eq!(request.request_context.http.method, Method::POST);
    assert_eq!(request.headers["x-repeated"], "a,b");
    assert_eq!(
        request.query_string_parameters.all("p"),
        Some(vec!["1", "2"])
    );
}
