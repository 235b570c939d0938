//! Applying records to the history's tables, and pruning them to the limits.

use rusqlite::{Connection, params};

use super::{DeliveryRecord, Limits, Record, TimelineRecord};

/// Most handler errors kept waiting for their attempt.
const MAX_PENDING_ERRORS: usize = 1000;

pub(super) fn apply(
    conn: &Connection,
    record: Record,
    pending_errors: &mut Vec<(String, String)>,
) -> rusqlite::Result<()> {
    match record {
        Record::Flush(_) => Ok(()),
        Record::Delivery(d) => insert_delivery(conn, &d),
        Record::Sent {
            queue,
            message_id,
            body,
            trace_id,
            event_type,
            delivery_id,
            at_ms,
        } => {
            conn.execute(
                "INSERT OR IGNORE INTO messages (message_id, trace_id, queue, body, sent_ms, event_type, delivery_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![message_id, trace_id, queue, body, at_ms, event_type, delivery_id],
            )?;
            insert_timeline(
                conn,
                &TimelineRecord {
                    message_id: message_id.clone(),
                    at_ms,
                    kind: "queued",
                    queue,
                    ..TimelineRecord::default()
                },
            )?;
            if let Some(trace_id) = trace_id {
                conn.execute(
                    "UPDATE deliveries SET message_id = COALESCE(message_id, ?2),
                         event_type = COALESCE(event_type, ?3), delivery_id = COALESCE(delivery_id, ?4)
                     WHERE trace_id = ?1",
                    params![trace_id, message_id, event_type, delivery_id],
                )?;
            }
            Ok(())
        }
        Record::Timeline(mut entry) => {
            if entry.outcome == Some("failed")
                && let Some(i) = pending_errors
                    .iter()
                    .position(|(id, _)| *id == entry.message_id)
            {
                entry.error = Some(pending_errors.remove(i).1);
            }
            insert_timeline(conn, &entry)
        }
        Record::Redriven {
            from_id,
            to_id,
            queue,
            at_ms,
        } => {
            conn.execute(
                "INSERT OR IGNORE INTO messages (message_id, trace_id, queue, body, sent_ms, origin, event_type, delivery_id)
                 SELECT ?2, trace_id, ?3, body, ?4, message_id, event_type, delivery_id FROM messages WHERE message_id = ?1",
                params![from_id, to_id, queue, at_ms],
            )?;
            insert_timeline(
                conn,
                &TimelineRecord {
                    message_id: from_id,
                    at_ms,
                    kind: "redriven",
                    queue,
                    other_message_id: Some(to_id),
                    ..TimelineRecord::default()
                },
            )
        }
        Record::HandlerError { message_id, error } => {
            // The processor logs the failure before it answers: usually the attempt is not
            // recorded yet, and takes the error when it is.
            let updated = conn.execute(
                "UPDATE timeline SET error = ?2 WHERE seq = (
                     SELECT MAX(seq) FROM timeline WHERE message_id = ?1 AND kind = 'attempt')
                   AND outcome = 'failed' AND error IS NULL",
                params![message_id, error],
            )?;
            if updated == 0 {
                if pending_errors.len() >= MAX_PENDING_ERRORS {
                    pending_errors.remove(0);
                }
                pending_errors.push((message_id, error));
            }
            Ok(())
        }
    }
}

fn insert_delivery(conn: &Connection, d: &DeliveryRecord) -> rusqlite::Result<()> {
    let headers = serde_json::to_string(&d.headers).unwrap_or_else(|_| "[]".into());
    let response_headers =
        serde_json::to_string(&d.response_headers).unwrap_or_else(|_| "[]".into());
    conn.execute(
        "INSERT OR IGNORE INTO deliveries (id, received_ms, provider, method, target, headers, body, status,
             error_code, error_message, response_headers, response_body, latency_ms, trace_id, message_id, replay_of)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        params![
            d.id,
            d.received_ms,
            d.provider,
            d.method,
            d.target,
            headers,
            d.body,
            d.status,
            d.error_code,
            d.error_message,
            response_headers,
            d.response_body,
            d.latency_ms,
            d.trace_id,
            d.message_id,
            d.replay_of,
        ],
    )?;
    // The message its ingest sent may have been recorded first.
    if let Some(trace_id) = &d.trace_id {
        conn.execute(
            "UPDATE deliveries SET
                 message_id = COALESCE(deliveries.message_id, m.message_id),
                 event_type = m.event_type, delivery_id = m.delivery_id
             FROM (SELECT message_id, event_type, delivery_id FROM messages
                   WHERE trace_id = ?1 AND origin IS NULL ORDER BY sent_ms LIMIT 1) AS m
             WHERE deliveries.id = ?2",
            params![trace_id, d.id],
        )?;
    }
    Ok(())
}

fn insert_timeline(conn: &Connection, t: &TimelineRecord) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO timeline (message_id, at_ms, kind, queue, receive_count, outcome, error, duration_ms, other_message_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            t.message_id,
            t.at_ms,
            t.kind,
            t.queue,
            t.receive_count,
            t.outcome,
            t.error,
            t.duration_ms,
            t.other_message_id,
        ],
    )?;
    Ok(())
}

/// Drops the oldest deliveries beyond the limits, and the history of messages older than the
/// oldest delivery kept.
pub(super) fn prune(conn: &Connection, limits: Limits) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM deliveries WHERE seq <= (SELECT MAX(seq) FROM deliveries) - ?1",
        [limits.deliveries],
    )?;
    conn.execute(
        "DELETE FROM deliveries WHERE seq <= (
             SELECT seq FROM (
                 SELECT seq, SUM(length(body)) OVER (ORDER BY seq DESC) AS kept FROM deliveries
             ) WHERE kept > ?1 ORDER BY seq DESC LIMIT 1)",
        [limits.body_bytes],
    )?;
    let oldest: Option<i64> =
        conn.query_row("SELECT MIN(received_ms) FROM deliveries", [], |r| r.get(0))?;
    if let Some(oldest) = oldest {
        conn.execute("DELETE FROM messages WHERE sent_ms < ?1", [oldest])?;
        conn.execute("DELETE FROM timeline WHERE at_ms < ?1", [oldest])?;
    }
    // Messages no delivery sent (straight to the queue) are bounded on their own.
    let most_messages = limits.deliveries.saturating_mul(2);
    conn.execute(
        "DELETE FROM messages WHERE rowid <= (SELECT MAX(rowid) FROM messages) - ?1",
        [most_messages],
    )?;
    conn.execute(
        "DELETE FROM timeline WHERE seq <= (SELECT MAX(seq) FROM timeline) - ?1",
        [most_messages.saturating_mul(5)],
    )?;
    Ok(())
}
