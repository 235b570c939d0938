//! The message written to the queue: versioned JSON around the raw body, byte for byte.
//!
//! A naive ingestor parses the provider's JSON and writes it back out, which reorders keys and
//! rewrites numbers and escapes: the bytes a processor needs to re-verify a signature or archive
//! the delivery are gone. The envelope keeps the body exactly as received, as a JSON string when
//! it is UTF-8 and as base64 otherwise.

use std::borrow::Cow;
use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use http::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::claim_check::BodyRef;

/// The newest envelope format version this library writes and reads. Version 2 added
/// `dedup_id`; version 3 added `body_ref`, a body kept in the body bucket
/// ([`crate::claim_check`]). An envelope is written with the lowest version that can hold it
/// (3 only for a body in the bucket), so that a rollback to a version-2 reader strands only
/// those; versions 1 and 2 are still read.
pub const ENVELOPE_VERSION: u32 = 3;

/// The version of an envelope whose body is in the message.
const INLINE_VERSION: u32 = 2;

/// Request headers never copied into an envelope: credentials of the caller, not of the provider.
const DROPPED_HEADERS: [&str; 3] = ["authorization", "proxy-authorization", "cookie"];

/// A verified delivery as it travels through the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Assigned at ingest (UUIDv7, so ids sort by arrival).
    pub id: String,
    /// The provider's name from the manifest (e.g. `stripe`).
    pub provider: String,
    /// The provider's event type, when the scheme knows where it lives.
    pub event_type: Option<String>,
    /// The provider's delivery id, wherever the provider puts it (signed or not).
    pub delivery_id: Option<String>,
    /// What to deduplicate on: the same on retries and taken only from signed bytes
    /// (`describe::Description::dedup_id`). `None` only in envelopes of version 1.
    pub dedup_id: Option<String>,
    /// When ingest received the request.
    pub received_at: DateTime<Utc>,
    /// The request's `Content-Type`, if any.
    pub content_type: Option<String>,
    /// Request headers (lowercase names), minus caller credentials such as `authorization`.
    pub headers: BTreeMap<String, String>,
    /// The raw request body, byte for byte. Empty while the body is in the body bucket and not
    /// fetched yet (`body_ref`).
    pub body: Vec<u8>,
    /// Where the body is kept when it is too large for the queue message; the message then
    /// carries this instead of the body.
    pub body_ref: Option<BodyRef>,
}

/// Why a queue message is not a readable envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Not JSON of the envelope's shape.
    #[error("the message is not a hookline envelope: {0}")]
    Malformed(String),
    /// Written by a newer hookline.
    #[error("envelope version {0} is not supported (this build reads version {ENVELOPE_VERSION})")]
    UnsupportedVersion(u32),
    /// `body_encoding` is `base64` but the body is not.
    #[error("the envelope body is marked base64 but does not decode")]
    BadBase64,
    /// `body_encoding` is `s3` without a `body_ref`, or a `body_ref` comes with another
    /// encoding or an older version.
    #[error("the envelope's body_ref and body_encoding do not agree")]
    BadBodyRef,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum BodyEncoding {
    Utf8,
    Base64,
    /// In the body bucket, at `body_ref`; `body` is empty.
    S3,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire<'a> {
    version: u32,
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    provider: Cow<'a, str>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    event_type: Option<Cow<'a, str>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    delivery_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    dedup_id: Option<Cow<'a, str>>,
    received_at: DateTime<Utc>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    content_type: Option<Cow<'a, str>>,
    #[serde(default)]
    headers: Cow<'a, BTreeMap<String, String>>,
    body_encoding: BodyEncoding,
    #[serde(borrow)]
    body: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body_ref: Option<Cow<'a, BodyRef>>,
}

impl Envelope {
    /// An envelope around `body` received now, with a fresh id and no metadata: for tests and
    /// tools. Ingest fills in every field from the request.
    pub fn new(provider: impl Into<String>, body: impl Into<Vec<u8>>) -> Envelope {
        Envelope {
            id: uuid::Uuid::now_v7().to_string(),
            provider: provider.into(),
            event_type: None,
            delivery_id: None,
            dedup_id: None,
            received_at: Utc::now(),
            content_type: None,
            headers: BTreeMap::new(),
            body: body.into(),
            body_ref: None,
        }
    }

    /// Sets the event type.
    pub fn with_event_type(mut self, event_type: impl Into<String>) -> Envelope {
        self.event_type = Some(event_type.into());
        self
    }

    /// Sets the provider's delivery id.
    pub fn with_delivery_id(mut self, delivery_id: impl Into<String>) -> Envelope {
        self.delivery_id = Some(delivery_id.into());
        self
    }

    /// Sets the deduplication id.
    pub fn with_dedup_id(mut self, dedup_id: impl Into<String>) -> Envelope {
        self.dedup_id = Some(dedup_id.into());
        self
    }

    /// Adds a header (the name is lowercased); `content-type` also sets `content_type`.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Envelope {
        let name = name.to_ascii_lowercase();
        let value = value.into();
        if name == "content-type" {
            self.content_type = Some(value.clone());
        }
        self.headers.insert(name, value);
        self
    }

    /// The JSON written to the queue: with the body, or, when `body_ref` is set, with the
    /// reference instead.
    pub fn to_json(&self) -> String {
        let (version, body_encoding, body) = match (&self.body_ref, std::str::from_utf8(&self.body))
        {
            (Some(_), _) => (ENVELOPE_VERSION, BodyEncoding::S3, Cow::Borrowed("")),
            (None, Ok(text)) => (INLINE_VERSION, BodyEncoding::Utf8, Cow::Borrowed(text)),
            (None, Err(_)) => (
                INLINE_VERSION,
                BodyEncoding::Base64,
                Cow::Owned(base64::engine::general_purpose::STANDARD.encode(&self.body)),
            ),
        };
        let wire = Wire {
            version,
            id: Cow::Borrowed(&self.id),
            provider: Cow::Borrowed(&self.provider),
            event_type: self.event_type.as_deref().map(Cow::Borrowed),
            delivery_id: self.delivery_id.as_deref().map(Cow::Borrowed),
            dedup_id: self.dedup_id.as_deref().map(Cow::Borrowed),
            received_at: self.received_at,
            content_type: self.content_type.as_deref().map(Cow::Borrowed),
            headers: Cow::Borrowed(&self.headers),
            body_encoding,
            body,
            body_ref: self.body_ref.as_ref().map(Cow::Borrowed),
        };
        // Sized once for the body (escapes grow it a little) and the rest, rather than grown by
        // doubling from empty, each step copying what was written so far.
        let headers: usize = self
            .headers
            .iter()
            .map(|(k, v)| k.len() + v.len() + 6)
            .sum();
        let mut json = Vec::with_capacity(wire.body.len() + wire.body.len() / 8 + headers + 512);
        // Serialising strings, maps and a timestamp cannot fail; serde_json writes UTF-8.
        let json = match serde_json::to_writer(&mut json, &wire) {
            Ok(()) => String::from_utf8(json).unwrap_or_default(),
            Err(_) => String::new(),
        };
        // SQS refuses messages holding U+FFFE or U+FFFF, which are valid UTF-8 (in a body or a
        // header) and which serde_json writes as they are. They can only be inside strings here:
        // escaped, the JSON means the same and the body still round-trips byte for byte.
        // Two substring searches (SIMD) rather than one char-by-char scan for either character.
        if json.contains('\u{FFFE}') || json.contains('\u{FFFF}') {
            json.replace('\u{FFFE}', "\\ufffe")
                .replace('\u{FFFF}', "\\uffff")
        } else {
            json
        }
    }

    /// Reads an envelope from queue JSON.
    pub fn from_json(json: &str) -> Result<Envelope, EnvelopeError> {
        // Read the version first so that a newer envelope gets the precise error.
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let version: Version =
            serde_json::from_str(json).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        if !(1..=ENVELOPE_VERSION).contains(&version.version) {
            return Err(EnvelopeError::UnsupportedVersion(version.version));
        }
        let wire: Wire<'_> =
            serde_json::from_str(json).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        let body_ref = wire.body_ref.map(Cow::into_owned);
        let body = match (wire.body_encoding, &body_ref) {
            (BodyEncoding::Utf8, None) => wire.body.into_owned().into_bytes(),
            (BodyEncoding::Base64, None) => base64::engine::general_purpose::STANDARD
                .decode(wire.body.as_bytes())
                .map_err(|_| EnvelopeError::BadBase64)?,
            (BodyEncoding::S3, Some(_)) if wire.version >= 3 && wire.body.is_empty() => Vec::new(),
            _ => return Err(EnvelopeError::BadBodyRef),
        };
        Ok(Envelope {
            id: wire.id.into_owned(),
            provider: wire.provider.into_owned(),
            event_type: wire.event_type.map(Cow::into_owned),
            delivery_id: wire.delivery_id.map(Cow::into_owned),
            dedup_id: wire.dedup_id.map(Cow::into_owned),
            received_at: wire.received_at,
            content_type: wire.content_type.map(Cow::into_owned),
            headers: wire.headers.into_owned(),
            body,
            body_ref,
        })
    }

    /// Whether the body is still to be fetched from the body bucket.
    pub fn body_pending(&self) -> bool {
        self.body_ref.is_some() && self.body.is_empty()
    }

    /// The body's size: its length, or the stored body's when it is in the body bucket.
    pub fn body_size(&self) -> u64 {
        match &self.body_ref {
            Some(body_ref) => body_ref.size,
            None => self.body.len() as u64,
        }
    }

    /// What to deduplicate on: `dedup_id`, or, in a version 1 envelope, the delivery id (else the
    /// envelope's own id).
    pub fn dedup_key(&self) -> &str {
        self.dedup_id
            .as_deref()
            .or(self.delivery_id.as_deref())
            .unwrap_or(&self.id)
    }

    /// The body as text, when it is UTF-8.
    pub fn body_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }

    /// Parses the body as JSON into `T`.
    pub fn json<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The body as `application/x-www-form-urlencoded` fields, decoded, in order (Slack slash
    /// commands and interactivity, Twilio, ...).
    pub fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }

    /// A header by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// `received_at` as RFC 3339 with milliseconds, as written in the JSON.
    pub fn received_at_rfc3339(&self) -> String {
        self.received_at
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

/// Copies request headers for an envelope: lowercase names, repeated values joined with `,` (as
/// API Gateway does), caller credentials dropped.
pub fn envelope_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        if DROPPED_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes());
        out.entry(name.as_str().to_owned())
            .and_modify(|existing| {
                existing.push(',');
                existing.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    out
}

#[cfg(test)]
mod tests;
