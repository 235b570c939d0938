//! The local AWS endpoint: one loopback listener serving SQS, DynamoDB and S3, each on its own
//! durable store in the data folder (`sqs.db`, `dynamodb.db`, and `s3.db` with the objects'
//! files under `s3/`). A request with an `X-Amz-Target` is SQS's or DynamoDB's JSON protocol,
//! told apart by the target's prefix (`AmazonSQS.`, `DynamoDB_20120810.`); one without is S3's
//! REST API, path-style (`/<bucket>/<key>`: an IP endpoint gets path-style requests from the
//! SDKs' endpoint rules), except a `POST /`, which S3 never sends and an SQS client of the old
//! query protocol does (it gets SQS's answer that it names no operation). One port for all:
//! functions get it as `AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_DYNAMODB` and
//! `AWS_ENDPOINT_URL_S3`.

use std::net::SocketAddr;
use std::path::Path;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::dynamodb::{self, Tables};
use crate::s3::{self, Objects};
use crate::sqs::{self, StoreHandle};

#[derive(Clone)]
struct Stores {
    sqs: StoreHandle,
    dynamodb: Tables,
    s3: Objects,
}

/// A running endpoint; stopped by [`AwsEndpoint::shutdown`] or on drop.
pub struct AwsEndpoint {
    addr: SocketAddr,
    stores: Stores,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    sweeper: JoinHandle<()>,
}

impl AwsEndpoint {
    /// Serves `data_dir/sqs.db`, `data_dir/dynamodb.db` and `data_dir/s3.db` (with the objects'
    /// files in `data_dir/s3/`) on `addr` (port 0 picks a free one).
    pub async fn start(addr: SocketAddr, data_dir: &Path) -> std::io::Result<AwsEndpoint> {
        std::fs::create_dir_all(data_dir)?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let stores = Stores {
            sqs: StoreHandle::start(&data_dir.join("sqs.db"), &addr.to_string())
                .map_err(|e| std::io::Error::other(e.to_string()))?,
            dynamodb: Tables::start(&data_dir.join("dynamodb.db"))
                .map_err(|e| std::io::Error::other(e.to_string()))?,
            s3: Objects::start(data_dir).map_err(|e| std::io::Error::other(e.to_string()))?,
        };
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(stores.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        let sweeper = tokio::spawn(sweep_expired_items(stores.dynamodb.clone()));
        Ok(AwsEndpoint {
            addr,
            stores,
            stop: Some(stop),
            task: Some(task),
            sweeper,
        })
    }

    /// The endpoint URL (`http://127.0.0.1:<port>`), for SQS, DynamoDB and S3 alike.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The queues' store, for in-process users (the event source mappings).
    pub fn store(&self) -> &StoreHandle {
        &self.stores.sqs
    }

    /// The tables' store.
    pub fn tables(&self) -> &Tables {
        &self.stores.dynamodb
    }

    /// The buckets' store: [`Objects::create_bucket`] makes the stack's bucket at start.
    pub fn objects(&self) -> &Objects {
        &self.stores.s3
    }

    /// Stops accepting requests and waits for in-flight ones.
    pub async fn shutdown(mut self) {
        self.sweeper.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for AwsEndpoint {
    fn drop(&mut self) {
        self.sweeper.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// DynamoDB's TTL process, locally: a sweep every [`dynamodb::TTL_SWEEP_INTERVAL`].
async fn sweep_expired_items(tables: Tables) {
    let mut every = tokio::time::interval(dynamodb::TTL_SWEEP_INTERVAL);
    loop {
        every.tick().await;
        let now = chrono::Utc::now().timestamp();
        if let Err(err) = tables.delete_expired(now).await {
            tracing::warn!("deleting expired DynamoDB items failed (retried next sweep): {err}");
        }
    }
}

async fn handle(
    State(stores): State<Stores>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(target) = headers.get("x-amz-target") else {
        if method == Method::POST && uri.path() == "/" {
            return sqs::respond(&stores.sqs, "", &headers, body).await;
        }
        return s3::respond(&stores.s3, &method, &uri, &headers, body).await;
    };
    let target = target.to_str().unwrap_or_default();
    match target.strip_prefix(dynamodb::TARGET_PREFIX) {
        Some(action) => dynamodb::respond(&stores.dynamodb, action, body).await,
        None => sqs::respond(&stores.sqs, target, &headers, body).await,
    }
}
