//! What ingest reads from the API Gateway request (payload 2.0): the URL the provider called,
//! the body within its limit, the content type.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use base64::Engine as _;
use http::HeaderMap;
use http::header::CONTENT_TYPE;

use super::{IngestError, MAX_BASE64_BODY_BYTES};

/// The URL the provider called: `{proto}://{domainName}{rawPath}` from the payload 2.0 event
/// (API Gateway developer guide, "Create AWS Lambda proxy integrations for HTTP APIs"), with
/// `proto` from the `x-forwarded-proto` header API Gateway adds (`https` on AWS; the local
/// gateway says `http`), then `?{rawQueryString}` when there is one. "If you use API mappings
/// to connect your stage to a custom domain name, rawPath won't provide the API mapping
/// value" (same page): such deployments configure the public URL instead.
pub(super) fn called_url(request: &ApiGatewayV2httpRequest, public_url: Option<&str>) -> String {
    let proto = match request
        .headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("http") => "http",
        _ => "https",
    };
    let mut url = match public_url {
        Some(public_url) => public_url.to_owned(),
        None => format!(
            "{proto}://{}{}",
            request
                .request_context
                .domain_name
                .as_deref()
                .unwrap_or_default(),
            request.raw_path.as_deref().unwrap_or_default()
        ),
    };
    if let Some(query) = request
        .raw_query_string
        .as_deref()
        .filter(|q| !q.is_empty())
    {
        url.push('?');
        url.push_str(query);
    }
    url
}

/// The raw body bytes, after the size limit (`max_body_bytes`).
pub(super) fn read_body(
    request: &ApiGatewayV2httpRequest,
    max_body_bytes: usize,
) -> Result<Vec<u8>, IngestError> {
    let text = request.body.as_deref().unwrap_or_default();
    let limit = max_body_bytes;
    if request.is_base64_encoded {
        // A binary body has a limit of its own when the configured one is beyond what
        // base64 leaves of the event: the same bound on AWS and locally, whatever the
        // headers take, rather than a gateway error for some sizes and not others.
        let binary = limit > MAX_BASE64_BODY_BYTES;
        let limit = limit.min(MAX_BASE64_BODY_BYTES);
        // Reject on the decoded size before decoding anything: 3 bytes per 4 characters,
        // less the `=` padding.
        let padding = text.bytes().rev().take(2).filter(|&b| b == b'=').count();
        let decoded_size = (text.len() / 4 * 3).saturating_sub(padding);
        let too_large = |size| match binary {
            true => IngestError::BinaryTooLarge { size, limit },
            false => IngestError::PayloadTooLarge { size, limit },
        };
        if decoded_size > limit {
            return Err(too_large(decoded_size));
        }
        let body = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| IngestError::MalformedRequest("the body is marked base64 but is not"))?;
        if body.len() > limit {
            return Err(too_large(body.len()));
        }
        Ok(body)
    } else if text.len() > limit {
        Err(IngestError::PayloadTooLarge {
            size: text.len(),
            limit,
        })
    } else {
        Ok(text.as_bytes().to_vec())
    }
}

/// The characters SQS allows in messages and attribute values: #x9 | #xA | #xD | #x20 to #xD7FF
/// | #xE000 to #xFFFD | #x10000 to #x10FFFF (a `char` is never a surrogate).
pub(super) fn sqs_allows(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

pub(super) fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}
