//! The payload-2.0 event an HTTP API sends its Lambda integration for a request ("Create AWS
//! Lambda proxy integrations for HTTP APIs in API Gateway", payload format version 2.0).
//!
//! **Which bodies are base64.** HTTP APIs have no binary media types: "The HTTP API Lambda
//! integration automatically infers the need for encoding based on the content-type header
//! passed with the request" (AWS Compute Blog, "Handling binary data using Amazon API Gateway
//! HTTP APIs": `text/plain` arrives as text, `image/jpeg` as base64). AWS does not list the text
//! types; the split below is the one observed on AWS and recorded by ministack
//! (ministackorg/ministack#766, "verified the split against real AWS (HTTP API v2, payload 2.0,
//! AWS_PROXY)"): text only for `text/*`, `application/json`, `application/xml` and
//! `application/javascript` — parameters and case aside, and no `+json`/`+xml` suffixes —
//! everything else base64, a missing content type and `application/x-www-form-urlencoded`
//! included (so Slack's, Twilio's and GitHub's form posts arrive base64). A request without a
//! body has no `body` key and `isBase64Encoded: false` (same source). Not observed anywhere: a
//! body under a text type that is not UTF-8; it is sent base64 here, so that no byte is lost
//! before the signature check.

use std::collections::HashMap;
use std::net::SocketAddr;

use aws_lambda_events::apigw::{
    ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext,
    ApiGatewayV2httpRequestContextHttpDescription,
};
use aws_lambda_events::query_map::QueryMap;
use axum::http::{HeaderMap, HeaderValue, Method, Uri, header};
use base64::Engine as _;
use serde_json::{Map, Value};

use crate::aws_local;

/// The media types an HTTP API passes to Lambda as text.
const TEXT_MEDIA_TYPES: [&str; 3] = [
    "application/json",
    "application/xml",
    "application/javascript",
];

/// Whether an HTTP API passes a body with this `Content-Type` to Lambda as text.
pub fn is_text_content_type(content_type: Option<&[u8]>) -> bool {
    let Some(value) = content_type else {
        return false;
    };
    let value = String::from_utf8_lossy(value);
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/") || TEXT_MEDIA_TYPES.contains(&essence.as_str())
}

/// The event's `body` and `isBase64Encoded` for a request body and its `Content-Type`.
pub fn encode_body(body: &[u8], content_type: Option<&[u8]>) -> (Option<String>, bool) {
    if body.is_empty() {
        return (None, false);
    }
    if is_text_content_type(content_type)
        && let Ok(text) = std::str::from_utf8(body)
    {
        return (Some(text.to_owned()), false);
    }
    (
        Some(base64::engine::general_purpose::STANDARD.encode(body)),
        true,
    )
}

/// The payload-2.0 event API Gateway would send, as JSON.
pub fn event(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    peer: SocketAddr,
) -> Value {
    payload_2_0(&http_api_request(method, uri, headers, body, peer))
}

/// The `x-forwarded-*` headers API Gateway adds to every request it proxies (in every HTTP API
/// event, as in the REST API's and ALB's): the client's address after any the request carried,
/// the port and the protocol the client used. The local gateway is plain HTTP, so a provider
/// that signs the URL it called (Twilio, Square, HubSpot) is verified against `http://`.
fn forwarded_headers(headers: &mut HeaderMap, host: &str, peer: SocketAddr) {
    let client = peer.ip().to_string();
    let forwarded_for = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(earlier) => format!("{earlier}, {client}"),
        None => client,
    };
    let port = host
        .rsplit_once(':')
        .map(|(_, port)| port)
        .filter(|port| port.bytes().all(|b| b.is_ascii_digit()) && !port.is_empty())
        .unwrap_or("80")
        .to_owned();
    for (name, value) in [
        ("x-forwarded-for", forwarded_for),
        ("x-forwarded-port", port),
        ("x-forwarded-proto", "http".to_owned()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

/// The payload-2.0 event API Gateway would send: repeated headers and query parameters joined
/// with commas, cookies in `cookies`, the body as [`encode_body`] says.
pub fn http_api_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    peer: SocketAddr,
) -> ApiGatewayV2httpRequest {
    let lossy = |value: &HeaderValue| String::from_utf8_lossy(value.as_bytes()).into_owned();
    let mut joined = HeaderMap::new();
    for name in headers.keys().filter(|name| *name != header::COOKIE) {
        let values: Vec<String> = headers.get_all(name).iter().map(lossy).collect();
        // Always valid: the values were header values, and lossy UTF-8 keeps them so.
        if let Ok(value) = HeaderValue::from_str(&values.join(",")) {
            joined.insert(name.clone(), value);
        }
    }
    let cookies: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .map(lossy)
        .flat_map(|value| {
            value
                .split(';')
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>()
        })
        .collect();
    let query = uri.query().unwrap_or_default();
    let mut parameters: HashMap<String, Vec<String>> = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        parameters
            .entry(k.to_owned())
            .or_default()
            .push(v.to_owned());
    }
    let now = chrono::Utc::now();
    let route_key = format!("{method} {}", uri.path());
    let content_type = headers.get(header::CONTENT_TYPE).map(HeaderValue::as_bytes);
    let (body, is_base64) = encode_body(body, content_type);
    let host = joined
        .get(header::HOST)
        .map_or_else(|| "localhost".to_owned(), lossy);
    forwarded_headers(&mut joined, &host, peer);

    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = method.clone();
    http.path = Some(uri.path().to_owned());
    http.protocol = Some("HTTP/1.1".to_owned());
    http.source_ip = Some(peer.ip().to_string());
    http.user_agent = Some(
        headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
    );
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.account_id = Some(aws_local::ACCOUNT_ID.to_owned());
    context.apiid = Some("local".to_owned());
    context.domain_prefix = Some(host.split('.').next().unwrap_or_default().to_owned());
    context.domain_name = Some(host);
    context.http = http;
    context.request_id = Some(uuid::Uuid::new_v4().to_string());
    context.route_key = Some(route_key.clone());
    context.stage = Some("$default".to_owned());
    context.time = Some(now.format("%d/%b/%Y:%H:%M:%S %z").to_string());
    context.time_epoch = now.timestamp_millis();

    let mut request = ApiGatewayV2httpRequest::default();
    request.version = Some("2.0".to_owned());
    request.route_key = Some(route_key);
    request.raw_path = Some(uri.path().to_owned());
    request.raw_query_string = Some(query.to_owned());
    request.cookies = (!cookies.is_empty()).then_some(cookies);
    request.headers = joined;
    request.query_string_parameters = QueryMap::from(parameters);
    request.request_context = context;
    request.body = body;
    request.is_base64_encoded = is_base64;
    request
}

/// Keys `ApiGatewayV2httpRequest` writes that a payload-2.0 event does not have: the fields of
/// custom-authorizer v1 payloads (`httpMethod` would always say `GET`) and REST APIs' `resource`.
const NOT_IN_PAYLOAD_2_0: [&str; 6] = [
    "type",
    "methodArn",
    "httpMethod",
    "identitySource",
    "authorizationToken",
    "resource",
];

/// `request` as API Gateway writes it: only payload 2.0's keys, and no `stageVariables` when
/// the stage has none (the local stage never does).
fn payload_2_0(request: &ApiGatewayV2httpRequest) -> Value {
    // Serialising fails only on a header value that is not UTF-8, and `http_api_request` makes
    // every header value from a `String`.
    let mut event = serde_json::to_value(request).unwrap_or_default();
    if let Value::Object(fields) = &mut event {
        for key in NOT_IN_PAYLOAD_2_0 {
            fields.remove(key);
        }
        if fields
            .get("stageVariables")
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
        {
            fields.remove("stageVariables");
        }
    }
    event
}

#[cfg(test)]
mod tests;
