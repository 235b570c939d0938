//! S3's REST API, path-style: which operation a request is (its method, `/<bucket>` or
//! `/<bucket>/<key>`, and its subresource parameters), answered with S3's headers, and
//! `NotImplemented` naming every operation this endpoint does not serve. A subresource or
//! header that changes what an operation does (`?acl`, `?uploadId`, `x-amz-copy-source`,
//! conditional headers, ...) is refused, never ignored.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use axum::response::Response;
use percent_encoding::percent_decode_str;

use super::bucket::{self, ListParams};
use super::{MAX_KEY_BYTES, Objects, S3Error, object};

/// The operations served.
pub const SERVED: &[&str] = &[
    "CreateBucket",
    "HeadBucket",
    "DeleteBucket",
    "ListBuckets",
    "ListObjectsV2",
    "PutObject",
    "GetObject",
    "HeadObject",
    "DeleteObject",
];

/// What a path names.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    Service,
    Bucket(String),
    Object(String, String),
}

fn decode(part: &str) -> Result<String, S3Error> {
    percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| S3Error::invalid_uri())
}

/// `/`, `/<bucket>`, `/<bucket>/` or `/<bucket>/<key>`, percent-decoded. The key is any UTF-8
/// (slashes and `..` included: it is never used as a path).
fn target(path: &str) -> Result<Target, S3Error> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    match rest.split_once('/') {
        _ if rest.is_empty() => Ok(Target::Service),
        None | Some((_, "")) => Ok(Target::Bucket(decode(rest.trim_end_matches('/'))?)),
        Some((bucket, key)) => {
            let key = decode(key)?;
            if key.len() > MAX_KEY_BYTES {
                return Err(S3Error::key_too_long(MAX_KEY_BYTES));
            }
            Ok(Target::Object(decode(bucket)?, key))
        }
    }
}

/// The query parameters an operation takes; any other is a subresource it does not serve.
/// `x-id` is the operation's name, which aws-sdk-s3 adds to every request.
fn allowed(name: &str, list: bool, get_object: bool) -> bool {
    name == "x-id"
        || (list
            && matches!(
                name,
                "list-type"
                    | "prefix"
                    | "delimiter"
                    | "max-keys"
                    | "continuation-token"
                    | "start-after"
                    | "encoding-type"
                    | "fetch-owner"
            ))
        || (get_object
            && matches!(
                name,
                "response-content-type"
                    | "response-content-language"
                    | "response-expires"
                    | "response-cache-control"
                    | "response-content-disposition"
                    | "response-content-encoding"
            ))
}

/// The S3 operation a refused request is, as the API Reference names it.
fn operation_name(method: &Method, object: bool, sub: Option<&str>) -> Option<String> {
    let verb = match *method {
        Method::GET => "Get",
        Method::PUT => "Put",
        Method::DELETE => "Delete",
        _ => "",
    };
    let named = |noun: &str| (!verb.is_empty()).then(|| format!("{verb}{noun}"));
    let level = if object { "Object" } else { "Bucket" };
    match (method.as_str(), object, sub?) {
        ("POST", true, "uploads") => Some("CreateMultipartUpload".into()),
        ("PUT", true, "uploadId" | "partNumber") => Some("UploadPart".into()),
        ("POST", true, "uploadId") => Some("CompleteMultipartUpload".into()),
        ("DELETE", true, "uploadId") => Some("AbortMultipartUpload".into()),
        ("GET", true, "uploadId") => Some("ListParts".into()),
        ("GET", false, "uploads") => Some("ListMultipartUploads".into()),
        ("GET", false, "versions") => Some("ListObjectVersions".into()),
        ("POST", false, "delete") => Some("DeleteObjects".into()),
        ("GET", false, "location") => Some("GetBucketLocation".into()),
        ("GET", true, "attributes") => Some("GetObjectAttributes".into()),
        ("POST", true, "restore") => Some("RestoreObject".into()),
        ("POST", true, "select") => Some("SelectObjectContent".into()),
        (_, _, "acl") => named(&format!("{level}Acl")),
        (_, _, "tagging") => named(&format!("{level}Tagging")),
        (_, true, "retention") => named("ObjectRetention"),
        (_, true, "legal-hold") => named("ObjectLegalHold"),
        (_, false, "versioning") => named("BucketVersioning"),
        (_, false, "policy") => named("BucketPolicy"),
        (_, false, "cors") => named("BucketCors"),
        (_, false, "lifecycle") => named("BucketLifecycleConfiguration"),
        (_, false, "encryption") => named("BucketEncryption"),
        (_, false, "notification") => named("BucketNotificationConfiguration"),
        (_, false, "website") => named("BucketWebsite"),
        (_, false, "object-lock") => named("ObjectLockConfiguration"),
        (_, false, "publicAccessBlock") => named("PublicAccessBlock"),
        _ => None,
    }
}

fn refuse(
    method: &Method,
    path: &str,
    query: &[(String, String)],
    object: bool,
    sub: Option<&str>,
) -> S3Error {
    let x_id = query
        .iter()
        .find(|(n, _)| n == "x-id")
        .map(|(_, v)| v.clone());
    let name = operation_name(method, object, sub).or(x_id);
    let request = match sub {
        Some(sub) => format!("{method} {path}?{sub}"),
        None => format!("{method} {path}"),
    };
    S3Error::not_implemented(&match name {
        Some(name) => format!("{name} (`{request}`)"),
        None => format!("`{request}`"),
    })
}

/// Headers that ask for behaviour this endpoint does not have, and what S3 calls it.
const UNSUPPORTED_HEADERS: [(&str, &str); 8] = [
    ("x-amz-copy-source", "CopyObject"),
    ("if-match", "conditional requests (If-Match)"),
    ("if-none-match", "conditional requests (If-None-Match)"),
    (
        "if-modified-since",
        "conditional requests (If-Modified-Since)",
    ),
    (
        "if-unmodified-since",
        "conditional requests (If-Unmodified-Since)",
    ),
    ("x-amz-tagging", "object tags (x-amz-tagging)"),
    (
        "x-amz-server-side-encryption-customer-algorithm",
        "server-side encryption with customer-provided keys (SSE-C)",
    ),
    (
        "x-amz-object-lock-mode",
        "Object Lock (x-amz-object-lock-mode)",
    ),
];

async fn route(
    objects: &Objects,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, S3Error> {
    let path = uri.path();
    let query: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let target = target(path)?;
    let object_level = matches!(target, Target::Object(..));
    let list = matches!(target, Target::Bucket(_)) && *method == Method::GET;
    let get_object = object_level && matches!(*method, Method::GET | Method::HEAD);
    let sub = query
        .iter()
        .map(|(name, _)| name.as_str())
        .find(|name| !allowed(name, list, get_object));
    if sub.is_some() && !matches!(target, Target::Service) {
        return Err(refuse(method, path, &query, object_level, sub));
    }
    if let Some((_, what)) = UNSUPPORTED_HEADERS
        .iter()
        .find(|(name, _)| headers.contains_key(*name))
    {
        return Err(S3Error::not_implemented(&format!(
            "{what} (`{method} {path}`)"
        )));
    }
    match (method.as_str(), target) {
        ("GET", Target::Service) => bucket::list_buckets(objects).await,
        ("PUT", Target::Bucket(b)) => bucket::create(objects, &b).await,
        ("HEAD", Target::Bucket(b)) => bucket::head(objects, &b).await,
        ("DELETE", Target::Bucket(b)) => bucket::delete(objects, &b).await,
        ("GET", Target::Bucket(b)) => {
            if query.iter().any(|(n, v)| n == "list-type" && v == "2") {
                bucket::list_objects_v2(objects, &b, ListParams::parse(&query)?).await
            } else {
                Err(S3Error::not_implemented(&format!(
                    "ListObjects, version 1 (`GET {path}` without `list-type=2`): use ListObjectsV2"
                )))
            }
        }
        ("POST", Target::Bucket(_)) => Err(S3Error::not_implemented(&format!(
            "PostObject, browser-based uploads (`POST {path}`)"
        ))),
        ("PUT", Target::Object(b, k)) => object::put(objects, &b, &k, headers, body).await,
        ("GET", Target::Object(b, k)) => object::get(objects, &b, &k, headers, &query, false).await,
        ("HEAD", Target::Object(b, k)) => object::get(objects, &b, &k, headers, &query, true).await,
        ("DELETE", Target::Object(b, k)) => object::delete(objects, &b, &k).await,
        (_, target) => Err(refuse(
            method,
            path,
            &query,
            matches!(target, Target::Object(..)),
            None,
        )),
    }
}

/// Answers one S3 request.
pub(crate) async fn respond(
    objects: &Objects,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    // S3's request ids are 16 upper-case hex digits.
    let request_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_uppercase();
    let mut response = match route(objects, method, uri, headers, body).await {
        Ok(response) => response,
        Err(err) => err.to_response(uri.path(), &request_id, *method == Method::HEAD),
    };
    let response_headers = response.headers_mut();
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        response_headers.insert("x-amz-request-id", id.clone());
        response_headers.insert("x-amz-id-2", id);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_the_service_a_bucket_or_a_key() {
        assert_eq!(target("/").unwrap(), Target::Service);
        assert_eq!(target("/b1c").unwrap(), Target::Bucket("b1c".into()));
        assert_eq!(target("/b1c/").unwrap(), Target::Bucket("b1c".into()));
        assert_eq!(
            target("/b1c/a/../%2E%2E/x%20y%2Bz%E2%82%AC").unwrap(),
            Target::Object("b1c".into(), "a/../../x y+z€".into())
        );
        assert_eq!(
            target("/b1c//lead").unwrap(),
            Target::Object("b1c".into(), "/lead".into())
        );
        assert_eq!(target("/b1c/%FF").unwrap_err().code, "InvalidURI");
        let long = format!("/b1c/{}", "é".repeat(513));
        assert_eq!(target(&long).unwrap_err().code, "KeyTooLongError");
        target(&format!("/b1c/{}", "é".repeat(512))).unwrap();
    }

    #[test]
    fn refused_operations_are_named() {
        let q = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let err = refuse(
            &Method::POST,
            "/b/k",
            &q(&[("uploads", "")]),
            true,
            Some("uploads"),
        );
        assert_eq!(err.code, "NotImplemented");
        assert_eq!(err.status, 501);
        assert!(
            err.message.starts_with(
                "hookline's local S3 endpoint does not implement CreateMultipartUpload (`POST /b/k?uploads`); it serves only CreateBucket, "
            ),
            "{}",
            err.message
        );
        let err = refuse(&Method::GET, "/b", &[], false, Some("acl"));
        assert!(err.message.contains("GetBucketAcl"), "{}", err.message);
        let err = refuse(
            &Method::PUT,
            "/b/k",
            &q(&[("x-id", "Whatever")]),
            true,
            Some("odd"),
        );
        assert!(
            err.message.contains("Whatever (`PUT /b/k?odd`)"),
            "{}",
            err.message
        );
        let err = refuse(&Method::PATCH, "/b/k", &[], true, None);
        assert!(err.message.contains("`PATCH /b/k`"), "{}", err.message);
    }
}
