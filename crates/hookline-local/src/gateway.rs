//! An API Gateway HTTP API on loopback: one `POST` route per provider, each request turned into
//! a payload-2.0 event for the provider's ingest function ([`event`]), and the proxy response
//! turned back.
//! API Gateway's limits apply: 10 MB bodies (413) and a 30 s integration timeout (504). The
//! server itself is bounded too: at most `max_connections` connections (more are closed at once),
//! headers of at most `max_header_bytes` (431), and clients that send their headers or body too
//! slowly are cut off (slowloris), so memory stays bounded whatever the clients do.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::lambda::{Function, InvokeError};

pub mod event;

pub use event::{event, http_api_request};

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
