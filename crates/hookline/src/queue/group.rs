//! FIFO message groups: which deliveries SQS keeps in order relative to each other.
//!
//! A FIFO queue delivers the messages of one group in order, one batch at a time, and different
//! groups independently (SQS developer guide, "Using the Amazon SQS message group ID"). One
//! group per provider orders everything and processes one batch at a time; a group per
//! customer, repository or shop orders what needs it and lets the rest run side by side.

use std::fmt;
use std::str::FromStr;

use http::HeaderMap;
use sha2::Digest as _;

/// Where a FIFO provider's message group id comes from (`[providers.queue] group_by`,
/// `HOOKLINE_GROUP_BY`), spelled `provider`, a header name, or a JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum GroupBy {
    /// One group for the whole provider: every delivery in order (the default).
    #[default]
    Provider,
    /// The value of a request header (its name, lowercase).
    Header(String),
    /// The value at a JSON pointer (RFC 6901) into a JSON body, e.g. `/data/object/customer`.
    Pointer(String),
}

/// The spelling of [`GroupBy::Provider`].
pub const GROUP_BY_PROVIDER: &str = "provider";

/// Why a `group_by` value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupByError {
    /// Neither `provider`, a header name nor a JSON pointer.
    #[error(
        "`{0}` is not `provider`, a header name (letters, digits and !#$%&'*+-.^_`|~) or a JSON pointer (/data/object/customer)"
    )]
    Unknown(String),
    /// A JSON pointer with a `~` that is not `~0` or `~1` (RFC 6901, section 3).
    #[error(
        "`{0}` is not a JSON pointer: `~` must be followed by 0 (for ~) or 1 (for /), as RFC 6901 escapes them"
    )]
    Pointer(String),
}

impl FromStr for GroupBy {
    type Err = GroupByError;

    fn from_str(text: &str) -> Result<GroupBy, GroupByError> {
        if text == GROUP_BY_PROVIDER {
            Ok(GroupBy::Provider)
        } else if text.starts_with('/') {
            if is_json_pointer(text) {
                Ok(GroupBy::Pointer(text.to_owned()))
            } else {
                Err(GroupByError::Pointer(text.to_owned()))
            }
        } else if is_header_name(text) {
            Ok(GroupBy::Header(text.to_ascii_lowercase()))
        } else {
            Err(GroupByError::Unknown(text.to_owned()))
        }
    }
}

impl fmt::Display for GroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupBy::Provider => f.write_str(GROUP_BY_PROVIDER),
            GroupBy::Header(name) => f.write_str(name),
            GroupBy::Pointer(pointer) => f.write_str(pointer),
        }
    }
}

impl GroupBy {
    /// The message group id of a delivery of `provider`. A header or pointer that is missing,
    /// empty or `null` falls back to the provider's name, the one group of `provider`: such
    /// deliveries stay in order among themselves, as they would without `group_by`, and the
    /// delivery is never refused for it. A value SQS does not take as a group id (over 128
    /// characters, or other than ASCII letters, digits and punctuation) becomes its SHA-256 in
    /// hex, so the same value always lands in the same group.
    pub fn group_id(&self, provider: &str, headers: &HeaderMap, body: &[u8]) -> String {
        let value = match self {
            GroupBy::Provider => None,
            GroupBy::Header(name) => headers.get(name.as_str()).map(|v| v.as_bytes().to_vec()),
            GroupBy::Pointer(pointer) => serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|json| json.pointer(pointer).and_then(json_text)),
        };
        match value {
            Some(value) if !value.is_empty() => sqs_group_id(&value),
            _ => provider.to_owned(),
        }
    }
}

/// A JSON value as group text: a string's contents, other scalars and structures as JSON;
/// `null` is no value.
fn json_text(value: &serde_json::Value) -> Option<Vec<u8>> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone().into_bytes()),
        other => Some(other.to_string().into_bytes()),
    }
}

/// The value itself when SQS accepts it as a `MessageGroupId` (SQS developer guide, "Amazon SQS
/// message quotas": 128 characters at most, "alphanumeric characters and punctuation
/// (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~)"), else its SHA-256 in hex (64 characters).
pub fn sqs_group_id(value: &[u8]) -> String {
    let valid = (1..=128).contains(&value.len()) && value.iter().all(u8::is_ascii_graphic);
    match std::str::from_utf8(value) {
        Ok(text) if valid => text.to_owned(),
        _ => hex::encode(sha2::Sha256::digest(value)),
    }
}

/// RFC 6901: `/`-separated reference tokens in which `~` appears only as `~0` or `~1`.
fn is_json_pointer(text: &str) -> bool {
    text.starts_with('/') && {
        let mut chars = text.chars();
        let mut ok = true;
        while let Some(c) = chars.next() {
            if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                ok = false;
                break;
            }
        }
        ok
    }
}

/// An HTTP header name: one or more RFC 9110 token characters.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_bytes(value).unwrap());
        }
        map
    }

    #[test]
    fn the_three_spellings_parse_and_print_back() {
        for (text, parsed) in [
            ("provider", GroupBy::Provider),
            (
                "X-Shopify-Shop-Domain",
                GroupBy::Header("x-shopify-shop-domain".into()),
            ),
            (
                "/data/object/customer",
                GroupBy::Pointer("/data/object/customer".into()),
            ),
            ("/a~1b/~0c", GroupBy::Pointer("/a~1b/~0c".into())),
        ] {
            assert_eq!(text.parse::<GroupBy>(), Ok(parsed.clone()), "{text}");
            assert_eq!(parsed.to_string().parse::<GroupBy>(), Ok(parsed));
        }
    }

    #[test]
    fn other_spellings_are_refused_with_what_is_allowed() {
        assert_eq!(
            "/data/~2x".parse::<GroupBy>(),
            Err(GroupByError::Pointer("/data/~2x".into()))
        );
        assert!("/trailing~".parse::<GroupBy>().is_err());
        for bad in ["", "data/object", "two words", "x:y"] {
            assert_eq!(
                bad.parse::<GroupBy>(),
                Err(GroupByError::Unknown(bad.into())),
                "{bad}"
            );
        }
        let message = GroupByError::Unknown("a b".into()).to_string();
        assert!(message.contains("JSON pointer"), "{message}");
    }

    #[test]
    fn a_pointer_takes_the_value_in_the_body() {
        let by = GroupBy::Pointer("/data/object/customer".into());
        let body = br#"{"data":{"object":{"customer":"cus_123","amount":5}}}"#;
        assert_eq!(by.group_id("stripe", &HeaderMap::new(), body), "cus_123");
        let amount = GroupBy::Pointer("/data/object/amount".into());
        assert_eq!(amount.group_id("stripe", &HeaderMap::new(), body), "5");
        let object = GroupBy::Pointer("/data".into());
        assert_eq!(
            object.group_id("stripe", &HeaderMap::new(), br#"{"data":{"a":1}}"#),
            r#"{"a":1}"#
        );
    }

    #[test]
    fn a_missing_empty_or_null_value_falls_back_to_the_provider() {
        let by = GroupBy::Pointer("/data/object/customer".into());
        for body in [
            &br#"{"data":{"object":{}}}"#[..],
            br#"{"data":{"object":{"customer":null}}}"#,
            br#"{"data":{"object":{"customer":""}}}"#,
            b"token=abc&text=hi",
            b"",
        ] {
            assert_eq!(by.group_id("stripe", &HeaderMap::new(), body), "stripe");
        }
        let header = GroupBy::Header("x-shop".into());
        assert_eq!(
            header.group_id("shopify", &HeaderMap::new(), b"{}"),
            "shopify"
        );
        assert_eq!(
            header.group_id("shopify", &headers(&[("x-shop", b"")]), b"{}"),
            "shopify"
        );
        assert_eq!(
            header.group_id(
                "shopify",
                &headers(&[("x-shop", b"a.myshopify.com")]),
                b"{}"
            ),
            "a.myshopify.com"
        );
        assert_eq!(
            GroupBy::Provider.group_id("shopify", &headers(&[("x-shop", b"a")]), b"{}"),
            "shopify"
        );
    }

    /// SQS developer guide, "Amazon SQS message quotas": a MessageGroupId has at most 128
    /// characters, alphanumerics and punctuation.
    #[test]
    fn values_sqs_refuses_as_group_ids_are_hashed() {
        assert_eq!(
            sqs_group_id(b"cus_123!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\""),
            "cus_123!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\""
        );
        let long = "x".repeat(129);
        for odd in [
            long.as_bytes(),
            b"two words",
            "caf\u{e9}".as_bytes(),
            b"tab\there",
            &[0xff, 0xfe],
        ] {
            let id = sqs_group_id(odd);
            assert_eq!(id.len(), 64, "{odd:?}");
            assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
            assert_eq!(id, sqs_group_id(odd), "the same value, the same group");
        }
        assert_eq!(sqs_group_id("x".repeat(128).as_bytes()), "x".repeat(128));
        assert_ne!(sqs_group_id(b"two words"), sqs_group_id(b"two  words"));
        let header = GroupBy::Header("x-shop".into());
        assert_eq!(
            header
                .group_id("p", &headers(&[("x-shop", &[0xff])]), b"")
                .len(),
            64
        );
    }
}
