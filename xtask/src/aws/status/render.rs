//! What `status` prints: one screen, or one line of JSON.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Depth, OLDEST_WINDOW_MINUTES, Status};
use crate::aws::reap::age;

/// `2026-12-02 10:00:00 UTC`.
fn time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `42 s` under two minutes, else `3h 4m`.
fn seconds(secs: f64) -> String {
    if secs < 120.0 {
        format!("{secs:.0} s")
    } else {
        age(secs as i64)
    }
}

fn depth(depth: Option<Depth>) -> String {
    depth.map_or_else(
        || "?".to_owned(),
        |d| format!("{} / {}", d.visible, d.in_flight),
    )
}

/// The screen.
pub fn human(status: &Status) -> String {
    let now = status.now;
    let mut out = format!(
        "{} ({}): {}\n",
        status.stack, status.region, status.stack_status
    );
    if let Some(reason) = &status.reason {
        out.push_str(&format!("  {reason}\n"));
    }
    match &status.deployed_at {
        Some(at) => out.push_str(&format!(
            "last deploy  {} ({} ago)\n",
            time(at),
            age((now - *at).num_seconds().max(0))
        )),
        None => out.push_str("last deploy  unknown\n"),
    }
    let pr = status
        .pr
        .as_ref()
        .map(|p| format!(", pull request #{p}"))
        .unwrap_or_default();
    match &status.expires_at {
        None => out.push_str("expires      never (a retained stage)\n"),
        Some(text) => match DateTime::parse_from_rfc3339(text) {
            Ok(at) => {
                let at = at.with_timezone(&Utc);
                let left = (at - now).num_seconds();
                let when = if left >= 0 {
                    format!("in {}", age(left))
                } else {
                    format!("expired {} ago: `cargo xtask reap` removes it", age(-left))
                };
                out.push_str(&format!(
                    "expires      {} ({when}; ephemeral{pr})\n",
                    time(&at)
                ));
            }
            Err(_) => out.push_str(&format!(
                "expires      `{text}` (unreadable: reap never removes it by time{pr})\n"
            )),
        },
    }
    out.push('\n');
    let header = [
        "provider",
        "webhook URL",
        "queue (visible / in flight)",
        "DLQ",
        "oldest message",
    ];
    let rows: Vec<[String; 5]> = status
        .providers
        .iter()
        .map(|p| {
            [
                p.name.clone(),
                p.webhook_url.clone().unwrap_or_else(|| "?".to_owned()),
                depth(p.queue),
                p.dlq
                    .map_or_else(|| "?".to_owned(), |d| (d.visible + d.in_flight).to_string()),
                p.oldest_age_secs
                    .map_or_else(|| "no data".to_owned(), seconds),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        format!("{}\n", text.trim_end())
    };
    out.push_str(&line(header));
    for row in &rows {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
    }
    out.push_str(&format!(
        "(oldest message: CloudWatch's ApproximateAgeOfOldestMessage, the latest minute of the last {OLDEST_WINDOW_MINUTES}; no data: none in that window, as for an idle queue)\n"
    ));
    for provider in &status.providers {
        for problem in &provider.problems {
            out.push_str(&format!("{}: {problem}\n", provider.name));
        }
    }
    out.push('\n');
    if status.alarms.is_empty() {
        out.push_str("alarms in ALARM: none\n");
    } else {
        out.push_str(&format!("alarms in ALARM ({}):\n", status.alarms.len()));
        for alarm in &status.alarms {
            let since = alarm
                .since
                .map(|t| format!("  since {}", time(&t)))
                .unwrap_or_default();
            out.push_str(&format!("  {}{since}\n", alarm.name));
            if let Some(description) = &alarm.description {
                out.push_str(&format!("    {description}\n"));
            }
        }
    }
    out
}

fn depth_json(depth: Option<Depth>) -> Value {
    depth.map_or(
        Value::Null,
        |d| json!({ "visible": d.visible, "inFlight": d.in_flight }),
    )
}

/// One JSON document.
pub fn json(status: &Status) -> Value {
    let providers: Vec<Value> = status
        .providers
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "webhookUrl": p.webhook_url,
                "queue": depth_json(p.queue),
                "dlq": depth_json(p.dlq),
                "oldestMessageAgeSecs": p.oldest_age_secs,
                "problems": p.problems,
            })
        })
        .collect();
    let alarms: Vec<Value> = status
        .alarms
        .iter()
        .map(|a| {
            json!({
                "name": a.name,
                "description": a.description,
                "reason": a.reason,
                "since": a.since.map(|t| t.to_rfc3339()),
            })
        })
        .collect();
    json!({
        "stack": status.stack,
        "region": status.region,
        "status": status.stack_status,
        "reason": status.reason,
        "deployedAt": status.deployed_at.map(|t| t.to_rfc3339()),
        "ephemeral": status.ephemeral(),
        "expiresAt": status.expires_at,
        "pr": status.pr,
        "providers": providers,
        "alarms": alarms,
        "readAt": status.now.to_rfc3339(),
    })
}
