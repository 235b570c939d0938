//! A Lambda Runtime API emulator: function binaries run as real processes and pull their
//! invocations from `/2018-06-01/runtime/invocation/next`, exactly as on AWS. Instances start on
//! demand up to a concurrency limit; an instance that crashes or times out fails its invocation
//! and is replaced. An instance that dies before asking for its first invocation failed its
//! init: what waits fails at once with the init error, and restarts back off ([`init`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::routing::{get, post};
use hookline_manifest::limits::LAMBDA_MAX_REQUEST_PAYLOAD_BYTES;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use crate::logs::LogSink;

mod init;
mod process;
mod runtime_api;

pub use init::{INIT_RETRY_FIRST, INIT_RETRY_MAX};

/// What a function is and how it runs.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// Function name (`stripe-ingest`).
    pub name: String,
    /// The binary (the same one that is deployed as `bootstrap`).
    pub binary: PathBuf,
    /// Environment, as the CDK stack would set it.
    pub env: BTreeMap<String, String>,
    /// Invocation timeout.
    pub timeout: Duration,
    /// Most instances running at once.
    pub max_instances: usize,
}

/// Why an invocation did not return a response. All but `RequestTooLarge` and `Unavailable` are
/// what Lambda reports as a function error (`X-Amz-Function-Error: Unhandled`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// The function reported an error (`/response` was not called; `/error` was), or its response
    /// was over Lambda's limit.
    #[error("the function returned an error: {0}")]
    Function(String),
    /// The instance exited during the invocation.
    #[error("the function instance exited during the invocation ({0})")]
    Crashed(String),
    /// The invocation ran past the function's timeout; the instance was stopped.
    #[error("the invocation timed out")]
    Timeout,
    /// The function failed its init (it posted `/runtime/init/error`, or exited, or could not be
    /// started, before asking for an invocation): `errorType: errorMessage`, as Lambda reports it.
    #[error("the function failed to initialize: {0}")]
    Init(String),
    /// The event is over Lambda's synchronous payload limit; nothing was invoked.
    #[error("the event is {size} bytes, over Lambda's {limit}-byte invocation payload limit")]
    RequestTooLarge {
        /// The event's size.
        size: usize,
        /// Lambda's limit.
        limit: usize,
    },
    /// The function is shutting down.
    #[error("the function is unavailable: {0}")]
    Unavailable(String),
}

struct Invocation {
    id: String,
    payload: Bytes,
    deadline_ms: i64,
    /// The X-Ray trace header the runtime gets (`Lambda-Runtime-Trace-Id`).
    trace_id: String,
    reply: oneshot::Sender<Result<Bytes, InvokeError>>,
}

struct Instance {
    /// The invocation this instance is working on.
    current: Mutex<Option<Invocation>>,
    /// Set to kill the process.
    kill: Mutex<Option<oneshot::Sender<()>>>,
    /// The process id, once spawned.
    pid: Mutex<Option<u32>>,
    /// When the process was spawned.
    spawned: Mutex<std::time::Instant>,
    /// Spawn to the first `next` request (the cold start), once it came: the init succeeded.
    cold_start: std::sync::OnceLock<Duration>,
    /// What the runtime posted to `/runtime/init/error`.
    init_error: Mutex<Option<String>>,
}

/// A new X-Ray trace header as Lambda gives one to an invocation: `Root=1-<epoch seconds, 8
/// hex digits>-<24 hex digits>;Parent=<16 hex digits>;Sampled=0` ("Tracing header", AWS X-Ray
/// Developer Guide).
pub fn trace_id() -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    let parent = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        chrono::Utc::now().timestamp(),
        &random[..24],
        &parent[..16]
    )
}

/// What a running instance looks like from outside (benchmarks read these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceInfo {
    /// The process id.
    pub pid: Option<u32>,
    /// Spawn to the first `next` request, once it came.
    pub cold_start: Option<Duration>,
}

struct Inner {
    spec: FunctionSpec,
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    sender: Mutex<Option<mpsc::UnboundedSender<Invocation>>>,
    running: AtomicUsize,
    waiting: AtomicUsize,
    pending: AtomicUsize,
    instances: Mutex<Vec<Arc<Instance>>>,
    /// Processes started so far.
    starts: AtomicUsize,
    init: Mutex<init::InitState>,
    logs: LogSink,
}

/// A function: a pool of instances of one binary behind the Runtime API.
#[derive(Clone)]
pub struct Function {
    inner: Arc<Inner>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Function {
    /// Prepares a function; instances start on the first invocation.
    pub fn new(spec: FunctionSpec, logs: LogSink) -> Function {
        let (sender, queue) = mpsc::unbounded_channel();
        Function {
            inner: Arc::new(Inner {
                spec,
                queue: tokio::sync::Mutex::new(queue),
                sender: Mutex::new(Some(sender)),
                running: AtomicUsize::new(0),
                waiting: AtomicUsize::new(0),
                pending: AtomicUsize::new(0),
                instances: Mutex::new(Vec::new()),
                starts: AtomicUsize::new(0),
                init: Mutex::new(init::InitState::default()),
                logs,
            }),
        }
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        &self.inner.spec.name
    }

    /// Writes a line to the function's log, as `[hookline] ...`.
    pub fn log(&self, line: &str) {
        self.inner
            .logs
            .line(&self.inner.spec.name, &format!("[hookline] {line}"));
    }

    /// How many processes of the function were started so far.
    pub fn starts(&self) -> usize {
        self.inner.starts.load(Ordering::SeqCst)
    }

    /// Invokes the function synchronously and waits for its response.
    pub async fn invoke(&self, payload: Bytes) -> Result<Bytes, InvokeError> {
        self.invoke_traced(payload, trace_id()).await
    }

    /// Invokes the function with `trace_id` as its X-Ray trace header: the runtime gets it as
    /// `Lambda-Runtime-Trace-Id` and sets `_X_AMZN_TRACE_ID`, and the AWS SDK then sends it
    /// as `X-Amzn-Trace-Id` with every call the invocation makes (its recursion detection), so
    /// what the function sent to SQS can be told apart by invocation.
    pub async fn invoke_traced(
        &self,
        payload: Bytes,
        trace_id: String,
    ) -> Result<Bytes, InvokeError> {
        let inner = &self.inner;
        if payload.len() > LAMBDA_MAX_REQUEST_PAYLOAD_BYTES {
            return Err(InvokeError::RequestTooLarge {
                size: payload.len(),
                limit: LAMBDA_MAX_REQUEST_PAYLOAD_BYTES,
            });
        }
        // While restarts back off after an init failure, fail at once as the last init did.
        if let Some(error) = self.init_backoff() {
            return Err(InvokeError::Init(error));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let timeout = inner.spec.timeout;
        let deadline_ms = chrono::Utc::now().timestamp_millis()
            + i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
        let (reply, answer) = oneshot::channel();
        let sender = lock(&inner.sender)
            .clone()
            .ok_or_else(|| InvokeError::Unavailable("shutting down".into()))?;
        inner.pending.fetch_add(1, Ordering::SeqCst);
        sender
            .send(Invocation {
                id: id.clone(),
                payload,
                deadline_ms,
                trace_id,
                reply,
            })
            .map_err(|_| InvokeError::Unavailable("shutting down".into()))?;
        self.scale_up();
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(InvokeError::Unavailable(
                "the invocation was dropped".into(),
            )),
            Err(_) => {
                // Lambda stops an instance whose invocation ran out of time.
                let instances = lock(&inner.instances).clone();
                for instance in instances {
                    let holds = lock(&instance.current).as_ref().is_some_and(|c| c.id == id);
                    if holds {
                        lock(&instance.current).take();
                        if let Some(kill) = lock(&instance.kill).take() {
                            let _ = kill.send(());
                        }
                    }
                }
                Err(InvokeError::Timeout)
            }
        }
    }

    /// The running instances: process ids and cold starts.
    pub fn instances(&self) -> Vec<InstanceInfo> {
        lock(&self.inner.instances)
            .iter()
            .map(|i| InstanceInfo {
                pid: *lock(&i.pid),
                cold_start: i.cold_start.get().copied(),
            })
            .collect()
    }

    /// Starts an instance when invocations wait and no instance is free, up to the limit; while
    /// restarts back off after an init failure, fails what waits instead.
    fn scale_up(&self) {
        let inner = &self.inner;
        if let Some(error) = self.init_backoff() {
            if inner.running.load(Ordering::SeqCst) == 0 {
                self.fail_queued(&error);
            }
            return;
        }
        let pending = inner.pending.load(Ordering::SeqCst);
        let waiting = inner.waiting.load(Ordering::SeqCst);
        if pending <= waiting {
            return;
        }
        // Claim a slot atomically, so that simultaneous invocations never start more instances
        // than the limit.
        let max = inner.spec.max_instances.max(1);
        let claimed = inner
            .running
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |running| {
                (running < max).then_some(running + 1)
            })
            .is_ok();
        if claimed {
            let function = self.clone();
            tokio::spawn(async move {
                if let Err(err) = function.run_instance().await {
                    function.inner.running.fetch_sub(1, Ordering::SeqCst);
                    // A binary that cannot be started fails its init, as Lambda reports an
                    // entry point it cannot run.
                    function.init_failed(format!("Runtime.InvalidEntrypoint: {err}"));
                    function.scale_up();
                }
            });
        }
    }

    /// Runs one instance until its process exits. An error means no process was started (the
    /// caller gives the claimed slot back).
    async fn run_instance(&self) -> std::io::Result<()> {
        let inner = &self.inner;
        let instance = Arc::new(Instance {
            current: Mutex::new(None),
            kill: Mutex::new(None),
            pid: Mutex::new(None),
            spawned: Mutex::new(std::time::Instant::now()),
            cold_start: std::sync::OnceLock::new(),
            init_error: Mutex::new(None),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let api = listener.local_addr()?;
        let app = Router::new()
            .route(
                "/2018-06-01/runtime/invocation/next",
                get(runtime_api::next),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(runtime_api::respond),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(runtime_api::fail),
            )
            .route(
                "/2018-06-01/runtime/init/error",
                post(runtime_api::init_error),
            )
            .with_state((self.clone(), Arc::clone(&instance)));
        let (stop_server, server_stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = server_stopped.await;
                })
                .await;
        });
        let spec = &inner.spec;
        *lock(&instance.spawned) = std::time::Instant::now();
        inner.starts.fetch_add(1, Ordering::SeqCst);
        let started = process::spawn(spec, api);
        let mut child = match started {
            Ok(child) => child,
            Err(err) => {
                let _ = stop_server.send(());
                return Err(std::io::Error::new(
                    err.kind(),
                    format!("{}: {err}", spec.binary.display()),
                ));
            }
        };
        *lock(&instance.pid) = child.id();
        lock(&inner.instances).push(Arc::clone(&instance));
        process::forward_output(&mut child, &inner.logs, &spec.name);
        let (kill, killed) = oneshot::channel::<()>();
        *lock(&instance.kill) = Some(kill);
        let status = tokio::select! {
            status = child.wait() => status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()),
            _ = killed => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                "stopped by hookline".to_owned()
            }
        };
        if let Some(invocation) = lock(&instance.current).take() {
            let _ = invocation
                .reply
                .send(Err(InvokeError::Crashed(status.clone())));
        }
        lock(&inner.instances).retain(|i| !Arc::ptr_eq(i, &instance));
        inner.running.fetch_sub(1, Ordering::SeqCst);
        let _ = stop_server.send(());
        let _ = server.await;
        let shutting_down = lock(&inner.sender).is_none();
        if instance.cold_start.get().is_none() && !shutting_down {
            // Lambda's words for a runtime that exits during init.
            let error = lock(&instance.init_error).take().unwrap_or_else(|| {
                format!("Runtime.ExitError: Runtime exited with error: {status}")
            });
            self.init_failed(error);
        }
        // Replace the instance if work is waiting.
        if !shutting_down {
            self.scale_up();
        }
        Ok(())
    }

    /// Stops taking invocations, lets in-flight ones finish (up to `grace`), then stops every
    /// instance.
    pub async fn shutdown(&self, grace: Duration) {
        lock(&self.inner.sender).take();
        let deadline = tokio::time::Instant::now() + grace;
        while self.inner.pending.load(Ordering::SeqCst) > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let instances = lock(&self.inner.instances).clone();
        for instance in instances {
            if let Some(kill) = lock(&instance.kill).take() {
                let _ = kill.send(());
            }
        }
        while self.inner.running.load(Ordering::SeqCst) > 0
            && tokio::time::Instant::now() < deadline + Duration::from_secs(5)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
