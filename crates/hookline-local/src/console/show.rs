//! How values are shown: signature headers masked, JSON indented as it was written (key order
//! and number forms kept), times and ages.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use super::html::esc;

/// What a masked value shows.
pub const MASKED: &str = "•••• masked";

/// `headers` with the values of `signature_headers` masked (names compared without case).
pub fn mask_headers(
    headers: &[(String, String)],
    signature_headers: &[&str],
) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            if signature_headers
                .iter()
                .any(|s| s.eq_ignore_ascii_case(name))
            {
                (
                    name.clone(),
                    format!("{MASKED} ({} characters)", value.len()),
                )
            } else {
                (name.clone(), value.clone())
            }
        })
        .collect()
}

/// An envelope's JSON with the signature headers it copied masked, indented; the text itself
/// when it is not JSON.
pub fn masked_envelope(envelope: &str, signature_headers: &[&str]) -> Value {
    let Ok(mut value) = serde_json::from_str::<Value>(envelope) else {
        return Value::String(envelope.to_owned());
    };
    if let Some(headers) = value.get_mut("headers").and_then(Value::as_object_mut) {
        for (name, v) in headers.iter_mut() {
            if signature_headers
                .iter()
                .any(|s| s.eq_ignore_ascii_case(name))
            {
                let length = v.as_str().map_or(0, str::len);
                *v = Value::String(format!("{MASKED} ({length} characters)"));
            }
        }
    }
    value
}

/// JSON text indented by two spaces, as HTML with its keys, strings and other values marked
/// (`k`, `s`, `n` classes): the text's own order, numbers and escapes kept. `None` when the
/// text is not JSON.
pub fn json_html(text: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde::de::IgnoredAny>(text).ok()?;
    let text = std::str::from_utf8(text).ok()?;
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut string = String::from('"');
                let mut escaped = false;
                for c in chars.by_ref() {
                    string.push(c);
                    match (escaped, c) {
                        (true, _) => escaped = false,
                        (false, '\\') => escaped = true,
                        (false, '"') => break,
                        _ => {}
                    }
                }
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                let class = if chars.peek() == Some(&':') { "k" } else { "s" };
                out.push_str(&format!("<span class=\"{class}\">{}</span>", esc(&string)));
            }
            '{' | '[' => {
                out.push(c);
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    continue;
                }
                depth += 1;
                newline(&mut out, depth);
            }
            '}' | ']' => {
                if !(out.ends_with('{') || out.ends_with('[')) {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, depth);
                }
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            _ => {
                let mut literal = String::from(c);
                while chars
                    .peek()
                    .is_some_and(|c| !matches!(c, ',' | '}' | ']') && !c.is_whitespace())
                {
                    literal.extend(chars.next());
                }
                out.push_str(&format!("<span class=\"n\">{}</span>", esc(&literal)));
            }
        }
    }
    Some(out)
}

/// A form body's fields, decoded, when `content_type` is a form post.
pub fn form_fields(body: &[u8], content_type: Option<&str>) -> Option<Vec<(String, String)>> {
    let essence = content_type?.split(';').next()?.trim().to_ascii_lowercase();
    (essence == "application/x-www-form-urlencoded")
        .then(|| form_urlencoded::parse(body).into_owned().collect())
}

/// A time as RFC 3339 with milliseconds (UTC).
pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// A time of day, `14:03:07.123` (UTC; the page's script shows local time).
pub fn clock(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%H:%M:%S%.3f").to_string())
        .unwrap_or_default()
}

/// A duration in words: `850 ms`, `12 s`, `3 min 4 s`, `2 h 5 min`, `3 d 4 h`.
pub fn age(ms: i64) -> String {
    let ms = ms.max(0);
    let s = ms / 1000;
    match s {
        _ if ms < 1000 => format!("{ms} ms"),
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        3600..86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_indented_in_its_own_order_with_its_own_numbers() {
        let html = json_html(br#"{"z":1.0E2,"a":[1, {"b":"x\"y"}],"e":{},"l":[]}"#);
        let html = html.unwrap_or_default();
        let text = html
            .replace("<span class=\"k\">", "")
            .replace("<span class=\"s\">", "")
            .replace("<span class=\"n\">", "")
            .replace("</span>", "")
            .replace("&quot;", "\"");
        assert_eq!(
            text,
            "{\n  \"z\": 1.0E2,\n  \"a\": [\n    1,\n    {\n      \"b\": \"x\\\"y\"\n    }\n  ],\n  \"e\": {},\n  \"l\": []\n}"
        );
        assert!(
            html.contains(r#"<span class="k">&quot;z&quot;</span>"#),
            "{html}"
        );
        assert!(json_html(b"not json").is_none());
        assert!(json_html(b"<script>").is_none());
        let escaped = json_html(br#"{"a":"<b>"}"#).unwrap_or_default();
        assert!(escaped.contains("&lt;b&gt;"), "{escaped}");
    }

    #[test]
    fn signature_headers_are_masked_wherever_they_are() {
        let headers = vec![
            ("Stripe-Signature".to_owned(), "t=1,v1=abc".to_owned()),
            ("content-type".to_owned(), "application/json".to_owned()),
        ];
        let masked = mask_headers(&headers, &["stripe-signature"]);
        assert_eq!(masked[0].1, format!("{MASKED} (10 characters)"));
        assert_eq!(masked[1], headers[1]);
        let envelope = masked_envelope(
            r#"{"headers":{"stripe-signature":"t=1,v1=abc","x":"y"},"body":"{}"}"#,
            &["stripe-signature"],
        );
        assert_eq!(envelope["headers"]["x"], "y");
        assert!(!envelope.to_string().contains("v1=abc"));
    }

    #[test]
    fn numbers_get_thousands_separators() {
        use super::super::html::thousands;
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn ages_read_well() {
        assert_eq!(age(850), "850 ms");
        assert_eq!(age(12_000), "12 s");
        assert_eq!(age(184_000), "3 min 4 s");
        assert_eq!(age(7_500_000), "2 h 5 min");
        assert_eq!(age(-5), "0 ms");
    }
}
