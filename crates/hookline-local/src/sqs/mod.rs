//! An SQS-compatible endpoint (JSON protocol) on a durable embedded store: what aws-sdk-sqs,
//! boto3 and the aws CLI speak, on loopback.

// Dependencies run one way (no cycles): message ← md5, validate, queue_attributes ← store
// ← writer ← protocol, with error and observe under all of them.
mod error;
pub(crate) mod md5;
pub mod message;
pub mod observe;
mod protocol;
mod queue_attributes;
pub mod store;
mod validate;
mod writer;

use std::net::SocketAddr;
use std::path::Path;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use error::SqsError;
/// The protocol without HTTP: one action on a store (what the endpoint runs per request).
pub use protocol::dispatch;
pub use writer::StoreHandle;

/// Largest request body read (a batch of ten 1 MiB messages is refused by SQS anyway).
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// A running endpoint; stopped by [`SqsServer::shutdown`] or on drop.
pub struct SqsServer {
    addr: SocketAddr,
    store: StoreHandle,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SqsServer {
    /// Serves `data_dir/sqs.db` on `addr` (port 0 picks a free one).
    pub async fn start(addr: SocketAddr, data_dir: &Path) -> std::io::Result<SqsServer> {
        std::fs::create_dir_all(data_dir)?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let store = StoreHandle::start(&data_dir.join("sqs.db"), &addr.to_string())
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(store.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(SqsServer {
            addr,
            store,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The endpoint URL (`http://127.0.0.1:<port>`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The store, for in-process users (the event source mappings).
    pub fn store(&self) -> &StoreHandle {
        &self.store
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

impl Drop for SqsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn handle(State(store): State<StoreHandle>, headers: HeaderMap, body: Body) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let result = match target.strip_prefix("AmazonSQS.") {
        None => Err(SqsError::unknown_operation(target)),
        Some(action) => match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
            Err(_) => Err(SqsError::invalid(format!(
                "The request is larger than {MAX_REQUEST_BYTES} bytes."
            ))),
            Ok(bytes) => {
                let result = protocol::dispatch(&store, action, &bytes).await;
                if let Ok(answer) = &result
                    && store.observed()
                {
                    let trace = headers.get("x-amzn-trace-id").and_then(|v| v.to_str().ok());
                    store.tell(observe::sent(action, &bytes, answer, trace));
                }
                result
            }
        },
    };
    match result {
        Ok(value) => {
            let mut response = value.to_string().into_response();
            response.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("application/x-amz-json-1.0"),
            );
            response.headers_mut().insert(
                "x-amzn-requestid",
                HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                    .unwrap_or(HeaderValue::from_static("0")),
            );
            response
        }
        Err(err) => err.into_response(),
    }
}
