//! The queues page: per provider, its queue and dead-letter queue, and the dead letters with
//! redrive and delete.

use super::super::PATH;
use super::super::html::{esc, time, url_value};
use super::super::queues::{DeadLetter, LISTED, ProviderQueues, QueueView};
use super::super::show::age;

fn stats(label: &str, queue: &QueueView, dlq: bool) -> String {
    let stat = |name: &str, value: u64, alert: bool| {
        let class = if alert && value > 0 { " alert" } else { "" };
        format!(
            r#"<div class="stat{class}"><span class="value">{value}</span><span class="label">{name}</span></div>"#
        )
    };
    let oldest = queue.oldest_age_ms.map_or_else(|| "—".to_owned(), age);
    format!(
        r#"<div class="queue-stats"><h3>{label} <code>{name}</code></h3><div class="stats">{visible}{in_flight}{delayed}<div class="stat"><span class="value">{oldest}</span><span class="label">oldest</span></div></div></div>"#,
        name = esc(&queue.name),
        visible = stat(
            if dlq { "dead letters" } else { "visible" },
            queue.visible,
            dlq
        ),
        in_flight = stat("in flight", queue.in_flight, false),
        delayed = stat("delayed", queue.delayed, false),
    )
}

fn dead_letter(provider: &str, m: &DeadLetter) -> String {
    let base = format!(
        "{PATH}/queues/{}/dlq/{}",
        url_value(provider),
        url_value(&m.message_id)
    );
    let delivery = m.delivery.as_deref().map_or_else(
        || r#"<span class="mute">—</span>"#.to_owned(),
        |id| format!(r#"<a href="{PATH}/deliveries/{}">open</a>"#, url_value(id)),
    );
    let dash = || r#"<span class="mute">—</span>"#.to_owned();
    format!(
        r#"<tr data-key="{id}"><td class="id">{id}</td><td>{sent}</td><td>{event}</td><td class="id">{delivery_id}</td><td>{delivery}</td><td class="num">{bytes} B</td><td class="row-actions"><form method="post" action="{base}/redrive"><button type="submit">Redrive</button></form><form method="post" action="{base}/delete"><button type="submit" class="danger">Delete</button></form></td></tr>"#,
        id = esc(&m.message_id),
        sent = time(m.sent_ms),
        event = m.event_type.as_deref().map_or_else(dash, esc),
        delivery_id = m.delivery_id.as_deref().map_or_else(dash, esc),
        bytes = m.bytes,
    )
}

fn provider_card(p: &ProviderQueues) -> String {
    let redrive = p
        .redrive
        .as_ref()
        .map(|r| {
            let failure = r
                .failure
                .as_deref()
                .map(|f| format!(r#" <span class="err">{}</span>"#, esc(f)))
                .unwrap_or_default();
            format!(
                r#"<p class="redrive">Last redrive: <strong>{}</strong>, {} of {} moved{failure}</p>"#,
                r.status.to_lowercase(),
                r.moved,
                r.to_move
            )
        })
        .unwrap_or_default();
    let rows: String = if p.dead_letters.is_empty() {
        r#"<tr data-key="none"><td colspan="7" class="empty">The dead-letter queue is empty.</td></tr>"#.to_owned()
    } else {
        p.dead_letters
            .iter()
            .map(|m| dead_letter(&p.provider, m))
            .collect()
    };
    let more = if p.dlq.depth() > LISTED.into() {
        format!(
            r#"<p class="mute">The first {LISTED} of {} are listed.</p>"#,
            p.dlq.depth()
        )
    } else {
        String::new()
    };
    let disabled = if p.dlq.visible == 0 { " disabled" } else { "" };
    format!(
        r#"<section class="card queue" id="queue-{key}" data-live><div data-key="queue-{key}">
<div class="title"><h2>{name}</h2>
<form method="post" action="{PATH}/queues/{name_url}/redrive" class="actions"><button type="submit"{disabled}>Redrive all ({count})</button></form></div>
<div class="queue-grid">{queue}{dlq}</div>{redrive}
<div class="table-wrap"><table class="list compact"><thead><tr><th scope="col">Dead letter</th><th scope="col">First sent</th><th scope="col">Event type</th><th scope="col">Delivery id</th><th scope="col">Delivery</th><th scope="col">Size</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>{rows}</tbody></table></div>{more}</div></section>"#,
        key = esc(&p.provider),
        name = esc(&p.provider),
        name_url = url_value(&p.provider),
        count = p.dlq.visible,
        queue = stats("Queue", &p.queue, false),
        dlq = stats("Dead-letter queue", &p.dlq, true),
    )
}

/// The page's body.
pub fn render(overview: &[ProviderQueues]) -> String {
    let cards: String = overview.iter().map(provider_card).collect();
    format!(
        r#"<div class="head"><h1>Queues</h1><p class="sub">Each provider's queue and dead-letter queue, live. A redrive moves dead letters back to the queue as new messages (SQS's own message move task).</p></div>
{cards}"#
    )
}
