//! The pages' frame and small pieces: escaping, the layout with its navigation, status pills.

use std::sync::atomic::Ordering;

use super::history::Health;
use super::{ConsoleError, PATH};

/// Text made safe for HTML (element content and quoted attributes).
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A query string value.
pub fn url_value(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Which tab a page belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// The deliveries list and a delivery's page.
    Deliveries,
    /// Queues and dead-letter queues.
    Queues,
    /// Send samples.
    Send,
    /// An error page.
    None,
}

/// A whole page: `body` inside the frame, with a notice from the last action.
pub fn page(title: &str, tab: Tab, notice: Option<&str>, body: &str, footer: &str) -> String {
    let link = |target: Tab, href: &str, label: &str| {
        let current = if target == tab {
            r#" aria-current="page""#
        } else {
            ""
        };
        format!(r#"<a href="{PATH}{href}"{current}>{label}</a>"#)
    };
    let notice = notice
        .map(|n| format!(r#"<p class="notice" role="status">{}</p>"#, esc(n)))
        .unwrap_or_default();
    format!(
        r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · hookline</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{PATH}/assets/console.css">
<script src="{PATH}/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<a class="brand" href="{PATH}/"><span class="mark">⚓</span> hookline <small>local console</small></a>
<nav aria-label="Console">{deliveries}{queues}{send}</nav>
<span class="live" id="live" hidden>● live</span>
</header>
<main id="main">
{notice}{body}
</main>
<footer>{footer}</footer>
</body>
</html>
"##,
        title = esc(title),
        deliveries = link(Tab::Deliveries, "/", "Deliveries"),
        queues = link(Tab::Queues, "/queues", "Queues"),
        send = link(Tab::Send, "/send", "Send"),
    )
}

/// The footer: what the history keeps and whether its writer keeps up.
pub fn footer(health: &Health, kept: u64, limit: u64) -> String {
    let mut parts = vec![format!(
        "history: {} of the last {} deliveries, in .hookline/console.db",
        thousands(kept),
        thousands(limit)
    )];
    let dropped = health.dropped.load(Ordering::Relaxed);
    if dropped > 0 {
        parts.push(format!(
            r#"<strong class="warn">{dropped} records dropped: the history writer fell behind</strong>"#
        ));
    }
    let failed = health.failed.load(Ordering::Relaxed);
    if failed > 0 {
        let last = health
            .last_error
            .lock()
            .ok()
            .and_then(|e| e.clone())
            .unwrap_or_default();
        parts.push(format!(
            r#"<strong class="warn">{failed} history writes failed (last: {})</strong>"#,
            esc(&last)
        ));
    }
    parts.push(format!(
        r#"keys: <kbd>/</kbd> search · <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>Enter</kbd> open · JSON at <a href="{PATH}/api/deliveries">{PATH}/api/</a>"#
    ));
    parts.join(" · ")
}

/// `10000` as `10,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A status code as a coloured pill.
pub fn status_pill(status: u16) -> String {
    let class = match status {
        200..=299 => "ok",
        400..=499 => "warn",
        _ => "bad",
    };
    format!(r#"<span class="pill {class}">{status}</span>"#)
}

/// A processing state as a pill.
pub fn processing_pill(processing: super::query::Processing) -> String {
    use super::query::Processing as P;
    let class = match processing {
        P::Processed => "ok",
        P::Queued => "info",
        P::Retrying => "warn",
        P::DeadLettered => "bad",
        P::NotQueued | P::Deleted => "mute",
    };
    format!(
        r#"<span class="pill {class}">{}</span>"#,
        processing.label()
    )
}

/// A `<time>` the script shows in local time.
pub fn time(ms: i64) -> String {
    format!(
        r#"<time datetime="{}">{}</time>"#,
        super::show::rfc3339(ms),
        super::show::clock(ms)
    )
}

/// A page for an error.
pub fn error_page(err: &ConsoleError) -> String {
    let body = format!(
        r#"<section class="card error"><h1>{} {}</h1><p>{}</p><p><a href="{PATH}/">Back to the deliveries</a></p></section>"#,
        err.status().as_u16(),
        esc(err.status().canonical_reason().unwrap_or_default()),
        esc(&err.to_string())
    );
    page("Error", Tab::None, None, &body, "")
}
