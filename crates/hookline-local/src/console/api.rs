//! The pages as JSON, under `/_hookline/api/`: the same filters, the same actions, the same
//! errors (`{"error": code, "message": ...}`). Changes take a JSON body, which a page on
//! another origin cannot send without the browser asking first (CORS), so none can.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::actions::{self, ReplayMode};
use super::errors::JsonError;
use super::query::Detail;
use super::show::{mask_headers, masked_envelope};
use super::{Console, ConsoleError, PATH, Shared, filters, query, queues};

type Answer = Result<Response, JsonError>;

pub fn router() -> Router<Arc<Console>> {
    let at = |path: &str| format!("{PATH}/api{path}");
    Router::new()
        .route(&at("/deliveries"), get(deliveries))
        .route(&at("/deliveries/{id}"), get(delivery))
        .route(&at("/deliveries/{id}/replay"), post(replay))
        .route(&at("/queues"), get(queue_overview))
        .route(&at("/queues/{provider}/redrive"), post(redrive_all))
        .route(
            &at("/queues/{provider}/dlq/{message}/redrive"),
            post(redrive_one),
        )
        .route(
            &at("/queues/{provider}/dlq/{message}"),
            axum::routing::delete(delete_one),
        )
        .route(&at("/samples"), get(samples))
        .route(&at("/send"), post(send))
        .route(
            &at("/{*rest}"),
            axum::routing::any(|uri: axum::http::Uri| async move {
                JsonError(ConsoleError::NotFound(format!(
                    "the console's API has no {}",
                    uri.path()
                )))
            }),
        )
}

/// A JSON body of type `T`; `{}` for an empty one. Anything else is refused clearly.
fn body<T: for<'a> Deserialize<'a>>(headers: &HeaderMap, bytes: &Bytes) -> Result<T, ConsoleError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| {
            c.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("application/json")
        });
    if !json {
        return Err(ConsoleError::BadRequest(
            "send the request as JSON (Content-Type: application/json)".into(),
        ));
    }
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes)
        .map_err(|e| ConsoleError::BadRequest(format!("the JSON body: {e}")))
}

fn ok(value: Value) -> Answer {
    Ok(axum::Json(value).into_response())
}

async fn deliveries(state: Shared, RawQuery(raw): RawQuery) -> Answer {
    let query = super::pages::pairs(raw.as_deref().unwrap_or_default().as_bytes());
    let names: Vec<&str> = state.providers().iter().map(|p| p.name.as_str()).collect();
    let filter = filters::parse(&query, &names)?;
    let limit = filter.limit;
    let rows = state
        .history()
        .read(move |conn| query::list(conn, &filter))
        .await
        .map_err(ConsoleError::Internal)?;
    let next = (rows.len() as u32 == limit)
        .then(|| rows.last().map(|r| r.seq))
        .flatten();
    ok(json!({
        "deliveries": rows,
        "next_before": next,
        "kept_at_most": state.history().limits().deliveries,
    }))
}

fn detail_json(console: &Console, d: Detail) -> Value {
    let masked: Vec<&str> = d
        .summary
        .provider
        .as_deref()
        .and_then(|p| console.provider(p))
        .map(|p| p.scheme.signature_headers())
        .unwrap_or_default();
    let text = |bytes: &[u8]| match std::str::from_utf8(bytes) {
        Ok(text) => json!({ "text": text }),
        Err(_) => {
            json!({ "base64": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes) })
        }
    };
    let timeline: Vec<Value> = d
        .timeline
        .iter()
        .map(|t| {
            json!({
                "message_id": t.message_id,
                "at": super::show::rfc3339(t.at_ms),
                "kind": t.kind,
                "queue": t.queue,
                "receive_count": t.receive_count,
                "outcome": t.outcome,
                "error": t.error,
                "duration_ms": t.duration_ms,
                "new_message_id": t.other_message_id,
            })
        })
        .collect();
    let mut summary = serde_json::to_value(&d.summary).unwrap_or_default();
    summary["received_at"] = json!(super::show::rfc3339(d.summary.received_ms));
    json!({
        "delivery": summary,
        "request": {
            "method": d.method,
            "target": d.target,
            "headers": mask_headers(&d.headers, &masked),
            "body": text(&d.body),
        },
        "answer": {
            "status": d.summary.status,
            "error_message": d.error_message,
            "headers": d.response_headers,
            "body": text(&d.response_body),
        },
        "envelope": d.envelope.as_deref().map(|e| masked_envelope(e, &masked)),
        "timeline": timeline,
        "replays": d.replays,
        "trace_id": d.trace_id,
    })
}

async fn delivery(state: Shared, Path(id): Path<String>) -> Answer {
    let wanted = id.clone();
    let detail = state
        .history()
        .read(move |conn| query::detail(conn, &wanted))
        .await
        .map_err(ConsoleError::Internal)?
        .ok_or_else(|| actions::not_found(&id))?;
    ok(detail_json(&state, detail))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplayRequest {
    mode: String,
}

async fn replay(state: Shared, Path(id): Path<String>, headers: HeaderMap, bytes: Bytes) -> Answer {
    let request: ReplayRequest = body(&headers, &bytes)?;
    let mode: ReplayMode = request.mode.parse()?;
    let made = actions::replay(&state, &id, mode).await?;
    ok(json!(made))
}

async fn queue_overview(state: Shared) -> Answer {
    let overview = queues::overview(&state).await?;
    ok(json!({ "queues": overview }))
}

async fn redrive_all(
    state: Shared,
    Path(provider): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Answer {
    let _: serde::de::IgnoredAny = body(&headers, &bytes)?;
    let moving = queues::redrive_all(&state, &provider).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "redriving": moving })),
    )
        .into_response())
}

async fn redrive_one(
    state: Shared,
    Path((provider, message)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Answer {
    let _: serde::de::IgnoredAny = body(&headers, &bytes)?;
    let new_id = queues::redrive_one(&state, &provider, &message).await?;
    ok(json!({ "message_id": message, "new_message_id": new_id }))
}

async fn delete_one(state: Shared, Path((provider, message)): Path<(String, String)>) -> Answer {
    queues::delete_one(&state, &provider, &message).await?;
    ok(json!({ "deleted": message }))
}

async fn samples(state: Shared) -> Answer {
    let providers: Vec<Value> = state
        .providers()
        .iter()
        .map(|p| {
            let (samples, error) = match &p.samples {
                Ok(samples) => (
                    samples
                        .iter()
                        .map(|s| json!({ "event_type": s.event_type, "content_type": s.content_type }))
                        .collect(),
                    None,
                ),
                Err(why) => (Vec::new(), Some(why.clone())),
            };
            json!({ "provider": p.name, "scheme": p.scheme.name(), "route": p.route, "samples": samples, "error": error })
        })
        .collect();
    ok(json!({ "providers": providers }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendRequest {
    provider: String,
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

async fn send(state: Shared, headers: HeaderMap, bytes: Bytes) -> Answer {
    let request: SendRequest = body(&headers, &bytes)?;
    let made = actions::send(
        &state,
        &request.provider,
        request.event.as_deref(),
        request.body.map(String::into_bytes),
    )
    .await?;
    ok(json!(made))
}
