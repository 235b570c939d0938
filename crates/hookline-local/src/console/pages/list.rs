//! The deliveries list: filters, the live table, paging.

use std::collections::BTreeMap;

use super::super::html::{esc, processing_pill, status_pill, time, url_value};
use super::super::query::{Filter, Summary};
use super::super::{Console, PATH};

fn select(name: &str, label: &str, options: &[(String, String)], current: Option<&str>) -> String {
    let options: String = options
        .iter()
        .map(|(value, text)| {
            let selected = if Some(value.as_str()) == current {
                " selected"
            } else {
                ""
            };
            format!(
                r#"<option value="{}"{selected}>{}</option>"#,
                esc(value),
                esc(text)
            )
        })
        .collect();
    format!(r#"<label>{label} <select name="{name}">{options}</select></label>"#)
}

fn row(d: &Summary) -> String {
    let link = format!("{PATH}/deliveries/{}", url_value(&d.id));
    let dash = || "<span class=\"mute\">—</span>".to_owned();
    let code = d
        .error_code
        .as_deref()
        .map(|c| format!(r#" <code class="err">{}</code>"#, esc(c)))
        .unwrap_or_default();
    let replay = if d.replay_of.is_some() {
        r#" <span class="tag" title="a replay">replay</span>"#
    } else {
        ""
    };
    format!(
        r#"<tr data-key="{id}"><td><a class="row-link" href="{link}">{time}</a>{replay}</td><td>{provider}</td><td>{status}{code}</td><td>{event}</td><td class="id">{delivery}</td><td>{processing}</td><td class="num">{latency:.1} ms</td><td class="id">{message}</td></tr>"#,
        id = esc(&d.id),
        time = time(d.received_ms),
        provider = d
            .provider
            .as_deref()
            .map_or_else(|| r#"<span class="mute">no route</span>"#.to_owned(), esc),
        status = status_pill(d.status),
        event = d.event_type.as_deref().map_or_else(dash, esc),
        delivery = d.delivery_id.as_deref().map_or_else(dash, esc),
        processing = processing_pill(d.processing),
        latency = d.latency_ms,
        message = d.message_id.as_deref().map_or_else(dash, esc),
    )
}

/// The list page's body.
pub fn render(
    console: &Console,
    query: &BTreeMap<String, String>,
    filter: &Filter,
    rows: &[Summary],
    event_types: &[String],
) -> String {
    let current = |key: &str| query.get(key).map(String::as_str).filter(|v| !v.is_empty());
    let mut providers = vec![(String::new(), "all".to_owned())];
    providers.extend(
        console
            .providers()
            .iter()
            .map(|p| (p.name.clone(), p.name.clone())),
    );
    providers.push(("-".into(), "no route".into()));
    let statuses: Vec<(String, String)> = [
        ("", "any"),
        ("2xx", "2xx accepted"),
        ("4xx", "4xx refused"),
        ("5xx", "5xx failed"),
    ]
    .iter()
    .map(|(v, t)| ((*v).to_owned(), (*t).to_owned()))
    .collect();
    let types: String = event_types
        .iter()
        .map(|t| format!(r#"<option value="{}">"#, esc(t)))
        .collect();
    let filters = format!(
        r#"<form class="filters" method="get" action="{PATH}/deliveries" role="search">
{provider}{status}
<label>Event type <input name="event" list="event-types" value="{event}" placeholder="invoice.paid" autocomplete="off"></label>
<datalist id="event-types">{types}</datalist>
<label class="grow">Search <input type="search" id="search" name="q" value="{q}" placeholder="delivery id or message id" autocomplete="off"></label>
<button type="submit">Filter</button> <a class="button quiet" href="{PATH}/deliveries">Clear</a>
</form>"#,
        provider = select("provider", "Provider", &providers, current("provider")),
        status = select("status", "Status", &statuses, current("status")),
        event = esc(current("event").unwrap_or_default()),
        q = esc(current("q").unwrap_or_default()),
    );
    // Only the first page is live: older pages stay as they are.
    let live = if filter.before.is_none() {
        " data-live"
    } else {
        ""
    };
    let mut body: String = rows.iter().map(row).collect();
    if rows.is_empty() {
        let hint = if query.keys().any(|k| k != "notice") {
            "No delivery matches these filters."
        } else {
            "Nothing yet. Send a signed sample from the <a href=\"/_hookline/send\">Send</a> page or with <code>cargo xtask send &lt;provider&gt;</code>."
        };
        body = format!(r#"<tr data-key="empty"><td colspan="8" class="empty">{hint}</td></tr>"#);
    }
    let older = match rows.last() {
        Some(last) if rows.len() as u32 == filter.limit => {
            let mut params: Vec<String> = query
                .iter()
                .filter(|(k, v)| !v.is_empty() && *k != "before" && *k != "notice")
                .map(|(k, v)| format!("{}={}", url_value(k), url_value(v)))
                .collect();
            params.push(format!("before={}", last.seq));
            format!(
                r#"<nav class="pager"><a href="{PATH}/deliveries?{}">Older deliveries →</a></nav>"#,
                params.join("&amp;")
            )
        }
        _ => String::new(),
    };
    let newest = if filter.before.is_some() {
        format!(r#"<nav class="pager"><a href="{PATH}/deliveries">← Newest</a></nav>"#)
    } else {
        String::new()
    };
    format!(
        r#"<div class="head"><h1>Deliveries</h1><p class="sub">Every request the gateway received, newest first{live_note}.</p></div>
{filters}
{newest}
<div class="table-wrap"><table class="list">
<thead><tr><th scope="col">Received</th><th scope="col">Provider</th><th scope="col">Answer</th><th scope="col">Event type</th><th scope="col">Delivery id</th><th scope="col">Processing</th><th scope="col">Latency</th><th scope="col">Message id</th></tr></thead>
<tbody id="rows"{live}>{body}</tbody>
</table></div>
{older}"#,
        live_note = if live.is_empty() {
            ""
        } else {
            "; new ones appear as they arrive"
        },
    )
}
