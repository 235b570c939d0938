//! Sending a provider's sample and replaying a past delivery: requests made in-process to the
//! gateway's webhook routes (so they are recorded, verified and queued like any other), signed
//! as `cargo xtask send` signs them.

use std::net::SocketAddr;
use std::str::FromStr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use hookline::sign::Signer;
use hookline::verify::Outgoing;
use serde::Serialize;

use super::{Console, ConsoleError, ConsoleProvider, query};
use crate::gateway::ConsoleRequest;

/// How to replay a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayMode {
    /// The bytes and headers as received, signature and all (a signed timestamp may have gone
    /// stale: that is the point of trying).
    Original,
    /// The body and headers as received, signed again now with the local secret for the
    /// provider's webhook URL, with the same provider delivery id.
    Resigned,
}

impl FromStr for ReplayMode {
    type Err = ConsoleError;

    fn from_str(mode: &str) -> Result<Self, Self::Err> {
        match mode {
            "original" => Ok(ReplayMode::Original),
            "resigned" => Ok(ReplayMode::Resigned),
            other => Err(ConsoleError::BadRequest(format!(
                "a replay is `original` or `resigned`, not `{other}`"
            ))),
        }
    }
}

/// A request the console made.
#[derive(Debug, Clone, Serialize)]
pub struct Made {
    /// The new delivery's id.
    pub delivery: String,
    /// What the gateway answered.
    pub status: u16,
}

fn provider<'a>(console: &'a Console, name: &str) -> Result<&'a ConsoleProvider, ConsoleError> {
    console.provider(name).ok_or_else(|| {
        let names: Vec<&str> = console
            .providers()
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        ConsoleError::NotFound(format!(
            "no provider `{name}`: the providers are {}",
            names.join(", ")
        ))
    })
}

/// The gateway's router and address, once it listens.
fn ingress(console: &Console) -> Result<(axum::Router, SocketAddr), ConsoleError> {
    console
        .ingress
        .get()
        .cloned()
        .ok_or_else(|| ConsoleError::Internal("the gateway is not listening yet".into()))
}

/// A signed request: the target (path and query) to post to, the headers to add, the body.
type SignedRequest = (String, Vec<(String, String)>, Vec<u8>);

/// Signs `body` for `provider` as the provider would now; the URL to post to, the headers and
/// the body to send.
fn sign(
    console: &Console,
    provider: &ConsoleProvider,
    body: &[u8],
    delivery_id: &str,
) -> Result<SignedRequest, ConsoleError> {
    let (_, addr) = ingress(console)?;
    let url = format!("http://{addr}{}", provider.route);
    let signer = Signer::new(provider.scheme.clone(), &provider.signing_key).map_err(|e| {
        ConsoleError::Internal(format!("the local signing key of {}: {e}", provider.name))
    })?;
    let signed = signer
        .sign(&Outgoing {
            url: &url,
            body,
            timestamp: chrono::Utc::now().timestamp(),
            delivery_id,
        })
        .map_err(|e| ConsoleError::BadRequest(e.to_string()))?;
    let target = signed
        .url
        .strip_prefix(&format!("http://{addr}"))
        .unwrap_or(&provider.route)
        .to_owned();
    Ok((target, signed.headers, signed.body))
}

/// Sends `provider`'s sample `event` (the first one when `None`), or `body` instead of the
/// sample's, signed, as a new event ([`crate::fresh`]: a second send is no duplicate).
pub async fn send(
    console: &Console,
    name: &str,
    event: Option<&str>,
    body: Option<Vec<u8>>,
) -> Result<Made, ConsoleError> {
    let provider = provider(console, name)?;
    let samples = provider.samples.as_ref().map_err(|e| e.as_str());
    let sample = match (samples, event) {
        (Ok(samples), None) => samples.first(),
        (Ok(samples), Some(wanted)) => Some(
            samples
                .iter()
                .find(|s| s.event_type == wanted)
                .ok_or_else(|| {
                    let types: Vec<&str> = samples.iter().map(|s| s.event_type.as_str()).collect();
                    ConsoleError::BadRequest(format!(
                        "no sample event `{wanted}` for {name}: the samples are {}",
                        types.join(", ")
                    ))
                })?,
        ),
        (Err(why), _) if body.is_none() => {
            return Err(ConsoleError::Conflict(format!(
                "{name} has no samples ({why}): send a body of your own"
            )));
        }
        (Err(_), _) => None,
    };
    let body = match (body, sample) {
        (Some(body), _) => body,
        (None, Some(sample)) => sample.body.clone(),
        (None, None) => {
            return Err(ConsoleError::Conflict(format!(
                "{name} has no samples: send a body of your own"
            )));
        }
    };
    let content_type = sample.map_or("application/json", |s| s.content_type.as_str());
    let signed = |body: &[u8]| {
        let (target, signed_headers, body) =
            sign(console, provider, body, &uuid::Uuid::new_v4().to_string())?;
        let mut headers = vec![("content-type".to_owned(), content_type.to_owned())];
        if let Some(sample) = sample {
            headers.extend(sample.headers.iter().cloned());
        }
        headers.extend(signed_headers);
        Ok::<_, ConsoleError>((target, headers, body))
    };
    let (target, headers, signed_body) = signed(&body)?;
    let dedup_id = crate::fresh::dedup_id(&provider.scheme, &target, &headers, &signed_body);
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let (target, headers, body) =
        match crate::fresh::fresh_body(&body, content_type, dedup_id.as_deref(), &nonce) {
            Some(fresh) => signed(&fresh)?,
            None => (target, headers, signed_body),
        };
    post(console, &target, headers, body, None, true).await
}

/// Replays delivery `id`.
pub async fn replay(console: &Console, id: &str, mode: ReplayMode) -> Result<Made, ConsoleError> {
    let wanted = id.to_owned();
    let detail = console
        .history()
        .read(move |conn| query::detail(conn, &wanted))
        .await
        .map_err(ConsoleError::Internal)?
        .ok_or_else(|| not_found(id))?;
    match mode {
        ReplayMode::Original => {
            post(
                console,
                &detail.target,
                detail.headers,
                detail.body,
                Some(id.to_owned()),
                false,
            )
            .await
        }
        ReplayMode::Resigned => {
            let name = detail.summary.provider.as_deref().ok_or_else(|| {
                ConsoleError::BadRequest(format!(
                    "{} was sent to no provider's route: there is no secret to sign it with",
                    detail.target
                ))
            })?;
            let provider = provider(console, name)?;
            let delivery_id = detail
                .summary
                .delivery_id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let (target, signed_headers, body) =
                sign(console, provider, &detail.body, &delivery_id)?;
            let replaced: Vec<String> = signed_headers
                .iter()
                .map(|(k, _)| k.to_ascii_lowercase())
                .collect();
            let mut headers: Vec<(String, String)> = detail
                .headers
                .into_iter()
                .filter(|(k, _)| {
                    let k = k.to_ascii_lowercase();
                    !replaced.contains(&k) && k != "host" && k != "content-length"
                })
                .collect();
            headers.extend(signed_headers);
            post(console, &target, headers, body, Some(id.to_owned()), true).await
        }
    }
}

/// The error for a delivery the history does not have.
pub fn not_found(id: &str) -> ConsoleError {
    ConsoleError::NotFound(format!(
        "no delivery `{id}` in the history (it keeps the last {} deliveries)",
        super::html::thousands(super::history::MAX_DELIVERIES)
    ))
}

/// Posts to the gateway in-process; `own_host` sets `Host` to the gateway's address (signed
/// requests are signed for it), else the headers keep theirs.
async fn post(
    console: &Console,
    target: &str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    replay_of: Option<String>,
    own_host: bool,
) -> Result<Made, ConsoleError> {
    let (router, addr) = ingress(console)?;
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(target)
        .body(Body::from(body))
        .map_err(|e| {
            ConsoleError::BadRequest(format!("cannot make a request to `{target}`: {e}"))
        })?;
    let map = request.headers_mut();
    for (name, value) in &headers {
        if own_host && name.eq_ignore_ascii_case("host") {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            map.append(name, value);
        }
    }
    if (own_host || !map.contains_key("host"))
        && let Ok(host) = HeaderValue::from_str(&addr.to_string())
    {
        map.insert("host", host);
    }
    let id = uuid::Uuid::now_v7().to_string();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 0))));
    request.extensions_mut().insert(ConsoleRequest {
        id: id.clone(),
        replay_of,
    });
    let response = tower::ServiceExt::oneshot(router, request)
        .await
        .map_err(|e| ConsoleError::Internal(format!("the gateway failed: {e}")))?;
    // The gateway recorded it; the page that shows it reads the history after it is committed
    // (`History::read`).
    Ok(Made {
        delivery: id,
        status: response.status().as_u16(),
    })
}
