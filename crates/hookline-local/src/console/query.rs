//! Reading the history: the deliveries list with its filters, one delivery with its messages'
//! timeline, and which delivery a queue message carries.

use rusqlite::{Connection, OptionalExtension, Row, params_from_iter};
use serde::Serialize;

use super::history::TimelineRecord;

/// Deliveries per page, and the most an API call may ask for.
pub const PAGE: u32 = 50;
/// The most deliveries one API call returns.
pub const MAX_PAGE: u32 = 500;

/// Which deliveries to list. Checked by [`super::filters`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// A provider's name, or `-` for requests that matched no route.
    pub provider: Option<String>,
    /// The status class (`2xx`) or code (`401`): the range of codes it covers.
    pub status: Option<(u16, u16)>,
    /// The event type.
    pub event_type: Option<String>,
    /// A delivery id (the provider's), the console's id or a queue message id.
    pub search: Option<String>,
    /// Only deliveries older than this one (its `seq`).
    pub before: Option<i64>,
    /// How many.
    pub limit: u32,
}

/// What became of a delivery's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Processing {
    /// Not queued (refused, or answered without queueing).
    NotQueued,
    /// Queued, not processed yet.
    Queued,
    /// Processed.
    Processed,
    /// The last attempt failed; it comes back after the visibility timeout.
    Retrying,
    /// In the dead-letter queue.
    DeadLettered,
    /// Deleted from the dead-letter queue.
    Deleted,
}

impl Processing {
    /// As shown.
    pub fn label(self) -> &'static str {
        match self {
            Processing::NotQueued => "not queued",
            Processing::Queued => "queued",
            Processing::Processed => "processed",
            Processing::Retrying => "retrying",
            Processing::DeadLettered => "in DLQ",
            Processing::Deleted => "deleted",
        }
    }
}

/// A row of the deliveries list.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Position in the history (for paging).
    pub seq: i64,
    /// The console's id.
    pub id: String,
    /// Arrival (ms).
    pub received_ms: i64,
    /// The provider, when it matched a route.
    pub provider: Option<String>,
    /// The answer's status.
    pub status: u16,
    /// The refusal's code.
    pub error_code: Option<String>,
    /// The event type.
    pub event_type: Option<String>,
    /// The provider's delivery id.
    pub delivery_id: Option<String>,
    /// Arrival to answer.
    pub latency_ms: f64,
    /// The queue message.
    pub message_id: Option<String>,
    /// What became of it.
    pub processing: Processing,
    /// The delivery it replays.
    pub replay_of: Option<String>,
}

/// One delivery, whole.
#[derive(Debug, Clone)]
pub struct Detail {
    /// The list's fields.
    pub summary: Summary,
    /// Method.
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Headers as received.
    pub headers: Vec<(String, String)>,
    /// Body as received.
    pub body: Vec<u8>,
    /// The refusal's message.
    pub error_message: Option<String>,
    /// The answer's headers.
    pub response_headers: Vec<(String, String)>,
    /// The answer's body.
    pub response_body: Vec<u8>,
    /// The ingest invocation's trace header.
    pub trace_id: Option<String>,
    /// The envelope as queued.
    pub envelope: Option<String>,
    /// Every message it became and what happened to each, in order.
    pub timeline: Vec<TimelineRecord>,
    /// Replays of it.
    pub replays: Vec<String>,
}

const SUMMARY_COLUMNS: &str = "seq, id, received_ms, provider, status, error_code, event_type, \
     delivery_id, latency_ms, message_id, replay_of, trace_id";

fn summary_row(r: &Row<'_>) -> rusqlite::Result<(Summary, Option<String>)> {
    Ok((
        Summary {
            seq: r.get(0)?,
            id: r.get(1)?,
            received_ms: r.get(2)?,
            provider: r.get(3)?,
            status: r.get(4)?,
            error_code: r.get(5)?,
            event_type: r.get(6)?,
            delivery_id: r.get(7)?,
            latency_ms: r.get(8)?,
            message_id: r.get(9)?,
            processing: Processing::NotQueued,
            replay_of: r.get(10)?,
        },
        r.get(11)?,
    ))
}

/// The messages of a delivery: by its trace header, else the message its answer named.
const MESSAGES_OF: &str =
    "SELECT message_id FROM messages WHERE trace_id = ?1 UNION SELECT ?2 WHERE ?2 IS NOT NULL";

fn processing(
    conn: &Connection,
    trace_id: Option<&str>,
    message_id: Option<&str>,
) -> rusqlite::Result<Processing> {
    if trace_id.is_none() && message_id.is_none() {
        return Ok(Processing::NotQueued);
    }
    let last: Option<(String, Option<String>)> = conn
        .query_row(
            &format!(
                "SELECT kind, outcome FROM timeline WHERE message_id IN ({MESSAGES_OF})
                 AND kind != 'queued' ORDER BY at_ms DESC, seq DESC LIMIT 1"
            ),
            rusqlite::params![trace_id, message_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match last {
        None if message_id.is_some() => Processing::Queued,
        None => {
            let queued: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM messages WHERE trace_id = ?1)",
                [trace_id],
                |r| r.get(0),
            )?;
            if queued {
                Processing::Queued
            } else {
                Processing::NotQueued
            }
        }
        Some((kind, outcome)) => match (kind.as_str(), outcome.as_deref()) {
            ("attempt", Some("succeeded")) => Processing::Processed,
            ("attempt", _) => Processing::Retrying,
            ("dead_lettered", _) => Processing::DeadLettered,
            ("deleted", _) => Processing::Deleted,
            _ => Processing::Queued,
        },
    })
}

/// The deliveries `filter` selects, newest first.
pub fn list(conn: &Connection, filter: &Filter) -> rusqlite::Result<Vec<Summary>> {
    let mut clauses: Vec<&str> = Vec::new();
    let mut values: Vec<rusqlite::types::Value> = Vec::new();
    use rusqlite::types::Value as V;
    match filter.provider.as_deref() {
        Some("-") => clauses.push("provider IS NULL"),
        Some(provider) => {
            clauses.push("provider = ?");
            values.push(V::Text(provider.to_owned()));
        }
        None => {}
    }
    if let Some((low, high)) = filter.status {
        clauses.push("status BETWEEN ? AND ?");
        values.push(V::Integer(low.into()));
        values.push(V::Integer(high.into()));
    }
    if let Some(event_type) = &filter.event_type {
        clauses.push("event_type = ?");
        values.push(V::Text(event_type.clone()));
    }
    if let Some(search) = &filter.search {
        clauses.push("(delivery_id = ? OR id = ? OR message_id = ? OR id IN (SELECT d.id FROM deliveries d JOIN messages m ON m.trace_id = d.trace_id WHERE m.message_id = ?))");
        for _ in 0..4 {
            values.push(V::Text(search.clone()));
        }
    }
    if let Some(before) = filter.before {
        clauses.push("seq < ?");
        values.push(V::Integer(before));
    }
    let condition = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    values.push(V::Integer(filter.limit.into()));
    let mut statement = conn.prepare(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM deliveries {condition} ORDER BY seq DESC LIMIT ?"
    ))?;
    let rows = statement
        .query_map(params_from_iter(values), summary_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(mut summary, trace)| {
            summary.processing = processing(conn, trace.as_deref(), summary.message_id.as_deref())?;
            Ok(summary)
        })
        .collect()
}

fn pairs(json: &str) -> Vec<(String, String)> {
    serde_json::from_str(json).unwrap_or_default()
}

/// One delivery, or `None`.
pub fn detail(conn: &Connection, id: &str) -> rusqlite::Result<Option<Detail>> {
    let found = conn
        .query_row(
            &format!(
                "SELECT {SUMMARY_COLUMNS}, method, target, headers, body, error_message,
                        response_headers, response_body
                 FROM deliveries WHERE id = ?1"
            ),
            [id],
            |r| {
                let (summary, trace) = summary_row(r)?;
                Ok((
                    summary,
                    trace,
                    r.get::<_, String>(12)?,
                    r.get::<_, String>(13)?,
                    r.get::<_, String>(14)?,
                    r.get::<_, Vec<u8>>(15)?,
                    r.get::<_, Option<String>>(16)?,
                    r.get::<_, String>(17)?,
                    r.get::<_, Vec<u8>>(18)?,
                ))
            },
        )
        .optional()?;
    let Some((
        mut summary,
        trace_id,
        method,
        target,
        headers,
        body,
        error_message,
        response_headers,
        response_body,
    )) = found
    else {
        return Ok(None);
    };
    summary.processing = processing(conn, trace_id.as_deref(), summary.message_id.as_deref())?;
    let envelope: Option<String> = conn
        .query_row(
            &format!(
                "SELECT body FROM messages WHERE message_id IN ({MESSAGES_OF}) ORDER BY origin IS NOT NULL, sent_ms LIMIT 1"
            ),
            rusqlite::params![trace_id, summary.message_id],
            |r| r.get(0),
        )
        .optional()?;
    let mut statement = conn.prepare(&format!(
        "SELECT message_id, at_ms, kind, queue, receive_count, outcome, error, duration_ms, other_message_id
         FROM timeline WHERE message_id IN ({MESSAGES_OF}) ORDER BY at_ms, seq"
    ))?;
    let timeline = statement
        .query_map(rusqlite::params![trace_id, summary.message_id], |r| {
            Ok(TimelineRecord {
                message_id: r.get(0)?,
                at_ms: r.get(1)?,
                kind: kind_name(&r.get::<_, String>(2)?),
                queue: r.get(3)?,
                receive_count: r.get(4)?,
                outcome: r.get::<_, Option<String>>(5)?.map(|o| outcome_name(&o)),
                error: r.get(6)?,
                duration_ms: r.get(7)?,
                other_message_id: r.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut statement =
        conn.prepare("SELECT id FROM deliveries WHERE replay_of = ?1 ORDER BY seq")?;
    let replays = statement
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(Some(Detail {
        summary,
        method,
        target,
        headers: pairs(&headers),
        body,
        error_message,
        response_headers: pairs(&response_headers),
        response_body,
        trace_id,
        envelope,
        timeline,
        replays,
    }))
}

fn kind_name(kind: &str) -> &'static str {
    match kind {
        "queued" => "queued",
        "attempt" => "attempt",
        "dead_lettered" => "dead_lettered",
        "redriven" => "redriven",
        "deleted" => "deleted",
        _ => "unknown",
    }
}

fn outcome_name(outcome: &str) -> &'static str {
    match outcome {
        "succeeded" => "succeeded",
        "failed" => "failed",
        "batch_failed" => "batch_failed",
        _ => "unknown",
    }
}

/// The delivery whose message (or a redriven copy of it) is `message_id`.
pub fn delivery_of_message(
    conn: &Connection,
    message_id: &str,
) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT d.id FROM deliveries d WHERE d.message_id = ?1
         UNION ALL
         SELECT d.id FROM deliveries d JOIN messages m ON m.trace_id = d.trace_id WHERE m.message_id = ?1
         LIMIT 1",
        [message_id],
        |r| r.get(0),
    )
    .optional()
}

/// The event types seen, for the filter's suggestions.
pub fn event_types(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut statement = conn.prepare(
        "SELECT DISTINCT event_type FROM deliveries WHERE event_type IS NOT NULL ORDER BY event_type LIMIT 200",
    )?;
    let types = statement
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(types)
}

/// How many deliveries are kept.
pub fn count(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT COUNT(*) FROM deliveries", [], |r| r.get(0))
}
