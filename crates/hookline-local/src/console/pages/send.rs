//! The send page: a form per provider, its template's samples (the same as `cargo xtask
//! send`), signed with the local secret.

use super::super::html::esc;
use super::super::{Console, ConsoleProvider, PATH};

fn form(console: &Console, p: &ConsoleProvider) -> String {
    let url = console
        .ingress
        .get()
        .map(|(_, addr)| format!("http://{addr}{}", p.route))
        .unwrap_or_else(|| p.route.clone());
    let samples = match &p.samples {
        Ok(samples) if !samples.is_empty() => {
            let options: String = samples
                .iter()
                .map(|s| format!(r#"<option value="{0}">{0}</option>"#, esc(&s.event_type)))
                .collect();
            format!(r#"<label>Sample event <select name="event">{options}</select></label>"#)
        }
        Ok(_) => r#"<p class="mute">No samples in its fixtures/events.toml: send a body of your own.</p>"#.to_owned(),
        Err(why) => format!(
            r#"<p class="mute">No samples ({}): send a body of your own.</p>"#,
            esc(why)
        ),
    };
    let id = esc(&p.name);
    format!(
        r#"<section class="card send">
<div class="title"><h2>{id} <small class="mute">{scheme}</small></h2><code class="url">POST {url}</code></div>
<form method="post" action="{PATH}/send">
<input type="hidden" name="provider" value="{id}">
{samples}
<label for="body-{id}">Body <small class="mute">(empty: the sample's own)</small></label>
<textarea id="body-{id}" name="body" rows="5" spellcheck="false" placeholder='{{"id": "evt_local", "type": "..."}}'></textarea>
<div class="actions"><button type="submit">Send signed</button></div>
</form></section>"#,
        scheme = esc(p.scheme.name()),
        url = esc(&url),
    )
}

/// The page's body.
pub fn render(console: &Console) -> String {
    let forms: String = console
        .providers()
        .iter()
        .map(|p| form(console, p))
        .collect();
    format!(
        r#"<div class="head"><h1>Send</h1><p class="sub">A provider's sample events, signed now with its local secret as <code>cargo xtask send</code> signs them, posted to its webhook route.</p></div>
<div class="send-grid">{forms}</div>"#
    )
}
