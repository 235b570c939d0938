//! Reading log events with `FilterLogEvents`: every page of each log group, merged in time
//! order; and following them, polling again from the newest event seen.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use anyhow::Result;
use aws_sdk_cloudwatchlogs::Client;

use super::Function;

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// CloudWatch Logs' id of the event, unique in its log group.
    pub id: String,
    /// When it was logged, Unix milliseconds.
    pub timestamp_ms: i64,
    /// Which function wrote it.
    pub function: Function,
    /// The line as the function wrote it.
    pub message: String,
}

/// What to read.
#[derive(Debug, Clone)]
pub struct Query {
    /// The log group of each function.
    pub groups: Vec<(Function, String)>,
    /// From when, Unix milliseconds.
    pub start_ms: i64,
    /// A CloudWatch Logs filter pattern.
    pub pattern: Option<String>,
    /// Events per page (`None`: the service's default, 10,000).
    pub page_limit: Option<i32>,
}

/// How `follow` polls.
#[derive(Debug, Clone, Copy)]
pub struct FollowOptions {
    /// Between two polls.
    pub poll: Duration,
    /// How far before the newest event seen each poll starts: events reach CloudWatch Logs
    /// late, and out of order, so a poll from the newest timestamp alone would miss some.
    pub overlap: Duration,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            poll: Duration::from_secs(2),
            overlap: Duration::from_secs(120),
        }
    }
}

/// Every event of one log group from `start_ms`, all pages.
async fn group(
    client: &Client,
    function: Function,
    name: &str,
    start_ms: i64,
    query: &Query,
) -> Result<Vec<Event>> {
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .filter_log_events()
            .log_group_name(name)
            .start_time(start_ms)
            .set_filter_pattern(query.pattern.clone())
            .set_limit(query.page_limit)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|err| {
                anyhow::anyhow!(
                    "reading the log group {name}: {}",
                    aws_sdk_cloudwatchlogs::error::DisplayErrorContext(&err)
                )
            })?;
        events.extend(out.events().iter().filter_map(|e| {
            Some(Event {
                id: e.event_id()?.to_owned(),
                timestamp_ms: e.timestamp()?,
                function,
                message: e.message().unwrap_or_default().trim_end().to_owned(),
            })
        }));
        // A page may be empty and still have a token (the search goes on): follow it.
        match out.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => return Ok(events),
        }
    }
}

/// Every event of the query's log groups from `start_ms`, oldest first.
async fn from(client: &Client, query: &Query, start_ms: i64) -> Result<Vec<Event>> {
    let mut events = Vec::new();
    for (function, name) in &query.groups {
        events.extend(group(client, *function, name, start_ms, query).await?);
    }
    events.sort_by(|a, b| {
        (a.timestamp_ms, a.function.as_str(), &a.id).cmp(&(
            b.timestamp_ms,
            b.function.as_str(),
            &b.id,
        ))
    });
    Ok(events)
}

/// Every event of the query, oldest first.
pub async fn all(client: &Client, query: &Query) -> Result<Vec<Event>> {
    from(client, query, query.start_ms).await
}

/// Prints (`out`) every event of the query, then every new one, each once, until `stop`
/// completes. Each poll starts `overlap` before the newest event seen; the ids of the events
/// in that overlap are kept, to print none twice.
pub async fn follow(
    client: &Client,
    query: Query,
    options: FollowOptions,
    stop: impl Future<Output = ()>,
    out: &mut (dyn FnMut(&Event) + Send),
) -> Result<()> {
    let overlap_ms = i64::try_from(options.overlap.as_millis()).unwrap_or(i64::MAX);
    let mut start_ms = query.start_ms;
    // Event ids (unique per log group) by function, with their timestamps.
    let mut seen: HashMap<(Function, String), i64> = HashMap::new();
    tokio::pin!(stop);
    loop {
        let events = tokio::select! {
            () = &mut stop => return Ok(()),
            events = from(client, &query, start_ms) => events?,
        };
        for event in events {
            if seen
                .insert((event.function, event.id.clone()), event.timestamp_ms)
                .is_none()
            {
                out(&event);
            }
        }
        if let Some(newest) = seen.values().max() {
            start_ms = start_ms.max(newest.saturating_sub(overlap_ms));
        }
        // What is older than the next poll's start cannot come back.
        seen.retain(|_, timestamp| *timestamp >= start_ms);
        tokio::select! {
            () = &mut stop => return Ok(()),
            () = tokio::time::sleep(options.poll) => {}
        }
    }
}
