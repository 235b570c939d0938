//! PutObject, GetObject, HeadObject and DeleteObject (S3 API Reference, each operation's page).

use std::io::{Read, Seek, SeekFrom};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::checksum::Algorithm;
use super::store::{self, ObjectMeta};
use super::upload::{self, Upload};
use super::{MAX_OBJECT_BYTES, MAX_USER_METADATA_BYTES, Objects, S3Error};

/// The headers an object is stored with and GetObject/HeadObject return (PutObject: "System
/// defined object metadata" a caller may set, and `x-amz-meta-*`).
const STORED_HEADERS: [&str; 6] = [
    "content-type",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
];

/// What S3 gives an object put without a `Content-Type` (moto does the same).
const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// The headers to store: the system metadata a caller may set and its `x-amz-meta-*`, with
/// `aws-chunked` dropped from `Content-Encoding` ("Amazon S3 stores the resulting object
/// without the aws-chunked value", PutObject).
fn headers_to_store(headers: &HeaderMap) -> Result<Vec<(String, String)>, S3Error> {
    let mut stored = Vec::new();
    let mut user_metadata_bytes = 0;
    for (name, value) in headers {
        let name = name.as_str();
        let value = String::from_utf8_lossy(value.as_bytes()).trim().to_owned();
        if let Some(user_key) = name.strip_prefix("x-amz-meta-") {
            user_metadata_bytes += user_key.len() + value.len();
            stored.push((name.to_owned(), value));
        } else if name == "content-encoding" {
            let codings: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("aws-chunked"))
                .collect();
            if !codings.is_empty() {
                stored.push((name.to_owned(), codings.join(", ")));
            }
        } else if STORED_HEADERS.contains(&name) {
            stored.push((name.to_owned(), value));
        }
    }
    if user_metadata_bytes > MAX_USER_METADATA_BYTES {
        return Err(S3Error::metadata_too_large(
            user_metadata_bytes,
            MAX_USER_METADATA_BYTES,
        ));
    }
    if !stored.iter().any(|(name, _)| name == "content-type") {
        stored.push(("content-type".to_owned(), DEFAULT_CONTENT_TYPE.to_owned()));
    }
    Ok(stored)
}

fn insert(response: &mut Response, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        response.headers_mut().insert(name, value);
    }
}

fn checksum_headers(response: &mut Response, (algorithm, value): &(Algorithm, String)) {
    insert(response, algorithm.header(), value);
    insert(response, "x-amz-checksum-type", "FULL_OBJECT");
}

/// PutObject: 200 once the object and its metadata are on disk.
pub async fn put(
    objects: &Objects,
    bucket: &str,
    key: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, S3Error> {
    let stored_headers = headers_to_store(headers)?;
    let name = bucket.to_owned();
    // S3 answers NoSuchBucket without waiting for the body.
    objects.call(move |s| s.require_bucket(&name)).await?;
    let Upload {
        data,
        etag,
        checksum,
    } = upload::read(headers, body, MAX_OBJECT_BYTES).await?;
    let size = data.len() as u64;
    let root = objects.root().to_owned();
    let (folder, name) = (root.clone(), bucket.to_owned());
    let file = tokio::task::spawn_blocking(move || store::write_object_file(&folder, &name, &data))
        .await
        .map_err(|e| S3Error::internal(format!("writing the object failed: {e}")))??;
    let meta = ObjectMeta {
        size,
        etag,
        modified_ms: chrono::Utc::now().timestamp_millis(),
        checksum,
        headers: stored_headers,
    };
    let (b, k, f, m) = (
        bucket.to_owned(),
        key.to_owned(),
        file.clone(),
        meta.clone(),
    );
    match objects.call(move |s| s.put_object(&b, &k, &f, &m)).await {
        Ok(Some(replaced)) => store::remove_object_file(&root, bucket, &replaced),
        Ok(None) => {}
        Err(err) => {
            store::remove_object_file(&root, bucket, &file);
            return Err(err);
        }
    }
    let mut response = StatusCode::OK.into_response();
    insert(&mut response, "etag", &format!("\"{}\"", meta.etag));
    checksum_headers(&mut response, &meta.checksum);
    Ok(response)
}

/// The one byte range asked for (`Range: bytes=a-b`, `bytes=a-`, `bytes=-n`) as (first, last),
/// `None` for none or a form S3 ignores (several ranges, another unit), `InvalidRange` when it
/// starts past the end (RFC 9110 "Range requests", as GetObject's `Range` refers to).
fn byte_range(headers: &HeaderMap, size: u64) -> Result<Option<(u64, u64)>, S3Error> {
    let Some(spec) = headers
        .get("range")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return Ok(None);
    };
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (first, last) = (first.trim(), last.trim());
    let range = match (first.parse::<u64>(), last.parse::<u64>()) {
        (Ok(first), Ok(last)) if first <= last => (first, last.min(size.saturating_sub(1))),
        (Ok(first), Err(_)) if last.is_empty() => (first, size.saturating_sub(1)),
        (Err(_), Ok(suffix)) if first.is_empty() => {
            if suffix == 0 || size == 0 {
                return Err(S3Error::invalid_range(size));
            }
            (size.saturating_sub(suffix), size - 1)
        }
        _ => return Ok(None),
    };
    if range.0 >= size {
        return Err(S3Error::invalid_range(size));
    }
    Ok(Some(range))
}

/// The headers GetObject and HeadObject answer with. The checksum only when asked for
/// (`x-amz-checksum-mode: ENABLED`, GetObject) and for the whole object: it is the whole
/// object's, which a range's bytes cannot be checked against (S3 and moto leave it out).
fn object_headers(
    response: &mut Response,
    meta: &ObjectMeta,
    request: &HeaderMap,
    whole: bool,
    overrides: &[(String, String)],
) {
    for (name, value) in &meta.headers {
        insert(response, name, value);
    }
    // GetObject's `response-content-type` and the like override what was stored.
    for (parameter, value) in overrides {
        if let Some(header) = parameter.strip_prefix("response-") {
            insert(response, header, value);
        }
    }
    insert(response, "etag", &format!("\"{}\"", meta.etag));
    let modified = chrono::DateTime::from_timestamp_millis(meta.modified_ms).unwrap_or_default();
    insert(
        response,
        "last-modified",
        &modified.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
    );
    insert(response, "accept-ranges", "bytes");
    let asked = request
        .get("x-amz-checksum-mode")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"ENABLED"));
    if asked && whole {
        checksum_headers(response, &meta.checksum);
    }
}

/// GetObject (`head`: HeadObject, the same answer without the body).
pub async fn get(
    objects: &Objects,
    bucket: &str,
    key: &str,
    headers: &HeaderMap,
    overrides: &[(String, String)],
    head: bool,
) -> Result<Response, S3Error> {
    let (b, k) = (bucket.to_owned(), key.to_owned());
    let (file, meta) = objects
        .call(move |s| {
            s.require_bucket(&b)?;
            if head {
                Ok(s.find_object(&b, &k)?.map(|(_, meta)| (None, meta)))
            } else {
                Ok(s.open_object(&b, &k)?
                    .map(|(file, meta)| (Some(file), meta)))
            }
        })
        .await?
        .ok_or_else(|| S3Error::no_such_key(key))?;
    let range = byte_range(headers, meta.size)?;
    let (first, length) = match range {
        Some((first, last)) => (first, last - first + 1),
        None => (0, meta.size),
    };
    let body = match file {
        None => Body::empty(),
        Some(mut file) => {
            let bytes = tokio::task::spawn_blocking(move || {
                let mut bytes = Vec::with_capacity(length as usize);
                file.seek(SeekFrom::Start(first))?;
                file.take(length).read_to_end(&mut bytes)?;
                Ok::<_, std::io::Error>(bytes)
            })
            .await
            .map_err(|e| S3Error::internal(format!("reading the object failed: {e}")))?
            .map_err(|e| S3Error::internal(format!("reading the object failed: {e}")))?;
            if bytes.len() as u64 != length {
                return Err(S3Error::internal(
                    "the object's file is shorter than recorded",
                ));
            }
            Body::from(bytes)
        }
    };
    let status = if range.is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut response = (status, body).into_response();
    object_headers(&mut response, &meta, headers, range.is_none(), overrides);
    insert(&mut response, "content-length", &length.to_string());
    if let Some((first, last)) = range {
        insert(
            &mut response,
            "content-range",
            &format!("bytes {first}-{last}/{}", meta.size),
        );
    }
    Ok(response)
}

/// DeleteObject: 204, also for a key that does not exist ("If there isn't a null version,
/// Amazon S3 does not remove any objects but will still respond that the command was
/// successful", DeleteObject).
pub async fn delete(objects: &Objects, bucket: &str, key: &str) -> Result<Response, S3Error> {
    let (b, k) = (bucket.to_owned(), key.to_owned());
    if let Some(file) = objects.call(move |s| s.delete_object(&b, &k)).await? {
        store::remove_object_file(objects.root(), bucket, &file);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(spec: &str, size: u64) -> Result<Option<(u64, u64)>, S3Error> {
        let mut headers = HeaderMap::new();
        headers.insert("range", HeaderValue::from_str(spec).unwrap());
        byte_range(&headers, size)
    }

    #[test]
    fn byte_ranges_follow_rfc_9110() {
        assert_eq!(range("bytes=1-2", 5).unwrap(), Some((1, 2)));
        assert_eq!(range("bytes=1-99", 5).unwrap(), Some((1, 4)));
        assert_eq!(range("bytes=3-", 5).unwrap(), Some((3, 4)));
        assert_eq!(range("bytes=-2", 5).unwrap(), Some((3, 4)));
        assert_eq!(range("bytes=-99", 5).unwrap(), Some((0, 4)));
        assert_eq!(range("bytes=0-0,2-3", 5).unwrap(), None);
        assert_eq!(range("items=0-1", 5).unwrap(), None);
        assert_eq!(range("bytes=3-1", 5).unwrap(), None);
        for unsatisfiable in ["bytes=5-", "bytes=10-20", "bytes=-0"] {
            assert_eq!(range(unsatisfiable, 5).unwrap_err().code, "InvalidRange");
        }
        assert_eq!(range("bytes=0-", 0).unwrap_err().code, "InvalidRange");
    }

    #[test]
    fn stored_headers_drop_aws_chunked_and_default_the_content_type() {
        let mut headers = HeaderMap::new();
        headers.insert("content-encoding", HeaderValue::from_static("aws-chunked"));
        headers.insert("x-amz-meta-Origin", HeaderValue::from_static("stripe"));
        headers.insert("authorization", HeaderValue::from_static("secret"));
        assert_eq!(
            headers_to_store(&headers).unwrap(),
            vec![
                ("x-amz-meta-origin".to_owned(), "stripe".to_owned()),
                ("content-type".to_owned(), DEFAULT_CONTENT_TYPE.to_owned()),
            ]
        );
        headers.insert(
            "content-encoding",
            HeaderValue::from_static("gzip, aws-chunked"),
        );
        headers.insert(
            "x-amz-meta-big",
            HeaderValue::from_str(&"x".repeat(2048)).unwrap(),
        );
        assert_eq!(
            headers_to_store(&headers).unwrap_err().code,
            "MetadataTooLarge"
        );
    }
}
