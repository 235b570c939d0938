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
    if request_line_and_headers_bytes(&method, &uri, &headers)
        > HTTP_API_MAX_REQUEST_LINE_AND_HEADERS_BYTES
    {
        return answer::request_head_too_large();
    }
    if headers.get_all(axum::http::header::HOST).iter().count() > 1 {
        return answer::ambiguous_host();
    }
    let Some(function) = routes
        .by_path
        .get(uri.path())
        .filter(|_| method == Method::POST)
    else {
        return answer::message(StatusCode::NOT_FOUND, "Not Found");
    };
    let body = match tokio::time::timeout(
        routes.body_read_timeout,
        axum::body::to_bytes(body, MAX_BODY_BYTES),
    )
    .await
    {
        Err(_) => return answer::message(StatusCode::REQUEST_TIMEOUT, "Request Timeout"),
        Ok(Err(_)) => return answer::payload_too_large(),
        Ok(Ok(body)) => body,
    };
    let event = event(&method, &uri, &headers, &body, peer);
    // What the HTTP API's access log says in `$context.integrationErrorMessage`.
    let failed = |answer: Response, why: &str| {
        function.log(&format!(
            "API Gateway answered {}: {why}",
            answer.status().as_u16()
        ));
        answer
    };
    match tokio::time::timeout(
        INTEGRATION_TIMEOUT,
        function.invoke(Bytes::from(event.to_string())),
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
