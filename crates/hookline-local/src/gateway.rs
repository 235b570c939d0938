//! An API Gateway HTTP API on loopback: one `POST` route per provider, each request turned into
//! a payload-2.0 event for the provider's ingest function, and the proxy response turned back.
//! API Gateway's limits apply: 10 MB bodies (413) and a 30 s integration timeout (504). The
//! server itself is bounded too: at most `max_connections` connections (more are closed at once),
//! headers of at most `max_header_bytes` (431), and clients that send their headers or body too
//! slowly are cut off (slowloris), so memory stays bounded whatever the clients do.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::apigw::{
    ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext,
    ApiGatewayV2httpRequestContextHttpDescription,
};
use aws_lambda_events::query_map::QueryMap;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::aws_local;
use crate::lambda::{Function, InvokeError};

/// API Gateway's payload limit.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// API Gateway's integration timeout.
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);

struct Routes {
    by_path: BTreeMap<String, Function>,
    body_read_timeout: Duration,
}

/// Bounds on what clients can make the gateway hold.
#[derive(Debug, Clone)]
pub struct GatewayLimits {
    /// Open connections at most; further ones are closed on accept.
    pub max_connections: usize,
    /// Time allowed to send the request headers.
    pub header_read_timeout: Duration,
    /// Largest request head (request line and headers); larger ones get 431.
    pub max_header_bytes: usize,
    /// Time allowed to send the body once the headers are in (408 after).
    pub body_read_timeout: Duration,
}

impl Default for GatewayLimits {
    fn default() -> Self {
        GatewayLimits {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 64 * 1024,
            body_read_timeout: Duration::from_secs(30),
        }
    }
}

/// A running gateway.
pub struct Gateway {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({ "message": text }).to_string(),
    )
        .into_response()
}

impl Gateway {
    /// Serves `routes` (path → ingest function) on `addr` within `limits`.
    pub async fn start(
        addr: SocketAddr,
        routes: BTreeMap<String, Function>,
        limits: GatewayLimits,
    ) -> std::io::Result<Gateway> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Routes {
            by_path: routes,
            body_read_timeout: limits.body_read_timeout,
        });
        let app = Router::new().fallback(handle).with_state(state);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, app, limits, stopped));
        Ok(Gateway {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests and waits for in-flight ones.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// Accepts connections within the limits until `stopped`, then lets open ones finish.
async fn serve(
    listener: TcpListener,
    app: Router,
    limits: GatewayLimits,
    mut stopped: oneshot::Receiver<()>,
) {
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let (closing, _) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => continue,
            },
            _ = &mut stopped => break,
        };
        // Over the limit: close at once rather than queue unbounded work.
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let app = app.clone();
        let mut closing = closing.subscribe();
        let limits = limits.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    tower::ServiceExt::oneshot(app.clone(), request.map(Body::new))
                },
            );
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .max_header_size(limits.max_header_bytes)
                .max_buf_size(limits.max_header_bytes.max(8192) * 2)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = closing.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.as_mut().await;
                }
            }
            drop(permit);
        });
    }
    let _ = closing.send(true);
    while connections.join_next().await.is_some() {}
}

async fn handle(
    State(routes): State<Arc<Routes>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(function) = routes
        .by_path
        .get(uri.path())
        .filter(|_| method == Method::POST)
    else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };
    let body = match tokio::time::timeout(
        routes.body_read_timeout,
        axum::body::to_bytes(body, MAX_BODY_BYTES),
    )
    .await
    {
        Err(_) => return message(StatusCode::REQUEST_TIMEOUT, "Request Timeout"),
        Ok(Err(_)) => return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"),
        Ok(Ok(body)) => body,
    };
    let event = event(&method, &uri, &headers, &body, peer);
    let answer = tokio::time::timeout(
        INTEGRATION_TIMEOUT,
        function.invoke(Bytes::from(event.to_string())),
    )
    .await;
    if let Ok(Err(err)) = &answer {
        // What the HTTP API's access log says in `$context.integrationErrorMessage`.
        function.log(&format!("API Gateway answered an error: {err}"));
    }
    match answer {
        Err(_) | Ok(Err(InvokeError::Timeout)) => {
            message(StatusCode::GATEWAY_TIMEOUT, "Service Unavailable")
        }
        // Lambda reports an init failure as a function error.
        Ok(Err(InvokeError::Function(_) | InvokeError::Init(_))) => {
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
        Ok(Err(InvokeError::Crashed(_) | InvokeError::Unavailable(_))) => {
            message(StatusCode::BAD_GATEWAY, "Internal Server Error")
        }
        Ok(Ok(payload)) => proxy_response(&payload)
            .unwrap_or_else(|| message(StatusCode::BAD_GATEWAY, "Internal Server Error")),
    }
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

/// The payload-2.0 event API Gateway would send: repeated headers and query parameters joined
/// with commas, cookies in `cookies`, a body that is not UTF-8 in base64.
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
    let (body, is_base64) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(body), true),
    };
    let host = joined
        .get(header::HOST)
        .map_or_else(|| "localhost".to_owned(), lossy);

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
    request.body = Some(body);
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

/// Maps the function's answer as API Gateway does: a `statusCode` object is a proxy response;
/// other JSON is a 200 body. `None` when the answer is not JSON (API Gateway's 502).
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
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

    use std::collections::BTreeSet;

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
        let mut headers = HeaderMap::new();
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
        // Without cookies or a query string, API Gateway leaves those keys out.
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
        assert_eq!(keys(&bare), expected);
        assert_eq!(bare["rawQueryString"], "");
        assert_eq!(bare["body"], "");
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
                "host": "hooks.example.com",
                "user-agent": "agent",
                "x-repeated": "a,b",
                "x-latin1": "caf\u{FFFD}",
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
    fn a_body_that_is_not_utf8_is_base64() {
        let event = sample(&[0xff, 0x00, 0x80]);
        assert_eq!(event["body"], "/wCA");
        assert_eq!(event["isBase64Encoded"], true);
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
}
