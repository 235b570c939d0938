//! An API Gateway HTTP API on loopback: one `POST` route per provider, each request turned into
//! a payload-2.0 event for the provider's ingest function ([`event`]), and the proxy response or
//! the HTTP API's own error turned back ([`answer`]). The HTTP API's quotas apply as on AWS: the
//! request line and header values (10,240 bytes), the body (10 MiB), Lambda's 6 MB event, the
//! 30 s integration timeout. The server itself is bounded too: at most `max_connections`
//! connections (more are closed at once), heads of at most `max_header_bytes` (431, before
//! anything is parsed), and clients that send their headers or body too slowly are cut off
//! (slowloris), so memory stays bounded whatever the clients do.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use hookline_manifest::limits::{
    HTTP_API_INTEGRATION_TIMEOUT_SECS, HTTP_API_MAX_PAYLOAD_BYTES,
    HTTP_API_MAX_REQUEST_LINE_AND_HEADERS_BYTES,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::lambda::Function;

pub mod answer;
pub mod event;

pub use answer::proxy_response;
pub use event::{event, http_api_request};

/// API Gateway's payload limit.
pub const MAX_BODY_BYTES: usize = HTTP_API_MAX_PAYLOAD_BYTES;
/// API Gateway's integration timeout.
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(HTTP_API_INTEGRATION_TIMEOUT_SECS);

struct Routes {
    by_path: BTreeMap<String, Function>,
    body_read_timeout: Duration,
    observer: Option<ExchangeObserver>,
}

/// One request the gateway received and what it answered: what the local console records.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The id to record it under: the console's own ([`ConsoleRequest`]) or a new UUIDv7.
    pub id: String,
    /// When it arrived (ms).
    pub received_ms: i64,
    /// The client.
    pub peer: SocketAddr,
    /// The method.
    pub method: Method,
    /// The request target (path and query) as sent.
    pub uri: Uri,
    /// The headers as sent.
    pub headers: HeaderMap,
    /// The body as sent (empty when it was not read: no route, or refused before).
    pub body: Bytes,
    /// The answer's status.
    pub status: StatusCode,
    /// The answer's headers.
    pub response_headers: HeaderMap,
    /// The answer's body.
    pub response_body: Bytes,
    /// From the request's arrival to its answer.
    pub latency: Duration,
    /// The trace header of the ingest invocation, when one was made.
    pub trace_id: Option<String>,
    /// The delivery this request replays, when the console made it.
    pub replay_of: Option<String>,
}

/// Told about every request to a webhook route (or to none); must return at once.
pub type ExchangeObserver = Arc<dyn Fn(Exchange) + Send + Sync>;

/// Put on a request the local console makes in-process (send, replay): the id to record it
/// under and the delivery it replays.
#[derive(Debug, Clone)]
pub struct ConsoleRequest {
    /// The id to record it under.
    pub id: String,
    /// The delivery it replays.
    pub replay_of: Option<String>,
}

/// Bounds on what clients can make the gateway hold.
#[derive(Debug, Clone)]
pub struct GatewayLimits {
    /// Open connections at most; further ones are closed on accept.
    pub max_connections: usize,
    /// Time allowed to send the request headers.
    pub header_read_timeout: Duration,
    /// Largest request head hyper reads (request line, header names and values), a bound on
    /// memory above the HTTP API's own quota; larger ones get 431 with no body.
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

impl Gateway {
    /// Serves `routes` (path → ingest function) on `addr` within `limits`.
    pub async fn start(
        addr: SocketAddr,
        routes: BTreeMap<String, Function>,
        limits: GatewayLimits,
    ) -> std::io::Result<Gateway> {
        let app = webhooks(routes, &limits, None);
        Self::serve(addr, app, limits).await
    }

    /// Serves `app` on `addr` within `limits`: [`webhooks`], with whatever else is mounted
    /// beside it (the local console).
    pub async fn serve(
        addr: SocketAddr,
        app: Router,
        limits: GatewayLimits,
    ) -> std::io::Result<Gateway> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, app, limits, stopped));
        Ok(Gateway {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
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

/// The webhook routes (path → ingest function) as a router: every other request is the HTTP
/// API's 404. `observer` is told about each request and its answer.
pub fn webhooks(
    routes: BTreeMap<String, Function>,
    limits: &GatewayLimits,
    observer: Option<ExchangeObserver>,
) -> Router {
    let state = Arc::new(Routes {
        by_path: routes,
        body_read_timeout: limits.body_read_timeout,
        observer,
    });
    Router::new().fallback(handle).with_state(state)
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
    console: Option<axum::Extension<ConsoleRequest>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(observer) = routes.observer.clone() else {
        return answer(&routes, peer, &method, &uri, &headers, body, None)
            .await
            .0;
    };
    let started = std::time::Instant::now();
    let received_ms = chrono::Utc::now().timestamp_millis();
    let trace_id = crate::lambda::trace_id();
    let (response, body) = answer(
        &routes,
        peer,
        &method,
        &uri,
        &headers,
        body,
        Some(&trace_id),
    )
    .await;
    let (parts, response_body) = response.into_parts();
    // Every answer here is already in memory: reading it back costs a copy.
    let response_body = axum::body::to_bytes(response_body, usize::MAX)
        .await
        .unwrap_or_default();
    let (id, replay_of) = match console {
        Some(axum::Extension(request)) => (request.id, request.replay_of),
        None => (uuid::Uuid::now_v7().to_string(), None),
    };
    observer(Exchange {
        id,
        received_ms,
        peer,
        method,
        uri,
        headers,
        trace_id: body.is_some().then_some(trace_id),
        body: body.unwrap_or_default(),
        status: parts.status,
        response_headers: parts.headers.clone(),
        response_body: response_body.clone(),
        latency: started.elapsed(),
        replay_of,
    });
    Response::from_parts(parts, Body::from(response_body))
}

/// The answer to one request, and its body when it was read and sent to a function (invoked
/// with `trace_id`, when given).
async fn answer(
    routes: &Routes,
    peer: SocketAddr,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    trace_id: Option<&str>,
) -> (Response, Option<Bytes>) {
    if request_line_and_headers_bytes(method, uri, headers)
        > HTTP_API_MAX_REQUEST_LINE_AND_HEADERS_BYTES
    {
        return (answer::request_head_too_large(), None);
    }
    if headers.get_all(axum::http::header::HOST).iter().count() > 1 {
        return (answer::ambiguous_host(), None);
    }
    let Some(function) = routes
        .by_path
        .get(uri.path())
        .filter(|_| method == Method::POST)
    else {
        return (answer::message(StatusCode::NOT_FOUND, "Not Found"), None);
    };
    let body = match tokio::time::timeout(
        routes.body_read_timeout,
        axum::body::to_bytes(body, MAX_BODY_BYTES),
    )
    .await
    {
        Err(_) => {
            return (
                answer::message(StatusCode::REQUEST_TIMEOUT, "Request Timeout"),
                None,
            );
        }
        Ok(Err(_)) => return (answer::payload_too_large(), None),
        Ok(Ok(body)) => body,
    };
    let response = invoke(function, method, uri, headers, &body, peer, trace_id).await;
    (response, Some(body))
}

/// Invokes the route's function with the request's event and turns its answer into the HTTP
/// API's.
async fn invoke(
    function: &Function,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    peer: SocketAddr,
    trace_id: Option<&str>,
) -> Response {
    let event = event(method, uri, headers, body, peer);
    // What the HTTP API's access log says in `$context.integrationErrorMessage`.
    let failed = |answer: Response, why: &str| {
        function.log(&format!(
            "API Gateway answered {}: {why}",
            answer.status().as_u16()
        ));
        answer
    };
    let trace_id = trace_id.map_or_else(crate::lambda::trace_id, str::to_owned);
    match tokio::time::timeout(
        INTEGRATION_TIMEOUT,
        function.invoke_traced(Bytes::from(event.to_string()), trace_id),
    )
    .await
    {
        Err(_) => failed(
            answer::integration_timeout(),
            "no answer within the integration timeout",
        ),
        Ok(Err(err)) => failed(answer::invoke_failed(&err), &err.to_string()),
        Ok(Ok(payload)) => proxy_response(&payload).unwrap_or_else(|| {
            failed(
                answer::invalid_response(),
                "the function's answer is not a proxy response",
            )
        }),
    }
}

/// What the HTTP API's quota on the request line and header values counts: the request line
/// as sent (`POST /path?query HTTP/1.1`) and every header value.
fn request_line_and_headers_bytes(method: &Method, uri: &Uri, headers: &HeaderMap) -> usize {
    let target = uri.path_and_query().map_or(1, |p| p.as_str().len());
    let request_line = method.as_str().len() + 1 + target + 1 + "HTTP/1.1".len();
    request_line + headers.values().map(|v| v.len()).sum::<usize>()
}
