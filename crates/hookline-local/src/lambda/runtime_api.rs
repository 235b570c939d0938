//! The Runtime API an instance talks to ("Using the Lambda runtime API for custom runtimes"):
//! `next`, `response`, `error` and `init/error`, version 2018-06-01.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hookline_manifest::limits::LAMBDA_MAX_RESPONSE_PAYLOAD_BYTES;

use super::{Function, Instance, InvokeError, init, lock};

type ApiState = (Function, Arc<Instance>);

/// The header a runtime names its error's type in.
const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";

pub(super) async fn next(State((function, instance)): State<ApiState>) -> Response {
    let inner = &function.inner;
    if instance
        .cold_start
        .set(lock(&instance.spawned).elapsed())
        .is_ok()
    {
        function.init_succeeded();
    }
    let invocation = loop {
        inner.waiting.fetch_add(1, Ordering::SeqCst);
        let next = {
            let mut queue = inner.queue.lock().await;
            queue.recv().await
        };
        inner.waiting.fetch_sub(1, Ordering::SeqCst);
        let Some(invocation) = next else {
            // Shutting down: keep the instance parked until it is stopped.
            std::future::pending::<()>().await;
            return StatusCode::GONE.into_response();
        };
        inner.pending.fetch_sub(1, Ordering::SeqCst);
        // Skip invocations whose caller gave up (timed out) before any instance took them.
        if !invocation.reply.is_closed() {
            break invocation;
        }
    };
    let mut headers = HeaderMap::new();
    let arn = crate::aws_local::lambda_function_arn(&inner.spec.name);
    for (name, value) in [
        ("lambda-runtime-aws-request-id", invocation.id.clone()),
        (
            "lambda-runtime-deadline-ms",
            invocation.deadline_ms.to_string(),
        ),
        ("lambda-runtime-invoked-function-arn", arn),
        ("lambda-runtime-trace-id", invocation.trace_id.clone()),
        ("content-type", "application/json".to_owned()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    let payload = invocation.payload.clone();
    *lock(&instance.current) = Some(invocation);
    (StatusCode::OK, headers, payload).into_response()
}

fn finish(instance: &Instance, id: &str, result: Result<Bytes, InvokeError>) -> StatusCode {
    let mut current = lock(&instance.current);
    match current.take() {
        Some(invocation) if invocation.id == id => {
            let _ = invocation.reply.send(result);
            StatusCode::ACCEPTED
        }
        other => {
            *current = other;
            StatusCode::BAD_REQUEST
        }
    }
}

pub(super) async fn respond(
    State((_, instance)): State<ApiState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if body.len() > LAMBDA_MAX_RESPONSE_PAYLOAD_BYTES {
        // Lambda refuses the response and the invocation fails ("Lambda quotas": 6 MB); the
        // runtime is told so as Lambda tells it.
        let message = format!(
            "Exceeded maximum allowed payload size ({LAMBDA_MAX_RESPONSE_PAYLOAD_BYTES} bytes)."
        );
        let error = InvokeError::Function(format!("RequestEntityTooLarge: {message}"));
        finish(&instance, &id, Err(error));
        let document = serde_json::json!({
            "errorMessage": message,
            "errorType": "RequestEntityTooLarge",
        });
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            [("content-type", "application/json")],
            document.to_string(),
        )
            .into_response();
    }
    finish(&instance, &id, Ok(body)).into_response()
}

pub(super) async fn fail(
    State((_, instance)): State<ApiState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let kind = headers
        .get(ERROR_TYPE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("Unhandled");
    let message = format!("{kind}: {}", String::from_utf8_lossy(&body));
    finish(&instance, &id, Err(InvokeError::Function(message)))
}

/// Keeps what the runtime reports as its init error, and stops the instance: an environment
/// whose init failed takes no invocation.
pub(super) async fn init_error(
    State((_, instance)): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let kind = headers.get(ERROR_TYPE_HEADER).and_then(|v| v.to_str().ok());
    *lock(&instance.init_error) = Some(init::describe_posted_error(kind, &body));
    if let Some(kill) = lock(&instance.kill).take() {
        let _ = kill.send(());
    }
    StatusCode::ACCEPTED
}
