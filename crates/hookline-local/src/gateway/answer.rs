//! What the HTTP API answers: the function's proxy response, or its own error for an invocation
//! that failed. Each status and body is the HTTP API's, with its source:
//!
//! | what happened | answer | source |
//! |---|---|---|
//! | the function returned an error, crashed, timed out or failed its init, or answered what is not a proxy response | `500 {"message":"Internal Server Error"}` | "Troubleshooting issues with HTTP API Lambda integrations" ("My API with a Lambda integration returns `{"message":"Internal Server Error"}`": a function error, a response not in the required format); the status as observed on AWS in aws/aws-sam-cli#2590 (`HTTP/2 500`, `{"message":"Internal Server Error"}` for an unhandled error). Lambda reports a crash (`Runtime.ExitError`), a function timeout ("Task timed out") and an init failure as function errors too |
//! | no answer within the integration timeout (30 s) | `503 {"message":"Service Unavailable"}` | "Quotas for configuring and running an HTTP API" ("Maximum integration timeout: 30 seconds"); the 503 as observed on AWS (serverless/serverless#11222, sst#2232: "503 ... Service Unavailable") |
//! | body over 10 MiB | `413 {"message":"Request Entity Too Large"}` | same quotas page, "Payload size: 10 MB" |
//! | event over Lambda's 6 MB | `413 {"message":"Request Entity Too Large"}` | "Lambda quotas", invocation payload 6 MB. What an HTTP API answers here is documented nowhere (a REST API was observed answering `413 {"message": "Request Too Long"}`, koki-develop/lgtm-generator#10): the HTTP API's own 413 is the local choice |
//! | request line and header values over 10,240 bytes | `431 {"message":"Request Header Fields Too Large"}` | quotas page, "Total combined size of request line and header values: 10240 bytes". The status is not documented: 431 is HTTP's status for it (RFC 6585) and the local choice |
//! | no route | `404 {"message":"Not Found"}` | the HTTP API's answer for an unmatched route |
//! | more than one `Host` header line | `400 {"message":"Bad Request"}` | RFC 9112 §3.2: a server "MUST respond with a 400 (Bad Request)" to a request with more than one Host line (the host decides the URL that URL-signed schemes verify). The body is not documented: the HTTP API's JSON error shape is the local choice |

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::lambda::InvokeError;

/// `status` with the HTTP API's JSON error body.
pub fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({ "message": text }).to_string(),
    )
        .into_response()
}

/// The answer to a function error of any kind.
pub fn internal_server_error() -> Response {
    message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

/// The answer to a function response that is not a proxy response.
pub fn invalid_response() -> Response {
    internal_server_error()
}

/// The answer when the integration does not answer in time.
pub fn integration_timeout() -> Response {
    message(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
}

/// The answer to a body or event over a size limit.
pub fn payload_too_large() -> Response {
    message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large")
}

/// The answer to a request line and headers over the HTTP API's quota.
pub fn request_head_too_large() -> Response {
    message(
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "Request Header Fields Too Large",
    )
}

/// The answer to a request with more than one `Host` header line (RFC 9112 §3.2).
pub fn ambiguous_host() -> Response {
    message(StatusCode::BAD_REQUEST, "Bad Request")
}

/// The answer to an invocation that failed.
pub fn invoke_failed(error: &InvokeError) -> Response {
    match error {
        InvokeError::Function(_)
        | InvokeError::Crashed(_)
        | InvokeError::Timeout
        | InvokeError::Init(_) => internal_server_error(),
        InvokeError::RequestTooLarge { .. } => payload_too_large(),
        // The local stack is stopping: the gateway is going away.
        InvokeError::Unavailable(_) => integration_timeout(),
    }
}

/// Maps the function's answer as API Gateway does: a `statusCode` object is a proxy response;
/// other JSON is a 200 body. `None` when the answer is not JSON or not a valid proxy response
/// (the HTTP API's 500, [`invalid_response`]).
pub fn proxy_response(payload: &[u8]) -> Option<Response> {
    let value: Value = serde_json::from_slice(payload).ok()?;
    let Some(status) = value.get("statusCode") else {
        return Some(
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                value.to_string(),
            )
                .into_response(),
        );
    };
    let status = StatusCode::from_u16(u16::try_from(status.as_u64()?).ok()?).ok()?;
    let body = match value.get("body") {
        Some(Value::String(text))
            if value.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) =>
        {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .ok()?
        }
        Some(Value::String(text)) => text.clone().into_bytes(),
        _ => Vec::new(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    for source in ["headers", "multiValueHeaders"] {
        if let Some(Value::Object(map)) = value.get(source) {
            for (name, values) in map {
                let values: Vec<&str> = match values {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                for v in values {
                    if let (Ok(name), Ok(v)) = (
                        HeaderName::from_bytes(name.as_bytes()),
                        HeaderValue::from_str(v),
                    ) {
                        headers.append(name, v);
                    }
                }
            }
        }
    }
    Some(response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: failing loudly is the point

    use super::*;

    async fn read(response: Response) -> (u16, String) {
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn failed_invocations_get_the_http_apis_answers() {
        let ise = (500, r#"{"message":"Internal Server Error"}"#.to_owned());
        for error in [
            InvokeError::Function("Unhandled: boom".into()),
            InvokeError::Crashed("signal: 6 (SIGABRT)".into()),
            InvokeError::Timeout,
            InvokeError::Init(
                "Runtime.ExitError: Runtime exited with error: exit status: 1".into(),
            ),
        ] {
            assert_eq!(read(invoke_failed(&error)).await, ise, "{error}");
        }
        let too_large = InvokeError::RequestTooLarge { size: 7, limit: 6 };
        assert_eq!(
            read(invoke_failed(&too_large)).await,
            (413, r#"{"message":"Request Entity Too Large"}"#.to_owned())
        );
        assert_eq!(
            read(integration_timeout()).await,
            (503, r#"{"message":"Service Unavailable"}"#.to_owned())
        );
        assert_eq!(
            read(ambiguous_host()).await,
            (400, r#"{"message":"Bad Request"}"#.to_owned())
        );
        assert_eq!(
            read(request_head_too_large()).await,
            (
                431,
                r#"{"message":"Request Header Fields Too Large"}"#.to_owned()
            )
        );
    }

    #[tokio::test]
    async fn proxy_responses_are_mapped_and_others_refused() {
        let answer = proxy_response(
            br#"{"statusCode":201,"headers":{"x-a":"1"},"body":"aGk=","isBase64Encoded":true}"#,
        )
        .unwrap();
        assert_eq!(answer.headers()["x-a"], "1");
        assert_eq!(read(answer).await, (201, "hi".to_owned()));
        assert_eq!(
            read(proxy_response(br#"{"a":1}"#).unwrap()).await,
            (200, r#"{"a":1}"#.to_owned())
        );
        for invalid in [
            &b"not json"[..],
            br#"{"statusCode":"x"}"#,
            br#"{"statusCode":99}"#,
        ] {
            assert!(proxy_response(invalid).is_none());
        }
    }
}
