//! S3 errors in the shape of S3's REST API: an XML `<Error>` with `Code`, `Message`,
//! `Resource` and `RequestId` and the status S3 answers with (S3 API Reference, "Error
//! responses": "REST error responses" and "List of error codes"), so that SDKs map them —
//! aws-sdk-s3's `NoSuchKey`, boto3's `client.exceptions.NoSuchBucket`. The messages are S3's.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::xml;

/// An S3 error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct S3Error {
    /// The error code, e.g. `NoSuchKey`.
    pub code: &'static str,
    /// The HTTP status S3 answers it with.
    pub status: StatusCode,
    /// What went wrong.
    pub message: String,
    /// Further elements S3 adds for this code (`Key` for `NoSuchKey`, `BucketName` for
    /// `NoSuchBucket`).
    extra: Vec<(&'static str, String)>,
}

impl S3Error {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        S3Error {
            code,
            status,
            message: message.into(),
            extra: Vec::new(),
        }
    }

    fn with(mut self, element: &'static str, value: &str) -> Self {
        self.extra.push((element, value.to_owned()));
        self
    }

    /// `NoSuchBucket` (404).
    pub fn no_such_bucket(bucket: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist.",
        )
        .with("BucketName", bucket)
    }

    /// `NoSuchKey` (404).
    pub fn no_such_key(key: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        )
        .with("Key", key)
    }

    /// `BucketNotEmpty` (409).
    pub fn bucket_not_empty(bucket: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "BucketNotEmpty",
            "The bucket that you tried to delete is not empty.",
        )
        .with("BucketName", bucket)
    }

    /// `InvalidBucketName` (400), with the naming rule that was broken.
    pub fn invalid_bucket_name(bucket: &str, rule: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidBucketName",
            format!("The specified bucket is not valid: {rule}."),
        )
        .with("BucketName", bucket)
    }

    /// `KeyTooLongError` (400).
    pub fn key_too_long(max: usize) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "KeyTooLongError",
            format!("Your key is too long: at most {max} bytes of UTF-8."),
        )
    }

    /// `EntityTooLarge` (400).
    pub fn entity_too_large(max: u64) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "EntityTooLarge",
            format!(
                "Your proposed upload exceeds the maximum allowed object size: hookline's local S3 endpoint takes at most {max} bytes in one PutObject."
            ),
        )
    }

    /// `MetadataTooLarge` (400).
    pub fn metadata_too_large(bytes: usize, max: usize) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MetadataTooLarge",
            format!(
                "Your metadata headers exceed the maximum allowed metadata size: {bytes} bytes of x-amz-meta-* names and values, at most {max}."
            ),
        )
    }

    /// `IncompleteBody` (400): fewer bytes than announced.
    pub fn incomplete_body(detail: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "IncompleteBody",
            format!(
                "You did not provide the number of bytes specified by the Content-Length HTTP header: {detail}."
            ),
        )
    }

    /// `BadDigest` (400): a Content-MD5 or checksum that does not match the body.
    pub fn bad_digest(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadDigest", message)
    }

    /// `InvalidDigest` (400): a Content-MD5 that is not one.
    pub fn invalid_digest() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidDigest",
            "The Content-MD5 you specified is not valid.",
        )
    }

    /// `XAmzContentSHA256Mismatch` (400).
    pub fn content_sha256_mismatch() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    }

    /// `InvalidRange` (416).
    pub fn invalid_range(size: u64) -> Self {
        Self::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "InvalidRange",
            "The requested range is not satisfiable",
        )
        .with("ActualObjectSize", &size.to_string())
    }

    /// `InvalidArgument` (400).
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
    }

    /// `InvalidRequest` (400).
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidRequest", message)
    }

    /// `InvalidURI` (400).
    pub fn invalid_uri() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidURI",
            "Couldn't parse the specified URI: the path is not percent-encoded UTF-8.",
        )
    }

    /// `NotImplemented` (501): what S3 answers for "A header you provided implies
    /// functionality that is not implemented", here with the operation named.
    pub fn not_implemented(operation: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            format!(
                "hookline's local S3 endpoint does not implement {operation}; it serves only {}",
                super::protocol::SERVED.join(", ")
            ),
        )
    }

    /// `InternalError` (500): storage failed; the caller should retry.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", message)
    }

    /// The response: the XML body, or none for `HEAD` (S3 sends HEAD errors without one).
    pub fn to_response(&self, resource: &str, request_id: &str, head: bool) -> Response {
        let mut response = if head {
            self.status.into_response()
        } else {
            let mut body = xml::Doc::new("Error", false);
            body.text("Code", self.code);
            body.text("Message", &self.message);
            for (element, value) in &self.extra {
                body.text(element, value);
            }
            body.text("Resource", resource);
            body.text("RequestId", request_id);
            let mut response = (self.status, body.finish()).into_response();
            response
                .headers_mut()
                .insert("content-type", HeaderValue::from_static("application/xml"));
            response
        };
        if let Ok(id) = HeaderValue::from_str(request_id) {
            response.headers_mut().insert("x-amz-request-id", id);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn errors_are_s3_xml_and_head_errors_have_no_body() {
        let err = S3Error::no_such_key("a&b");
        let response = err.to_response("/bucket/a&b", "REQ1", false);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["x-amz-request-id"], "REQ1");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
             <Message>The specified key does not exist.</Message><Key>a&amp;b</Key>\
             <Resource>/bucket/a&amp;b</Resource><RequestId>REQ1</RequestId></Error>"
        );
        let response = err.to_response("/bucket/a", "REQ2", true);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        assert!(body.is_empty());
    }
}
