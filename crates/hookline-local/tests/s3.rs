//! The local S3 endpoint against moto's S3, the reference: each case runs on both through
//! aws-sdk-s3, unchanged, with what a claim check does (put a body, read it back byte for byte
//! with the SDK's checksum validation, delete it) and the errors callers branch on. Where moto
//! and S3's documentation differ the case says so and each backend is held to what it does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod s3_target;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ChecksumMode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::Digest;
use s3_target::{Target, binary, code_and_message};

on_both!(
    bodies_come_back_byte_for_byte_with_their_metadata,
    a_streaming_body_is_sent_aws_chunked_and_comes_back,
    deletes_answer_204_also_for_a_missing_key,
    missing_keys_and_buckets_are_the_errors_the_sdk_parses,
    a_checksum_given_by_the_caller_is_checked,
    a_range_is_206_with_its_content_range,
    listing_pages_by_prefix_delimiter_and_continuation,
    keys_with_any_utf8_round_trip,
    buckets_are_created_idempotently_and_deleted_only_when_empty,
);

async fn put(
    t: &Target,
    key: &str,
    body: Vec<u8>,
) -> aws_sdk_s3::operation::put_object::PutObjectOutput {
    t.client
        .put_object()
        .bucket(&t.bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .unwrap()
}

fn etag(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(md5::Md5::digest(body)))
}

async fn bodies_come_back_byte_for_byte_with_their_metadata(t: Target) {
    let three = binary(3 * 1024 * 1024, 3);
    let five_and_a_half = binary(5 * 1024 * 1024 + 512 * 1024, 55);
    let json = br#"{"id":"evt_1","type":"payment_intent.succeeded","amount":1099}"#.to_vec();
    for (key, body) in [("bin/3mib", &three), ("bin/5.5mib", &five_and_a_half)] {
        let put = put(&t, key, body.clone()).await;
        assert_eq!(put.e_tag(), Some(etag(body).as_str()), "{key}");
        // aws-sdk-s3 sent a CRC32 (its default) and the answer carries it back.
        assert!(put.checksum_crc32().is_some(), "{key}");
        assert!(t.get(key).await == *body, "{key} came back changed");
    }
    t.client
        .put_object()
        .bucket(&t.bucket)
        .key("stripe/2026-01-01/evt_1.json")
        .body(ByteStream::from(json.clone()))
        .content_type("application/json")
        .metadata("sha256", "abc123")
        .metadata("provider", "stripe")
        .send()
        .await
        .unwrap();
    let got = t
        .client
        .get_object()
        .bucket(&t.bucket)
        .key("stripe/2026-01-01/evt_1.json")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("application/json"));
    assert_eq!(got.content_length(), Some(json.len() as i64));
    assert_eq!(got.e_tag(), Some(etag(&json).as_str()));
    assert!(got.checksum_crc32().is_some());
    let metadata = got.metadata().unwrap();
    assert_eq!(metadata.get("sha256").map(String::as_str), Some("abc123"));
    assert_eq!(metadata.get("provider").map(String::as_str), Some("stripe"));
    assert!(got.last_modified().is_some());
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().to_vec(),
        json
    );

    let head = t
        .client
        .head_object()
        .bucket(&t.bucket)
        .key("bin/5.5mib")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(five_and_a_half.len() as i64));
    assert_eq!(head.e_tag(), Some(etag(&five_and_a_half).as_str()));
    // aws-sdk-s3 sends a ByteStream's Content-Type as application/octet-stream.
    assert_eq!(head.content_type(), Some("application/octet-stream"));
    assert!(head.checksum_crc32().is_some());
}

async fn a_streaming_body_is_sent_aws_chunked_and_comes_back(t: Target) {
    // A body from a file has no bytes in memory: aws-sdk-s3 sends it `aws-chunked` with
    // `STREAMING-UNSIGNED-PAYLOAD-TRAILER` and its CRC32 in a trailer.
    let body = binary(5 * 1024 * 1024 + 512 * 1024, 7);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &body).unwrap();
    let put = t
        .client
        .put_object()
        .bucket(&t.bucket)
        .key("streamed")
        .body(ByteStream::from_path(file.path()).await.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(put.e_tag(), Some(etag(&body).as_str()));
    assert!(
        t.get("streamed").await == body,
        "the streamed body came back changed"
    );
    let head = t
        .client
        .head_object()
        .bucket(&t.bucket)
        .key("streamed")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(body.len() as i64));
    // "aws-chunked" is how it travelled, not how it is stored.
    assert_eq!(head.content_encoding(), None);
}

async fn deletes_answer_204_also_for_a_missing_key(t: Target) {
    put(&t, "k", b"x".to_vec()).await;
    t.client
        .delete_object()
        .bucket(&t.bucket)
        .key("k")
        .send()
        .await
        .unwrap();
    let err = t
        .client
        .get_object()
        .bucket(&t.bucket)
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_no_such_key());
    t.client
        .delete_object()
        .bucket(&t.bucket)
        .key("never")
        .send()
        .await
        .unwrap();
}

async fn missing_keys_and_buckets_are_the_errors_the_sdk_parses(t: Target) {
    let err = t
        .client
        .get_object()
        .bucket(&t.bucket)
        .key("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_and_message(&err).0, "NoSuchKey");
    assert!(err.into_service_error().is_no_such_key());
    // HEAD has no body: the SDK knows a 404 only as NotFound.
    let err = t
        .client
        .head_object()
        .bucket(&t.bucket)
        .key("nope")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found());
    let err = t
        .client
        .get_object()
        .bucket("no-such-bucket-here")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_and_message(&err).0, "NoSuchBucket");
    let err = t
        .client
        .put_object()
        .bucket("no-such-bucket-here")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_and_message(&err).0, "NoSuchBucket");
    let err = t
        .client
        .head_bucket()
        .bucket("no-such-bucket-here")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found());
    let err = t
        .client
        .list_objects_v2()
        .bucket("no-such-bucket-here")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_no_such_bucket());
}

async fn a_checksum_given_by_the_caller_is_checked(t: Target) {
    let body = b"{\"claim\":\"check\"}".to_vec();
    let sha256 = |b: &[u8]| BASE64.encode(sha2::Sha256::digest(b));
    let put = t
        .client
        .put_object()
        .bucket(&t.bucket)
        .key("right")
        .body(ByteStream::from(body.clone()))
        .checksum_sha256(sha256(&body))
        .send()
        .await
        .unwrap();
    let got = t
        .client
        .get_object()
        .bucket(&t.bucket)
        .key("right")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    if t.is_moto() {
        // moto 5.2 keeps a checksum only when `x-amz-sdk-checksum-algorithm` names it, which
        // the SDK leaves out when the caller gives the value.
        assert_eq!((put.checksum_sha256(), got.checksum_sha256()), (None, None));
    } else {
        // S3 stores the checksum sent and returns it (PutObject and GetObject,
        // `ChecksumSHA256`).
        assert_eq!(put.checksum_sha256(), Some(sha256(&body).as_str()));
        assert_eq!(got.checksum_sha256(), Some(sha256(&body).as_str()));
    }
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().to_vec(),
        body
    );

    let wrong = t
        .client
        .put_object()
        .bucket(&t.bucket)
        .key("wrong")
        .body(ByteStream::from(body.clone()))
        .checksum_sha256(sha256(b"another body"))
        .send()
        .await;
    if t.is_moto() {
        // moto 5.2 computes no checksum, so it takes a wrong one (and stores the object); S3
        // refuses: "If the values don't match, the request is rejected" (User
        // Guide, "Checking object integrity for data uploads").
        assert!(wrong.is_ok(), "moto began checking checksums: {wrong:?}");
    } else {
        let (code, message) = code_and_message(&wrong.unwrap_err());
        assert_eq!(
            (code.as_str(), message.as_str()),
            (
                "BadDigest",
                "The SHA256 you specified did not match the calculated checksum."
            )
        );
        let err = t
            .client
            .head_object()
            .bucket(&t.bucket)
            .key("wrong")
            .send()
            .await
            .unwrap_err();
        assert!(
            err.into_service_error().is_not_found(),
            "a refused put stores nothing"
        );
    }
}

async fn a_range_is_206_with_its_content_range(t: Target) {
    let body = binary(1000, 9);
    put(&t, "ranged", body.clone()).await;
    let got = t
        .client
        .get_object()
        .bucket(&t.bucket)
        .key("ranged")
        .range("bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_range(), Some("bytes 100-199/1000"));
    assert_eq!(got.content_length(), Some(100));
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().to_vec(),
        body[100..200]
    );
    let err = t
        .client
        .get_object()
        .bucket(&t.bucket)
        .key("ranged")
        .range("bytes=1000-")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_and_message(&err).0, "InvalidRange");
}

async fn listing_pages_by_prefix_delimiter_and_continuation(t: Target) {
    for key in ["a/1", "a/2", "a/3", "a/sub/4", "b/5", "c"] {
        put(&t, key, key.as_bytes().to_vec()).await;
    }
    let page = t
        .client
        .list_objects_v2()
        .bucket(&t.bucket)
        .prefix("a/")
        .max_keys(2)
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = page.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["a/1", "a/2"]);
    assert_eq!(page.is_truncated(), Some(true));
    assert_eq!(page.key_count(), Some(2));
    assert_eq!(page.contents()[0].size(), Some(3));
    assert_eq!(page.contents()[0].e_tag(), Some(etag(b"a/1").as_str()));
    let next = t
        .client
        .list_objects_v2()
        .bucket(&t.bucket)
        .prefix("a/")
        .max_keys(2)
        .continuation_token(page.next_continuation_token().unwrap())
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = next.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["a/3", "a/sub/4"]);
    assert_eq!(next.is_truncated(), Some(false));

    // `aws s3 ls s3://bucket/`: one level, the deeper keys as common prefixes.
    let top = t
        .client
        .list_objects_v2()
        .bucket(&t.bucket)
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = top.contents().iter().filter_map(|o| o.key()).collect();
    let prefixes: Vec<&str> = top
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!((keys, prefixes), (vec!["c"], vec!["a/", "b/"]));

    // The SDK's paginator, one key a page, walks everything once.
    let mut all = Vec::new();
    let mut pages = t
        .client
        .list_objects_v2()
        .bucket(&t.bucket)
        .max_keys(1)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        all.extend(
            page.unwrap()
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
    }
    assert_eq!(all, ["a/1", "a/2", "a/3", "a/sub/4", "b/5", "c"]);
}

async fn keys_with_any_utf8_round_trip(t: Target) {
    let keys = [
        "with space/and+plus",
        "ünïcödé/€/日本",
        "a/../../escape",
        "percent%2F and ?query#fragment",
        "trailing/",
    ];
    for key in keys {
        put(&t, key, key.as_bytes().to_vec()).await;
        assert_eq!(t.get(key).await, key.as_bytes(), "{key}");
    }
    let listed = t
        .client
        .list_objects_v2()
        .bucket(&t.bucket)
        .send()
        .await
        .unwrap();
    let mut listed: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    listed.sort_unstable();
    let mut expected = keys.to_vec();
    expected.sort_unstable();
    assert_eq!(listed, expected);
}

async fn buckets_are_created_idempotently_and_deleted_only_when_empty(t: Target) {
    // us-east-1 answers 200 to re-creating one's own bucket (CreateBucket,
    // BucketAlreadyOwnedByYou: "For legacy compatibility ... returns 200 OK").
    t.client
        .create_bucket()
        .bucket(&t.bucket)
        .send()
        .await
        .unwrap();
    t.client
        .head_bucket()
        .bucket(&t.bucket)
        .send()
        .await
        .unwrap();
    put(&t, "k", b"x".to_vec()).await;
    let err = t
        .client
        .delete_bucket()
        .bucket(&t.bucket)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_and_message(&err).0, "BucketNotEmpty");
    t.client
        .delete_object()
        .bucket(&t.bucket)
        .key("k")
        .send()
        .await
        .unwrap();
    t.client
        .delete_bucket()
        .bucket(&t.bucket)
        .send()
        .await
        .unwrap();
    let err = t
        .client
        .head_bucket()
        .bucket(&t.bucket)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found());
    let invalid = t.client.create_bucket().bucket("Not_Valid").send().await;
    if t.is_moto() {
        // moto 5.2 checks a name's length only; S3's rules allow no capital or underscore
        // (User Guide, "General purpose bucket naming rules").
        assert!(
            invalid.is_ok(),
            "moto began checking bucket names: {invalid:?}"
        );
    } else {
        assert_eq!(
            code_and_message(&invalid.unwrap_err()).0,
            "InvalidBucketName"
        );
    }
    let buckets = t.client.list_buckets().send().await.unwrap();
    assert!(
        !buckets
            .buckets()
            .iter()
            .any(|b| b.name() == Some(t.bucket.as_str()))
    );
}

/// Without `force_path_style`, as the functions' clients are built: the SDK's endpoint rules
/// address an IP endpoint path-style (`http://127.0.0.1:<port>/<bucket>/<key>`), which both
/// serve; a `localhost` endpoint would get virtual-hosted names (`<bucket>.localhost`), which
/// is why the stack hands out `127.0.0.1`.
#[tokio::test]
async fn an_ip_endpoint_is_addressed_path_style_without_forcing_it() {
    use aws_sdk_s3::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
    let resolve = |endpoint: &str| {
        let params = Params::builder()
            .bucket("claims")
            .region("us-east-1")
            .endpoint(endpoint)
            .build()
            .unwrap();
        async move {
            DefaultResolver::new()
                .resolve_endpoint(&params)
                .await
                .unwrap()
                .url()
                .to_owned()
        }
    };
    assert_eq!(
        resolve("http://127.0.0.1:9324").await,
        "http://127.0.0.1:9324/claims"
    );
    assert_eq!(
        resolve("http://localhost:9324").await,
        "http://claims.localhost:9324"
    );
    for t in [
        Target::moto_with(false).await,
        Target::local_with(false).await,
    ] {
        put(&t, "k/1", b"one".to_vec()).await;
        assert_eq!(t.get("k/1").await, b"one");
        let listed = t
            .client
            .list_objects_v2()
            .bucket(&t.bucket)
            .send()
            .await
            .unwrap();
        assert_eq!(listed.key_count(), Some(1));
        t.client
            .delete_object()
            .bucket(&t.bucket)
            .key("k/1")
            .send()
            .await
            .unwrap();
    }
}
