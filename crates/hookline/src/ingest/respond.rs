//! The HTTP answer of a request: a scheme's fixed acknowledgement, or JSON with a stable code.

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::encodings::Body;
use http::HeaderValue;
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use serde_json::json;

use super::{Accepted, IngestError, RETRY_AFTER_SECS};
use crate::describe::{Acknowledgement, Answer, Handshake};

/// The HTTP answer for a result: JSON bodies, stable codes, nothing internal.
pub fn respond(result: &Result<Accepted, IngestError>) -> ApiGatewayV2httpResponse {
    match result {
        Ok(Accepted::Queued {
            acknowledgement: Acknowledgement::Answer(answer),
            ..
        })
        | Ok(Accepted::Handshake(Handshake { answer, .. })) => answer_response(answer),
        Ok(Accepted::Queued { message_id, .. }) => json_response(
            200,
            &json!({ "status": "received", "message_id": message_id }),
        ),
        Err(err) => {
            let mut response = json_response(
                i64::from(err.status()),
                &json!({ "error": err.code(), "message": err.to_string() }),
            );
            if err.status() == 503 {
                response
                    .headers
                    .insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
            }
            response
        }
    }
}

/// A scheme's fixed answer.
fn answer_response(answer: &Answer) -> ApiGatewayV2httpResponse {
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = i64::from(answer.status);
    if let Some(content_type) = answer.content_type {
        response
            .headers
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    if !answer.body.is_empty() {
        response.body = Some(Body::Text(answer.body.clone()));
    }
    response
}

fn json_response(status: i64, body: &serde_json::Value) -> ApiGatewayV2httpResponse {
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = status;
    response
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response.body = Some(Body::Text(body.to_string()));
    response
}
