//! HubSpot (v3): `X-HubSpot-Signature-v3: <base64 HMAC-SHA256(client secret, method + uri + body
//! + timestamp)>` with `X-HubSpot-Request-Timestamp` (milliseconds), refused when older than
//! 5 minutes (HubSpot's "Validating requests", v3; hubspot-api-client `utils/signature.py`).
//! The URI is the full URL with these escapes decoded first, as HubSpot's table says: `%3A :`,
//! `%2F /`, `%3F ?`, `%40 @`, `%21 !`, `%24 $`, `%27 '`, `%28 (`, `%29 )`, `%2A *`, `%2C ,`,
//! `%3B ;` (and nothing else).
//!
//! The body is a JSON array of events; the first one's `subscriptionType` is the event type.
//! Each event's `eventId` is signed; the dedup id is the digest of the batch's ids, which a
//! retry keeps (its `attemptNumber` changes).

use super::keys::Key;
use super::{Context, Named, Outgoing, Request, SchemeSpec, Signed, VerifyError, headers};
use crate::describe::{Description, MalformedBody, lenient_id, lenient_string};

pub(crate) const SIGNATURE_HEADER: &str = "x-hubspot-signature-v3";
pub(crate) const TIMESTAMP_HEADER: &str = "x-hubspot-request-timestamp";

/// The escapes HubSpot decodes in the URI before signing it.
const DECODED: [(&str, char); 12] = [
    ("%3A", ':'),
    ("%2F", '/'),
    ("%3F", '?'),
    ("%40", '@'),
    ("%21", '!'),
    ("%24", '$'),
    ("%27", '\''),
    ("%28", '('),
    ("%29", ')'),
    ("%2A", '*'),
    ("%2C", ','),
    ("%3B", ';'),
];

/// The HubSpot v3 scheme.
#[derive(Debug, Default)]
pub(crate) struct HubSpot;

impl Named for HubSpot {
    const NAME: &'static str = "hubspot";
}

impl SchemeSpec for HubSpot {
    fn signature_headers(&self) -> Vec<&str> {
        // HubSpot sends its v1/v2 `x-hubspot-signature` beside the v3 one verified here.
        vec![SIGNATURE_HEADER, "x-hubspot-signature"]
    }

    fn signs_url(&self) -> bool {
        true
    }

    fn signs_timestamp(&self) -> bool {
        true
    }

    fn verify(&self, ctx: &Context<'_>, request: &Request<'_>) -> Result<(), VerifyError> {
        let value = headers::single(request.headers, SIGNATURE_HEADER)?;
        let timestamp = headers::single(request.headers, TIMESTAMP_HEADER)?;
        let signature = headers::decode_base64(value, 32, SIGNATURE_HEADER)?;
        let millis = parse_millis(timestamp)?;
        ctx.check_timestamp(millis / 1000)?;
        let uri = decode_uri(request.url);
        ctx.expect_mac(
            &[
                request.method.as_bytes(),
                uri.as_bytes(),
                request.body,
                timestamp.as_bytes(),
            ],
            &[signature],
        )
    }

    fn describe(&self, request: &Request<'_>, _keys: &[Key]) -> Result<Description, MalformedBody> {
        if request.body.trim_ascii_start().first() != Some(&b'[') {
            return Err(MalformedBody::NotJsonObject);
        }
        let events: Vec<HubSpotEvent> =
            serde_json::from_slice(request.body).map_err(|_| MalformedBody::NotJsonObject)?;
        let event_type = events.first().and_then(|e| e.subscription_type.clone());
        let ids = events.into_iter().map(|e| e.event_id).collect();
        Ok(Description::batch(event_type, ids, request.body))
    }

    fn sign(&self, key: &Key, message: &Outgoing<'_>) -> Signed {
        let timestamp = message.timestamp.saturating_mul(1000).to_string();
        let uri = decode_uri(message.url);
        let signature =
            key.mac_base64(&[b"POST", uri.as_bytes(), message.body, timestamp.as_bytes()]);
        Signed::with_headers(
            message,
            vec![(TIMESTAMP_HEADER, timestamp), (SIGNATURE_HEADER, signature)],
        )
    }
}

/// Milliseconds since the epoch: ASCII digits only, at most 15.
fn parse_millis(value: &str) -> Result<i64, VerifyError> {
    let malformed = || VerifyError::MalformedHeader {
        header: TIMESTAMP_HEADER.to_owned(),
        reason: "the timestamp is not a number of milliseconds",
    };
    if value.is_empty() || value.len() > 15 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed());
    }
    value.parse().map_err(|_| malformed())
}

/// The URI with HubSpot's table of escapes decoded (either case of hex digits).
fn decode_uri(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let escape = rest.get(i..i + 3).unwrap_or_default();
        match DECODED
            .iter()
            .find(|(code, _)| code.eq_ignore_ascii_case(escape))
        {
            Some((_, c)) => {
                out.push(*c);
                rest = &rest[i + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[derive(serde::Deserialize)]
struct HubSpotEvent {
    #[serde(
        default,
        rename = "subscriptionType",
        deserialize_with = "lenient_string"
    )]
    subscription_type: Option<String>,
    #[serde(default, rename = "eventId", deserialize_with = "lenient_id")]
    event_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::super::VerifyError;
    use super::super::test_support::*;
    use super::decode_uri;
    use crate::verify::Request;

    // hubspot-api-python tests/spec/utils/test_signature.py (v3, timestamp 15000000 ms).
    const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const URL: &str = "https://www.example.com/webhook_uri";
    const BODY: &[u8] = b"{'example_field':'example_value'}";
    const SIG: &str = "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=";

    fn check(url: &str, sig: &str, ts: &str, body: &[u8], now: i64) -> Result<(), VerifyError> {
        let h = headers(&[
            ("X-HubSpot-Signature-v3", sig),
            ("X-HubSpot-Request-Timestamp", ts),
        ]);
        verifier(scheme("hubspot"), &[SECRET]).verify_request(
            &Request {
                method: "POST",
                url,
                headers: &h,
                body,
            },
            now,
        )
    }

    #[test]
    fn published_vector_verifies_within_five_minutes() {
        assert_eq!(check(URL, SIG, "15000000", BODY, 15_000), Ok(()));
        assert_eq!(check(URL, SIG, "15000000", BODY, 15_300), Ok(()));
        assert!(matches!(
            check(URL, SIG, "15000000", BODY, 15_301),
            Err(VerifyError::TimestampTooOld { .. })
        ));
    }

    #[test]
    fn tampering_and_bad_headers() {
        assert_eq!(
            check(URL, SIG, "15000000", b"{}", 15_000),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            check(&format!("{URL}?x=1"), SIG, "15000000", BODY, 15_000),
            Err(VerifyError::SignatureMismatch)
        );
        // The timestamp is signed.
        assert_eq!(
            check(URL, SIG, "15000001", BODY, 15_000),
            Err(VerifyError::SignatureMismatch)
        );
        for (sig, ts) in [(SIG, "soon"), (SIG, "-1"), ("***", "15000000")] {
            assert_eq!(
                check(URL, sig, ts, BODY, 15_000).map_err(|e| e.code()),
                Err("malformed_signature")
            );
        }
    }

    #[test]
    fn a_retried_batch_keeps_its_dedup_id() {
        let v = verifier(scheme("hubspot"), &[SECRET]);
        let h = headers(&[]);
        let attempt = |n: u32| {
            let body = format!(
                r#"[{{"eventId":100,"subscriptionType":"contact.creation","attemptNumber":{n}}},{{"eventId":"101","subscriptionType":"deal.creation","attemptNumber":{n}}}]"#
            );
            v.describe(&Request::post(&h, body.as_bytes())).unwrap()
        };
        assert_eq!(attempt(0).dedup_id, attempt(1).dedup_id);
        assert_eq!(attempt(0).event_type.as_deref(), Some("contact.creation"));
        assert!(attempt(0).dedup_id.starts_with("events:sha256:"));
        // An event without its id: the body decides.
        let body = br#"[{"subscriptionType":"contact.creation"}]"#;
        let d = v.describe(&Request::post(&h, body)).unwrap();
        assert!(d.dedup_id.starts_with("sha256:"));
        assert!(v.describe(&Request::post(&h, b"{}")).is_err());
    }

    #[test]
    fn only_the_documented_escapes_are_decoded() {
        assert_eq!(
            decode_uri("https://a.example/p%3Aq%2f%3F%40%21%24%27%28%29%2A%2C%3B?x=%20%25&y=%3a"),
            "https://a.example/p:q/?@!$'()*,;?x=%20%25&y=:"
        );
        assert_eq!(decode_uri("https://a/%"), "https://a/%");
    }
}
