//! The HTML pages and their forms. Each form posts, then redirects (303) to the page that shows
//! the result, with a notice; bad input gets an error page that says what was wrong.

mod detail;
mod list;
mod queues;
mod send;

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::response::{Html, Redirect};

use super::actions::{self, ReplayMode};
use super::html::{self, Tab, url_value};
use super::{ConsoleError, PATH, Shared, filters, query};

type Page = Result<Html<String>, ConsoleError>;

/// A query string or form body as name → value (the last of a repeated name).
pub fn pairs(raw: &[u8]) -> BTreeMap<String, String> {
    form_urlencoded::parse(raw).into_owned().collect()
}

fn query_of(raw: &Option<String>) -> BTreeMap<String, String> {
    pairs(raw.as_deref().unwrap_or_default().as_bytes())
}

async fn frame(state: &Shared, title: &str, tab: Tab, notice: Option<&str>, body: &str) -> Page {
    let kept = state
        .history()
        .read(query::count)
        .await
        .map_err(ConsoleError::Internal)?;
    let footer = html::footer(
        state.history().health(),
        kept,
        state.history().limits().deliveries,
    );
    Ok(Html(html::page(title, tab, notice, body, &footer)))
}

fn redirect(path: &str, notice: &str) -> Redirect {
    Redirect::to(&format!("{PATH}{path}?notice={}", url_value(notice)))
}

/// The deliveries list.
pub async fn deliveries(state: Shared, RawQuery(raw): RawQuery) -> Page {
    let query = query_of(&raw);
    let names: Vec<&str> = state.providers().iter().map(|p| p.name.as_str()).collect();
    let filter = filters::parse(&query, &names)?;
    let wanted = filter.clone();
    let (rows, types) = state
        .history()
        .read(move |conn| Ok((query::list(conn, &wanted)?, query::event_types(conn)?)))
        .await
        .map_err(ConsoleError::Internal)?;
    let body = list::render(&state, &query, &filter, &rows, &types);
    frame(
        &state,
        "Deliveries",
        Tab::Deliveries,
        query.get("notice").map(String::as_str),
        &body,
    )
    .await
}

/// One delivery.
pub async fn delivery(state: Shared, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Page {
    let query = query_of(&raw);
    let wanted = id.clone();
    let detail = state
        .history()
        .read(move |conn| query::detail(conn, &wanted))
        .await
        .map_err(ConsoleError::Internal)?
        .ok_or_else(|| actions::not_found(&id))?;
    let body = detail::render(&state, &detail);
    frame(
        &state,
        &format!("Delivery {id}"),
        Tab::Deliveries,
        query.get("notice").map(String::as_str),
        &body,
    )
    .await
}

/// Replays a delivery (`mode=original|resigned`), then shows the replay.
pub async fn replay(
    state: Shared,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Redirect, ConsoleError> {
    let form = pairs(&body);
    let mode: ReplayMode = form
        .get("mode")
        .ok_or_else(|| {
            ConsoleError::BadRequest("say which replay: mode=original or mode=resigned".into())
        })?
        .parse()?;
    let made = actions::replay(&state, &id, mode).await?;
    Ok(redirect(
        &format!("/deliveries/{}", made.delivery),
        &format!("Replayed {id}: the gateway answered {}", made.status),
    ))
}

/// The queues.
pub async fn queues(state: Shared, RawQuery(raw): RawQuery) -> Page {
    let query = query_of(&raw);
    let overview = super::queues::overview(&state).await?;
    let body = queues::render(&overview);
    frame(
        &state,
        "Queues",
        Tab::Queues,
        query.get("notice").map(String::as_str),
        &body,
    )
    .await
}

/// Redrives a provider's whole dead-letter queue.
pub async fn redrive_all(
    state: Shared,
    Path(provider): Path<String>,
) -> Result<Redirect, ConsoleError> {
    let moving = super::queues::redrive_all(&state, &provider).await?;
    Ok(redirect(
        "/queues",
        &format!("Redriving {moving} message(s) of {provider}'s dead-letter queue"),
    ))
}

/// Redrives one dead letter.
pub async fn redrive_one(
    state: Shared,
    Path((provider, message)): Path<(String, String)>,
) -> Result<Redirect, ConsoleError> {
    let new_id = super::queues::redrive_one(&state, &provider, &message).await?;
    Ok(redirect(
        "/queues",
        &format!("Redrove {message} to {provider}'s queue as {new_id}"),
    ))
}

/// Deletes one dead letter.
pub async fn delete_one(
    state: Shared,
    Path((provider, message)): Path<(String, String)>,
) -> Result<Redirect, ConsoleError> {
    super::queues::delete_one(&state, &provider, &message).await?;
    Ok(redirect(
        "/queues",
        &format!("Deleted {message} from {provider}'s dead-letter queue"),
    ))
}

/// The send forms.
pub async fn send_forms(state: Shared, RawQuery(raw): RawQuery) -> Page {
    let query = query_of(&raw);
    let body = send::render(&state);
    frame(
        &state,
        "Send",
        Tab::Send,
        query.get("notice").map(String::as_str),
        &body,
    )
    .await
}

/// Sends a sample (`provider`, `event`, optional `body`), then shows it.
pub async fn send(state: Shared, body: Bytes) -> Result<Redirect, ConsoleError> {
    let form = pairs(&body);
    let provider = form
        .get("provider")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ConsoleError::BadRequest("say which provider to send for".into()))?;
    let event = form
        .get("event")
        .filter(|e| !e.is_empty())
        .map(String::as_str);
    let custom = form
        .get("body")
        .filter(|b| !b.trim().is_empty())
        .map(|b| b.replace("\r\n", "\n").into_bytes());
    let made = actions::send(&state, provider, event, custom).await?;
    Ok(redirect(
        &format!("/deliveries/{}", made.delivery),
        &format!("Sent to {provider}: the gateway answered {}", made.status),
    ))
}

/// Anything else under the console's path.
pub async fn not_found(uri: axum::http::Uri) -> ConsoleError {
    ConsoleError::NotFound(format!("the console has no page {}", uri.path()))
}
