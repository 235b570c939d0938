//! A delivery's page: what arrived (signatures masked), the answer, the envelope as queued,
//! and every processing attempt.

use super::super::history::TimelineRecord;
use super::super::html::{esc, processing_pill, status_pill, time, url_value};
use super::super::query::Detail;
use super::super::show::{age, form_fields, json_html, mask_headers, masked_envelope};
use super::super::{Console, PATH};

fn headers_table(headers: &[(String, String)]) -> String {
    if headers.is_empty() {
        return r#"<p class="mute">No headers.</p>"#.into();
    }
    let rows: String = headers
        .iter()
        .map(|(k, v)| {
            format!(
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                esc(k),
                esc(v)
            )
        })
        .collect();
    format!(r#"<table class="kv">{rows}</table>"#)
}

/// A body: formatted (JSON indented, form fields decoded) and raw.
pub fn body_views(body: &[u8], content_type: Option<&str>, id: &str) -> String {
    if body.is_empty() {
        return r#"<p class="mute">No body.</p>"#.into();
    }
    let raw = match std::str::from_utf8(body) {
        Ok(text) => esc(text),
        Err(_) => format!(
            "(not UTF-8; base64) {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, body)
        ),
    };
    let formatted = if let Some(json) = json_html(body) {
        Some(format!(r#"<pre class="json" id="{id}-json">{json}</pre>"#))
    } else {
        form_fields(body, content_type).map(|fields| {
            let rows: Vec<(String, String)> = fields;
            format!(r#"<div id="{id}-form">{}</div>"#, headers_table(&rows))
        })
    };
    match formatted {
        Some(formatted) => format!(
            r#"<details open><summary>Formatted</summary>{formatted}</details>
<details><summary>Raw · {} bytes</summary><pre class="raw" id="{id}-raw">{raw}</pre></details>"#,
            body.len()
        ),
        None => format!(
            r#"<p class="mute">{} bytes</p><pre class="raw" id="{id}-raw">{raw}</pre>"#,
            body.len()
        ),
    }
}

fn timeline_row(entry: &TimelineRecord, first_ms: i64) -> String {
    let (what, class) = match (entry.kind, entry.outcome) {
        ("queued", _) => ("queued".to_owned(), "info"),
        ("attempt", Some("succeeded")) => ("processed".to_owned(), "ok"),
        ("attempt", Some("failed")) => ("handler failed".to_owned(), "warn"),
        ("attempt", _) => ("batch failed".to_owned(), "bad"),
        ("dead_lettered", _) => ("moved to the DLQ".to_owned(), "bad"),
        ("redriven", _) => ("redriven".to_owned(), "info"),
        ("deleted", _) => ("deleted".to_owned(), "mute"),
        (other, _) => (other.to_owned(), "mute"),
    };
    let detail = match entry.kind {
        "redriven" => entry
            .other_message_id
            .as_deref()
            .map(|id| format!("as new message <code>{}</code>", esc(id)))
            .unwrap_or_default(),
        _ => entry
            .error
            .as_deref()
            .map(|e| format!(r#"<span class="err">{}</span>"#, esc(e)))
            .unwrap_or_default(),
    };
    format!(
        r#"<tr data-key="{key}"><td class="when">{time} <small class="mute">+{after}</small></td><td><span class="pill {class}">{what}</span></td><td>{queue}</td><td class="num">{count}</td><td class="num">{duration}</td><td class="id">{message}</td><td>{detail}</td></tr>"#,
        key = esc(&format!(
            "{}-{}-{}",
            entry.message_id, entry.at_ms, entry.kind
        )),
        time = time(entry.at_ms),
        after = age(entry.at_ms - first_ms),
        queue = esc(&entry.queue),
        count = entry
            .receive_count
            .map(|c| c.to_string())
            .unwrap_or_default(),
        duration = entry
            .duration_ms
            .map(|d| format!("{d:.0} ms"))
            .unwrap_or_default(),
        message = esc(&entry.message_id),
    )
}

/// The page's body.
pub fn render(console: &Console, d: &Detail) -> String {
    let s = &d.summary;
    let masked: Vec<&str> = s
        .provider
        .as_deref()
        .and_then(|p| console.provider(p))
        .map(|p| p.scheme.signature_headers())
        .unwrap_or_default();
    let content_type = d
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.as_str());
    let fact = |label: &str, value: String| format!("<div><dt>{label}</dt><dd>{value}</dd></div>");
    let code = |v: &Option<String>| {
        v.as_deref().map_or_else(
            || r#"<span class="mute">—</span>"#.to_owned(),
            |v| format!("<code>{}</code>", esc(v)),
        )
    };
    let mut facts = vec![
        fact("Received", time(s.received_ms)),
        fact(
            "Answer",
            format!("{} in {:.1} ms", status_pill(s.status), s.latency_ms),
        ),
        fact("Processing", processing_pill(s.processing)),
        fact("Event type", code(&s.event_type)),
        fact("Delivery id", code(&s.delivery_id)),
        fact("Message id", code(&s.message_id)),
    ];
    if let Some(error) = &s.error_code {
        let message = d.error_message.as_deref().map(esc).unwrap_or_default();
        facts.push(fact(
            "Refused",
            format!(r#"<code class="err">{}</code> {message}"#, esc(error)),
        ));
    }
    if let Some(original) = &s.replay_of {
        facts.push(fact(
            "Replay of",
            format!(
                r#"<a href="{PATH}/deliveries/{}">{}</a>"#,
                url_value(original),
                esc(original)
            ),
        ));
    }
    if !d.replays.is_empty() {
        let links: Vec<String> = d
            .replays
            .iter()
            .map(|r| {
                format!(
                    r#"<a href="{PATH}/deliveries/{}">{}</a>"#,
                    url_value(r),
                    esc(r)
                )
            })
            .collect();
        facts.push(fact("Replays", links.join(", ")));
    }
    facts.push(fact("Trace", code(&d.trace_id)));
    let first = d
        .timeline
        .first()
        .map_or(s.received_ms, |e| e.at_ms.min(s.received_ms));
    let timeline = if d.timeline.is_empty() {
        r#"<tr data-key="none"><td colspan="7" class="empty">Nothing was queued for this request.</td></tr>"#.to_owned()
    } else {
        d.timeline.iter().map(|e| timeline_row(e, first)).collect()
    };
    let envelope = match &d.envelope {
        Some(envelope) => {
            let value = masked_envelope(envelope, &masked);
            let text = serde_json::to_string(&value).unwrap_or_default();
            body_views(text.as_bytes(), Some("application/json"), "envelope")
        }
        None => r#"<p class="mute">Not queued.</p>"#.to_owned(),
    };
    let response_type = d
        .response_headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.as_str());
    let resign_note = if s.provider.is_some() {
        r#"<button type="submit" class="secondary" name="mode" value="resigned" title="Signed again now with the local secret">Replay re-signed</button>"#.to_owned()
    } else {
        String::new()
    };
    format!(
        r#"<nav class="crumbs"><a href="{PATH}/deliveries">Deliveries</a> / <span class="id">{id}</span></nav>
<section class="card" id="summary" data-live><div data-key="summary">
<div class="title"><h1>{provider} <span class="mute">{method} {target}</span></h1>
<form method="post" action="{PATH}/deliveries/{id_url}/replay" class="actions">
<button type="submit" name="mode" value="original" title="The bytes and headers as received">Replay original</button>
{resign_note}</form></div>
<dl class="facts">{facts}</dl></div></section>
<section class="card"><h2>Processing</h2>
<div class="table-wrap"><table class="list compact"><thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Queue</th><th scope="col">Receive</th><th scope="col">Took</th><th scope="col">Message</th><th scope="col">Detail</th></tr></thead>
<tbody id="timeline" data-live>{timeline}</tbody></table></div></section>
<section class="card"><h2>Request</h2>
<h3>Headers <small class="mute">signatures masked</small></h3>{headers}
<h3>Body</h3>{body}</section>
<section class="card"><h2>Envelope as queued</h2>{envelope}</section>
<section class="card"><h2>Answer</h2>
<p>{status}</p>{response_headers}{response_body}</section>"#,
        id = esc(&s.id),
        id_url = url_value(&s.id),
        provider = s
            .provider
            .as_deref()
            .map_or_else(|| "No route".to_owned(), esc),
        method = esc(&d.method),
        target = esc(&d.target),
        facts = facts.join(""),
        headers = headers_table(&mask_headers(&d.headers, &masked)),
        body = body_views(&d.body, content_type, "body"),
        status = status_pill(s.status),
        response_headers = headers_table(&d.response_headers),
        response_body = body_views(&d.response_body, response_type, "answer"),
    )
}
