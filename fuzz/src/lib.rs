//! What the fuzz targets share: the text format of a fuzz input and the checks ("oracles")
//! that turn a wrong answer into a crash, so that libFuzzer reports more than panics.
//!
//! Most inputs are a small HTTP-like text, so that seeds can be real signed deliveries
//! (`cargo xtask fuzz` writes them from the templates' fixtures) and mutations stay close to
//! what a provider or an attacker would send:
//!
//! ```text
//! <config line: scheme / clock / secret ...>
//! Header-Name: value
//! Other-Header: value
//!
//! raw body bytes
//! ```
//!
//! The clock and the secret travel in the input, so a seed verifies without constants shared
//! between this crate and xtask, and the key derivation is fuzzed as well.
#![allow(clippy::panic, missing_docs)] // a fuzz target reports a broken invariant by panicking

use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use chrono::{DateTime, Utc};
use hookline::ingest::Ingest;
use hookline::queue::MemoryQueue;
use hookline::sign::Signer;
use hookline::verify::{Algorithm, Encoding, GenericHmac, Outgoing, Request};
use hookline::{Envelope, Scheme, SigningSecret, Verifier};
use http::{HeaderMap, HeaderName, HeaderValue};

/// A secret shorter than this can occur in any text by chance, so it is not searched for.
const MIN_SEARCHED_SECRET_LEN: usize = 8;

/// An input split into its config line, its header block and its body.
pub struct Parts<'a> {
    pub config: Vec<&'a str>,
    pub head: &'a [u8],
    pub body: &'a [u8],
}

/// Splits `data` into the first line (whitespace-separated words), the header lines up to the
/// first empty line, and the rest. Returns `None` when the first line is not UTF-8.
pub fn split(data: &[u8]) -> Option<Parts<'_>> {
    let (first, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let config = std::str::from_utf8(first)
        .ok()?
        .split_whitespace()
        .collect();
    let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (rest, &[][..]),
    };
    Some(Parts { config, head, body })
}

/// Header lines (`Name: value`) to a map; lines that are not valid headers are skipped, and
/// repeated names are kept as repeated values, as a server receives them.
pub fn headers(head: &[u8]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for line in head.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let value = line[colon + 1..].trim_ascii();
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(line[..colon].trim_ascii()),
            HeaderValue::from_bytes(value),
        ) {
            map.append(name, value);
        }
    }
    map
}

/// A generic-hmac scheme from config words `header algorithm encoding [prefix]`, defaults for
/// whatever is missing or invalid.
pub fn generic_scheme(words: &[&str]) -> Scheme {
    let default = GenericHmac::default();
    let header = words.first().copied().unwrap_or(default.header());
    let algorithm = words
        .get(1)
        .and_then(|w| Algorithm::from_str(w).ok())
        .unwrap_or(Algorithm::Sha256);
    let encoding = words
        .get(2)
        .and_then(|w| Encoding::from_str(w).ok())
        .unwrap_or(Encoding::Hex);
    let prefix = words.get(3).map(|p| (*p).to_owned());
    match GenericHmac::new(header, algorithm, encoding, prefix) {
        Ok(generic) => Scheme::generic_hmac(generic),
        Err(_) => Scheme::generic_hmac(default),
    }
}

/// Panics when `text` contains `secret` (long enough not to occur by chance).
pub fn assert_no_secret(secret: &str, text: &str, what: &str) {
    if secret.len() >= MIN_SEARCHED_SECRET_LEN && text.contains(secret) {
        panic!("{what} contains the signing secret");
    }
}

/// A valid secret for `scheme` that no fuzz input chooses (for telling quotes apart).
fn other_secret(scheme: &Scheme) -> &'static str {
    // Valid for every shared-secret scheme (Standard Webhooks reads base64 after `whsec_`);
    // public-key schemes make theirs.
    match scheme.name() {
        "stripe" | "standard-webhooks" => "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        _ => "an unrelated secret for comparison",
    }
}

/// The URL every verify input is posted to (URL-signed schemes sign it; seeds are signed for it).
pub const FUZZ_URL: &str = hookline::sign::SAMPLE_URL;

/// The verify targets. Input: `<now> <secret> [generic-hmac settings]`, headers, body; the
/// request is a POST to [`FUZZ_URL`].
///
/// Checks, beyond "no panic":
/// - errors never quote the secret;
/// - what [`Signer`] signs, [`Verifier`] accepts (for any body it can sign, clock and secret;
///   public-key schemes sign with a key pair derived from the input's secret);
/// - a verified body with one byte changed is refused, where the signature covers the body;
/// - a verified delivery can be described without panicking.
pub fn fuzz_verify(scheme: Option<&str>, data: &[u8]) {
    let Some(parts) = split(data) else { return };
    let now: i64 = parts
        .config
        .first()
        .and_then(|w| w.parse().ok())
        .unwrap_or(0);
    let Some(secret) = parts.config.get(1).copied() else {
        return;
    };
    let scheme = match scheme {
        Some(name) => match Scheme::from_str(name) {
            Ok(scheme) => scheme,
            Err(err) => panic!("{err}"),
        },
        None => generic_scheme(parts.config.get(2..).unwrap_or(&[])),
    };
    let headers = headers(parts.head);
    let body = parts.body;
    let request = Request {
        method: "POST",
        url: FUZZ_URL,
        headers: &headers,
        body,
    };

    let verifier = match Verifier::new(
        scheme.clone(),
        &[SigningSecret::new(secret)],
        Duration::from_secs(300),
    ) {
        Ok(verifier) => Some(verifier),
        Err(err) => {
            assert_no_secret(secret, &err.to_string(), "a key error");
            if !scheme.uses_public_keys() {
                assert!(
                    Signer::new(scheme.clone(), secret).is_err(),
                    "the signer took a secret the verifier refused"
                );
            }
            None
        }
    };

    if let Some(verifier) = &verifier {
        match verifier.verify_request(&request, now) {
            Ok(()) => {
                let _ = verifier.describe(&request);
                if let Some((i, byte)) = body
                    .iter()
                    .enumerate()
                    .next_back()
                    .filter(|_| scheme.signs_body())
                {
                    let mut changed = body.to_vec();
                    changed[i] = byte.wrapping_add(1);
                    let changed = Request {
                        body: &changed,
                        ..request
                    };
                    assert!(
                        verifier.verify_request(&changed, now).is_err(),
                        "a changed body verified"
                    );
                }
            }
            Err(err) => {
                let text = err.to_string();
                if text.contains(secret) && secret.len() >= MIN_SEARCHED_SECRET_LEN {
                    // Quoted for a reason other than being the secret (a secret that spells a
                    // header name, say) when another secret gets the same words.
                    let other = Verifier::new(
                        scheme.clone(),
                        &[SigningSecret::new(other_secret(&scheme))],
                        Duration::from_secs(300),
                    );
                    let other_text = match other.map(|v| v.verify_request(&request, now)) {
                        Ok(Err(other_err)) => other_err.to_string(),
                        _ => String::new(),
                    };
                    if !other_text.contains(secret) {
                        panic!("a verify error contains the signing secret");
                    }
                }
                let _ = err.code();
            }
        }
    }

    // The round trip: a key pair made from the secret for public-key schemes, else the secret.
    let (sign_key, verifier) = if scheme.uses_public_keys() {
        let credentials = scheme.local_credentials(&seed_of(secret));
        let verifier = Verifier::new(
            scheme.clone(),
            &[SigningSecret::new(credentials.verify.as_str())],
            Duration::from_secs(300),
        );
        match verifier {
            Ok(verifier) => (credentials.sign, verifier),
            Err(err) => panic!("local credentials that do not verify: {err}"),
        }
    } else {
        match verifier {
            Some(verifier) => (secret.to_owned(), verifier),
            None => return,
        }
    };
    let signer = match Signer::new(scheme.clone(), &sign_key) {
        Ok(signer) => signer,
        Err(_) => panic!("the verifier took a secret the signer refused"),
    };
    let Ok(signed) = signer.sign(&Outgoing {
        url: FUZZ_URL,
        body,
        timestamp: now,
        delivery_id: "msg_fuzz",
    }) else {
        assert!(
            !scheme.can_sign(body),
            "the signer refused a body it can sign"
        );
        return;
    };
    let mut signed_headers = HeaderMap::new();
    for (name, value) in &signed.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                signed_headers.append(name, value);
            }
            // Settings that could produce this are refused by `GenericHmac::new`.
            _ => panic!("Signer made a header that cannot be sent: {name}: {value}"),
        }
    }
    // Timestamps are refused by design beyond 12 digits (signed or not), and RFC 3339 (Twitch)
    // has four-digit years: the round trip holds up to the end of year 9999.
    if !(0..253_402_300_800).contains(&now) {
        return;
    }
    let request = Request {
        method: "POST",
        url: &signed.url,
        headers: &signed_headers,
        body: &signed.body,
    };
    if let Err(err) = verifier.verify_request(&request, now) {
        panic!("a delivery signed by Signer did not verify: {err}");
    }
}

/// 32 bytes from a secret's text, for deriving a key pair.
fn seed_of(secret: &str) -> [u8; 32] {
    let mut seed = [0u8; 32];
    for (i, byte) in secret.bytes().enumerate() {
        seed[i % 32] = seed[i % 32].wrapping_mul(31).wrapping_add(byte);
    }
    seed
}

/// The provider, queue and clock an ingest input asks for: `<scheme> <now> <secret> [fail]`.
pub struct IngestSetup {
    pub ingest: Ingest<MemoryQueue>,
    /// The scheme's name (`slack`, ...).
    pub scheme: &'static str,
    pub now: DateTime<Utc>,
    pub secret: String,
    pub queue_fails: bool,
}

/// Builds the ingest of an input's config line; `None` for a config that cannot make one.
pub fn ingest_setup(config: &[&str]) -> Option<IngestSetup> {
    let scheme = Scheme::from_str(config.first()?).ok()?;
    let now = DateTime::from_timestamp(config.get(1)?.parse().ok()?, 0)?;
    let secret = (*config.get(2)?).to_owned();
    let queue_fails = config.get(3) == Some(&"fail");
    let scheme_name = scheme.name();
    let verifier = Verifier::new(
        scheme,
        &[SigningSecret::new(secret.as_str())],
        Duration::from_secs(300),
    )
    .ok()?;
    let queue = MemoryQueue::new();
    queue.set_failing(queue_fails);
    // A small limit, so that the fuzzer reaches the size checks with small inputs.
    let ingest = Ingest::new("fuzz", verifier, queue).with_max_body_bytes(4096);
    Some(IngestSetup {
        ingest,
        scheme: scheme_name,
        now,
        secret,
        queue_fails,
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(
        || match tokio::runtime::Builder::new_current_thread().build() {
            Ok(runtime) => runtime,
            Err(err) => panic!("cannot start a tokio runtime: {err}"),
        },
    )
}

/// Runs a future to completion on the fuzz process's runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    runtime().block_on(future)
}

/// Handles one request and checks the ingest contract:
/// - 2xx only with the message queued, exactly once (saying so, but for Slack's empty
///   acknowledgement of a form), or for a handshake (nothing queued);
/// - anything else queues nothing;
/// - the queued envelope holds the request body byte for byte;
/// - the response is JSON (or empty) and never quotes the secret.
///
/// Returns the response, for callers that check more.
pub fn check_ingest(
    setup: &IngestSetup,
    request: ApiGatewayV2httpRequest,
) -> ApiGatewayV2httpResponse {
    let sent_body = request_body(&request);
    let response = block_on(setup.ingest.handle_at(request, setup.now));
    let status = response.status_code;
    let queued = setup.ingest.queue().messages();
    let body = match &response.body {
        Some(aws_lambda_events::encodings::Body::Text(text)) => text.clone(),
        Some(_) => panic!("ingest answered a binary body"),
        None => String::new(),
    };
    assert_no_secret(&setup.secret, &body, "a response");
    let content_type = response
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !body.is_empty() {
        match content_type {
            Some("application/json") => {
                if serde_json::from_str::<serde_json::Value>(&body).is_err() {
                    panic!("ingest answered JSON that does not parse: {body}");
                }
            }
            Some(_) => {}
            None => panic!("ingest answered a body without a content type: {body}"),
        }
    }
    match status {
        200..=299 => {
            assert!(queued.len() <= 1, "one request queued {}", queued.len());
            // A queued delivery is answered `"status":"received"` or the way its provider
            // expects (Slack's empty 200, Twilio's TwiML, Discord's deferred response); a
            // handshake queues nothing and never says received.
            let says_received = body.contains(r#""status":"received""#);
            if says_received {
                assert_eq!(queued.len(), 1, "said received but queued nothing: {body}");
            }
            if let Some(message) = queued.first() {
                let envelope = match Envelope::from_json(&message.body) {
                    Ok(envelope) => envelope,
                    Err(err) => panic!("ingest queued something that is no envelope: {err}"),
                };
                assert_eq!(
                    Some(envelope.body),
                    sent_body,
                    "the queued body differs from the request's"
                );
            }
        }
        400..=599 => assert!(
            queued.is_empty(),
            "status {status} but a message was queued"
        ),
        other => panic!("ingest answered status {other}"),
    }
    response
}

/// The raw body API Gateway delivered (`None` when it is not valid base64).
pub fn request_body(request: &ApiGatewayV2httpRequest) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let text = request.body.as_deref().unwrap_or_default();
    if request.is_base64_encoded {
        base64::engine::general_purpose::STANDARD.decode(text).ok()
    } else {
        Some(text.as_bytes().to_vec())
    }
}
