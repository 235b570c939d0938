//! CreateBucket, HeadBucket, DeleteBucket, ListBuckets and ListObjectsV2 (S3 API Reference,
//! each operation's page).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as TOKEN;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::store::{self, ObjectMeta};
use super::xml::Doc;
use super::{Objects, S3Error, validate_bucket_name};
use crate::aws_local::{ACCOUNT_ID, REGION};

/// CreateBucket. Creating a bucket one already owns answers 200: "For legacy compatibility, if
/// you re-create an existing bucket that you already own in the North Virginia Region, Amazon
/// S3 returns 200 OK" (CreateBucket, `BucketAlreadyOwnedByYou`), and the local stack is
/// us-east-1 ([`REGION`]); moto does the same. The request's `CreateBucketConfiguration` is
/// not read.
pub async fn create(objects: &Objects, bucket: &str) -> Result<Response, S3Error> {
    validate_bucket_name(bucket)?;
    objects.create_bucket(bucket).await?;
    Ok((StatusCode::OK, [("location", format!("/{bucket}"))]).into_response())
}

/// HeadBucket: 200 with the bucket's region, or 404 without a body.
pub async fn head(objects: &Objects, bucket: &str) -> Result<Response, S3Error> {
    let name = bucket.to_owned();
    objects.call(move |s| s.require_bucket(&name)).await?;
    Ok((StatusCode::OK, [("x-amz-bucket-region", REGION)]).into_response())
}

/// DeleteBucket: 204, `BucketNotEmpty` while it holds objects.
pub async fn delete(objects: &Objects, bucket: &str) -> Result<Response, S3Error> {
    let name = bucket.to_owned();
    objects.call(move |s| s.delete_bucket(&name)).await?;
    // Empty but for files of puts that never committed; what stays is swept at the next start.
    let _ = std::fs::remove_dir_all(objects.root().join(bucket));
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn iso8601(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn xml_response(doc: Doc) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/xml")],
        doc.finish(),
    )
        .into_response()
}

/// ListBuckets.
pub async fn list_buckets(objects: &Objects) -> Result<Response, S3Error> {
    let buckets = objects.call(|s| s.list_buckets()).await?;
    let mut doc = Doc::new("ListAllMyBucketsResult", true);
    doc.open("Buckets");
    for (name, created_ms) in buckets {
        doc.open("Bucket");
        doc.text("Name", &name);
        doc.text("CreationDate", &iso8601(created_ms));
        doc.text("BucketRegion", REGION);
        doc.close();
    }
    doc.close();
    doc.open("Owner");
    doc.text("ID", ACCOUNT_ID);
    doc.close();
    Ok(xml_response(doc))
}

/// What `encoding-type=url` leaves as it is: RFC 3986's unreserved characters and `/`.
const URL_ENCODED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// ListObjectsV2's parameters.
#[derive(Debug, Default)]
pub struct ListParams {
    prefix: String,
    delimiter: Option<String>,
    max_keys: usize,
    continuation_token: Option<String>,
    start_after: Option<String>,
    url_encoded: bool,
}

/// The most keys one page holds: "returns up to 1,000 key names" (ListObjectsV2 `max-keys`).
const MAX_KEYS: usize = 1000;

impl ListParams {
    /// From the query's parameters.
    pub fn parse(query: &[(String, String)]) -> Result<ListParams, S3Error> {
        let get = |name: &str| {
            query
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let max_keys = match get("max-keys") {
            None => MAX_KEYS,
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    S3Error::invalid_argument(
                        "Provided max-keys not an integer or within integer range",
                    )
                })?
                .min(MAX_KEYS as i64) as usize,
        };
        let url_encoded = match get("encoding-type").as_deref() {
            None => false,
            Some(t) if t.eq_ignore_ascii_case("url") => true,
            Some(_) => {
                return Err(S3Error::invalid_argument(
                    "Invalid Encoding Method specified in Request",
                ));
            }
        };
        Ok(ListParams {
            prefix: get("prefix").unwrap_or_default(),
            delimiter: get("delimiter").filter(|d| !d.is_empty()),
            max_keys,
            continuation_token: get("continuation-token"),
            start_after: get("start-after"),
            url_encoded,
        })
    }
}

/// Where a page starts: after a key, or after every key under a common prefix.
#[derive(Debug, Clone, PartialEq)]
enum After {
    Key(String),
    Prefix(String),
}

impl After {
    fn token(&self) -> String {
        let text = match self {
            After::Key(key) => format!("k{key}"),
            After::Prefix(prefix) => format!("p{prefix}"),
        };
        TOKEN.encode(text)
    }

    fn from_token(token: &str) -> Option<After> {
        let text = String::from_utf8(TOKEN.decode(token).ok()?).ok()?;
        match text.split_at_checked(1)? {
            ("k", key) => Some(After::Key(key.to_owned())),
            ("p", prefix) => Some(After::Prefix(prefix.to_owned())),
            _ => None,
        }
    }

    fn passes(&self, key: &str) -> bool {
        match self {
            After::Key(after) => key > after.as_str(),
            After::Prefix(prefix) => !key.starts_with(prefix.as_str()) && key > prefix.as_str(),
        }
    }

    fn start(&self) -> &str {
        match self {
            After::Key(s) | After::Prefix(s) => s,
        }
    }
}

enum Entry {
    Object(String, ObjectMeta),
    CommonPrefix(String),
}

/// One page of ListObjectsV2: the entries and whether more follow.
fn page(s: &store::Store, bucket: &str, p: &ListParams) -> Result<(Vec<Entry>, bool), S3Error> {
    s.require_bucket(bucket)?;
    let after = match &p.continuation_token {
        Some(token) => Some(After::from_token(token).ok_or_else(|| {
            S3Error::invalid_argument("The continuation token provided is incorrect")
        })?),
        None => p.start_after.clone().map(After::Key),
    };
    let from = match &after {
        Some(after) if after.start() > p.prefix.as_str() => after.start().to_owned(),
        _ => p.prefix.clone(),
    };
    let (mut entries, mut truncated) = (Vec::new(), false);
    s.scan(bucket, &from, |key, meta| {
        if !key.starts_with(&p.prefix) {
            return false; // past every key under the prefix
        }
        if after.as_ref().is_some_and(|a| !a.passes(&key)) {
            return true;
        }
        let rest = &key[p.prefix.len()..];
        let common = p.delimiter.as_deref().and_then(|d| {
            rest.find(d)
                .map(|i| key[..p.prefix.len() + i + d.len()].to_owned())
        });
        if let (Some(prefix), Some(Entry::CommonPrefix(last))) = (&common, entries.last())
            && prefix == last
        {
            return true;
        }
        if entries.len() == p.max_keys {
            truncated = p.max_keys > 0;
            return false;
        }
        entries.push(match common {
            Some(prefix) => Entry::CommonPrefix(prefix),
            None => Entry::Object(key, meta),
        });
        true
    })?;
    Ok((entries, truncated))
}

/// ListObjectsV2 with `prefix`, `delimiter`, `max-keys`, `continuation-token`, `start-after`
/// and `encoding-type=url` (which boto3 and the aws CLI send).
pub async fn list_objects_v2(
    objects: &Objects,
    bucket: &str,
    params: ListParams,
) -> Result<Response, S3Error> {
    let name = bucket.to_owned();
    let (params, entries, truncated) = objects
        .call(move |s| {
            let (entries, truncated) = page(s, &name, &params)?;
            Ok((params, entries, truncated))
        })
        .await?;
    let encode = |text: &str| {
        if params.url_encoded {
            utf8_percent_encode(text, URL_ENCODED).to_string()
        } else {
            text.to_owned()
        }
    };
    let mut doc = Doc::new("ListBucketResult", true);
    doc.text("Name", bucket);
    doc.text("Prefix", &encode(&params.prefix));
    if let Some(delimiter) = &params.delimiter {
        doc.text("Delimiter", &encode(delimiter));
    }
    doc.text("MaxKeys", &params.max_keys.to_string());
    if params.url_encoded {
        doc.text("EncodingType", "url");
    }
    doc.text("KeyCount", &entries.len().to_string());
    doc.text("IsTruncated", if truncated { "true" } else { "false" });
    if let Some(token) = &params.continuation_token {
        doc.text("ContinuationToken", token);
    }
    if let Some(start_after) = &params.start_after {
        doc.text("StartAfter", &encode(start_after));
    }
    if truncated {
        let last = match entries.last() {
            Some(Entry::Object(key, _)) => After::Key(key.clone()),
            Some(Entry::CommonPrefix(prefix)) => After::Prefix(prefix.clone()),
            None => After::Key(String::new()),
        };
        doc.text("NextContinuationToken", &last.token());
    }
    for entry in &entries {
        match entry {
            Entry::Object(key, meta) => {
                doc.open("Contents");
                doc.text("Key", &encode(key));
                doc.text("LastModified", &iso8601(meta.modified_ms));
                doc.text("ETag", &format!("\"{}\"", meta.etag));
                doc.text("ChecksumAlgorithm", meta.checksum.0.name());
                doc.text("ChecksumType", "FULL_OBJECT");
                doc.text("Size", &meta.size.to_string());
                doc.text("StorageClass", "STANDARD");
                doc.close();
            }
            Entry::CommonPrefix(prefix) => {
                doc.open("CommonPrefixes");
                doc.text("Prefix", &encode(prefix));
                doc.close();
            }
        }
    }
    Ok(xml_response(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_tokens_round_trip_and_bad_ones_are_refused() {
        for after in [After::Key("a/b c".into()), After::Prefix("logs/".into())] {
            assert_eq!(After::from_token(&after.token()), Some(after));
        }
        assert_eq!(After::from_token("!!"), None);
        assert_eq!(After::from_token(&TOKEN.encode("xkey")), None);
        assert!(After::Prefix("a/".into()).passes("b"));
        assert!(!After::Prefix("a/".into()).passes("a/z"));
        assert!(!After::Key("b".into()).passes("b"));
    }

    #[test]
    fn list_parameters_are_checked_as_s3_checks_them() {
        let q = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let p = ListParams::parse(&q(&[("max-keys", "5000"), ("delimiter", "")])).unwrap();
        assert_eq!((p.max_keys, p.delimiter), (1000, None));
        for bad in [
            ("max-keys", "-1"),
            ("max-keys", "x"),
            ("encoding-type", "base64"),
        ] {
            assert_eq!(
                ListParams::parse(&q(&[bad])).unwrap_err().code,
                "InvalidArgument"
            );
        }
    }
}
