//! Each delivery `cargo xtask send` and the console's Send post is a new event. Processors deduplicate on a delivery's dedup id
//! (idempotency is on by default), so the same sample sent twice, or sent again after a change
//! to the handler, would reach the handler once: the second is a duplicate, as a provider's
//! retry is. Providers make a new event each time (Stripe's CLI `stripe trigger` does too), and
//! so do they:
//!
//! - where the scheme takes the dedup id from the body (Stripe's and Slack's event ids,
//!   Paddle's, Square's, ...), that id is replaced by a new one of the same shape;
//! - else, where the dedup id is the body's digest (GitHub, Shopify, Twilio, Zoom, Linear), the
//!   body changes: `--size`'s padding gets the new id in place of some of its filler (the size
//!   stays), or a JSON object gets a `hookline_send_id` field, a form a parameter;
//! - schemes that sign a delivery id header (Standard Webhooks, Twitch) get a new one from the
//!   signer anyway.
//!
//! Which case applies is found by describing the signed sample as ingest would
//! ([`hookline::describe::describe`]), so no scheme is listed here.

use http::{HeaderMap, HeaderName, HeaderValue};

/// The field (JSON) or parameter (form) `cargo xtask send --size` pads a body with.
pub const PADDING: &str = "hookline_padding";

/// The field or parameter a new id goes into when the body has no id of its own.
pub const SEND_ID: &str = "hookline_send_id";

/// The dedup id ingest would give `body` posted to `url` with `headers`, if the scheme
/// describes it (it may not: a body that is no event of the scheme).
pub fn dedup_id(
    scheme: &hookline::Scheme,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Option<String> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).ok()?;
        map.append(name, HeaderValue::from_str(value).ok()?);
    }
    let request = hookline::verify::Request {
        method: "POST",
        url,
        headers: &map,
        body,
    };
    hookline::describe::describe(scheme, &request)
        .ok()
        .map(|d| d.dedup_id)
}

/// `body` as a new event: `dedup_id` (the sample's) replaced where the body holds it as a JSON
/// string, else `nonce` written into the padding's filler, a new JSON field or form parameter.
/// `None` when the body is none of these (it is sent as it is).
pub fn fresh_body(
    body: &[u8],
    content_type: &str,
    dedup_id: Option<&str>,
    nonce: &str,
) -> Option<Vec<u8>> {
    if let Some(id) = dedup_id.filter(|id| !id.is_empty()) {
        let quoted = format!("\"{id}\"");
        if contains(body, quoted.as_bytes()) {
            let new = format!("\"{}\"", same_shape(id, nonce));
            return Some(replace_all(body, quoted.as_bytes(), new.as_bytes()));
        }
    }
    // `--size`'s filler: the new id over its first characters keeps the size.
    let filler = format!("{PADDING}\":\"");
    let form_filler = format!("{PADDING}=");
    for marker in [filler, form_filler] {
        if let Some(at) = find(body, marker.as_bytes()) {
            let start = at + marker.len();
            let run = body[start..].iter().take_while(|b| **b == b'x').count();
            if run >= nonce.len() {
                let mut out = body.to_vec();
                out[start..start + nonce.len()].copy_from_slice(nonce.as_bytes());
                return Some(out);
            }
        }
    }
    if body.first() == Some(&b'{') {
        let empty = body[1..].trim_ascii_start().first() == Some(&b'}');
        let comma = if empty { "" } else { "," };
        let mut out = format!("{{\"{SEND_ID}\":\"{nonce}\"{comma}").into_bytes();
        out.extend_from_slice(&body[1..]);
        return Some(out);
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let mut out = body.to_vec();
        if !out.is_empty() {
            out.push(b'&');
        }
        out.extend_from_slice(format!("{SEND_ID}={nonce}").as_bytes());
        return Some(out);
    }
    None
}

/// A new id shaped like `id`: its prefix up to the last `_` kept (Stripe's `evt_`), the rest
/// the nonce's letters and digits, as long as the original's (the nonce repeated if shorter).
fn same_shape(id: &str, nonce: &str) -> String {
    let keep = id.rfind('_').map_or(0, |i| i + 1);
    let (prefix, rest) = id.split_at(keep);
    let fill: String = nonce
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .cycle()
        .take(rest.chars().count())
        .collect();
    format!("{prefix}{fill}")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = find(rest, needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_stripe_event_gets_a_new_id_of_the_same_shape() {
        let body = br#"{"id":"evt_1NG8Du2eZvKYlo2C0Zkx1F3Z","object":"event","data":{"object":{"id":"in_1"}}}"#;
        let fresh = fresh_body(
            body,
            "application/json",
            Some("evt_1NG8Du2eZvKYlo2C0Zkx1F3Z"),
            "0123456789abcdef0123456789abcdef",
        )
        .unwrap();
        assert_eq!(fresh.len(), body.len());
        let json: serde_json::Value = serde_json::from_slice(&fresh).unwrap();
        assert_eq!(json["id"], "evt_0123456789abcdef01234567");
        assert_eq!(
            json["data"]["object"]["id"], "in_1",
            "only the event id changes"
        );
    }

    #[test]
    fn a_digest_deduplicated_body_gets_a_field_or_a_parameter() {
        let nonce = "00112233445566778899aabbccddeeff";
        let fresh = fresh_body(
            br#"{"zen":"hi"}"#,
            "application/json",
            Some("sha256:ab"),
            nonce,
        )
        .unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&fresh).unwrap(),
            serde_json::json!({ SEND_ID: nonce, "zen": "hi" })
        );
        let fresh = fresh_body(b"{ }", "application/json", None, nonce).unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&fresh).unwrap(),
            serde_json::json!({ SEND_ID: nonce })
        );
        let fresh =
            fresh_body(b"Body=hi", "application/x-www-form-urlencoded", None, nonce).unwrap();
        assert_eq!(fresh, format!("Body=hi&{SEND_ID}={nonce}").into_bytes());
        assert_eq!(fresh_body(b"plain", "text/plain", None, nonce), None);
    }

    #[test]
    fn a_padded_body_keeps_its_size() {
        let nonce = "00112233445566778899aabbccddeeff";
        let padded = format!(r#"{{"{PADDING}":"{}","zen":"hi"}}"#, "x".repeat(100));
        let fresh = fresh_body(
            padded.as_bytes(),
            "application/json",
            Some("sha256:ab"),
            nonce,
        )
        .unwrap();
        assert_eq!(fresh.len(), padded.len());
        let json: serde_json::Value = serde_json::from_slice(&fresh).unwrap();
        assert!(json[PADDING].as_str().unwrap().starts_with(nonce));
    }
}
