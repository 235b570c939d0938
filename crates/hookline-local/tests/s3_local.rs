//! The local S3 endpoint on its own: what it refuses and how, S3's documented checks moto does
//! not make, bodies over raw HTTP (signed aws-chunked with trailers), the stack's bucket, and
//! boto3. Durability is in `s3_durability.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod endpoint_process;
mod s3_target;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketVersioningStatus, ChecksumMode, Delete, ObjectIdentifier, VersioningConfiguration,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hookline_local::endpoint::AwsEndpoint;
use hookline_local::s3::checksum::Algorithm;
use md5::Digest;
use s3_target::{Target, binary, code_and_message, raw};

/// Every operation it does not serve is `NotImplemented` (501) with a message naming the
/// operation and what is served, and changes nothing.
#[tokio::test]
async fn what_is_not_implemented_is_refused_by_name() {
    let t = Target::local().await;
    let (c, b) = (&t.client, t.bucket.as_str());
    let versioning = VersioningConfiguration::builder()
        .status(BucketVersioningStatus::Enabled)
        .build();
    let delete = Delete::builder()
        .objects(ObjectIdentifier::builder().key("k").build().unwrap())
        .build()
        .unwrap();
    let copy = c
        .copy_object()
        .bucket(b)
        .key("copy")
        .copy_source(format!("{b}/k"));
    let refused = [
        (
            "CreateMultipartUpload",
            code_and_message(
                &c.create_multipart_upload()
                    .bucket(b)
                    .key("k")
                    .send()
                    .await
                    .unwrap_err(),
            ),
        ),
        (
            "CopyObject",
            code_and_message(&copy.send().await.unwrap_err()),
        ),
        (
            "GetObjectAcl",
            code_and_message(
                &c.get_object_acl()
                    .bucket(b)
                    .key("k")
                    .send()
                    .await
                    .unwrap_err(),
            ),
        ),
        (
            "PutBucketVersioning",
            code_and_message(
                &c.put_bucket_versioning()
                    .bucket(b)
                    .versioning_configuration(versioning)
                    .send()
                    .await
                    .unwrap_err(),
            ),
        ),
        (
            "DeleteObjects",
            code_and_message(
                &c.delete_objects()
                    .bucket(b)
                    .delete(delete)
                    .send()
                    .await
                    .unwrap_err(),
            ),
        ),
        (
            "ListObjects, version 1",
            code_and_message(&c.list_objects().bucket(b).send().await.unwrap_err()),
        ),
        (
            "GetBucketLocation",
            code_and_message(&c.get_bucket_location().bucket(b).send().await.unwrap_err()),
        ),
    ];
    for (operation, (code, message)) in refused {
        assert_eq!(code, "NotImplemented", "{operation}: {message}");
        assert!(
            message.starts_with(&format!(
                "hookline's local S3 endpoint does not implement {operation}"
            )),
            "{message}"
        );
        assert!(
            message.ends_with("it serves only CreateBucket, HeadBucket, DeleteBucket, ListBuckets, ListObjectsV2, PutObject, GetObject, HeadObject, DeleteObject"),
            "{message}"
        );
    }
    let listed = t.client.list_objects_v2().bucket(b).send().await.unwrap();
    assert_eq!(listed.key_count(), Some(0), "nothing was written");

    // Over plain HTTP: S3's XML error with the resource and the request id of the header.
    let answer = raw(&t.endpoint, "GET", &format!("/{b}?acl"), &[], b"").await;
    assert_eq!(answer.status, 501);
    assert_eq!(answer.headers["content-type"], "application/xml");
    let id = &answer.headers["x-amz-request-id"];
    let text = answer.text();
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NotImplemented</Code><Message>hookline's local S3 endpoint does not implement GetBucketAcl (`GET /"), "{text}");
    assert!(
        text.ends_with(&format!(
            "<Resource>/{b}</Resource><RequestId>{id}</RequestId></Error>"
        )),
        "{text}"
    );
    let answer = raw(&t.endpoint, "POST", &format!("/{b}/k?uploads"), &[], b"").await;
    assert_eq!(answer.status, 501);
    assert!(
        answer.text().contains("CreateMultipartUpload"),
        "{}",
        answer.text()
    );
    let answer = raw(&t.endpoint, "OPTIONS", &format!("/{b}/k"), &[], b"").await;
    assert_eq!(answer.status, 501);
    let answer = raw(
        &t.endpoint,
        "GET",
        &format!("/{b}/k"),
        &[("If-None-Match", "\"x\"")],
        b"",
    )
    .await;
    assert_eq!(answer.status, 501);
    assert!(
        answer
            .text()
            .contains("conditional requests (If-None-Match)"),
        "{}",
        answer.text()
    );
}

/// HEAD errors have no body; GET errors name the key; a request without `X-Amz-Target` on
/// `POST /` is still SQS's (its old query protocol), which S3 never sends.
#[tokio::test]
async fn error_shapes_over_plain_http() {
    let t = Target::local().await;
    let answer = raw(
        &t.endpoint,
        "HEAD",
        &format!("/{}/missing", t.bucket),
        &[],
        b"",
    )
    .await;
    assert_eq!(answer.status, 404);
    assert!(answer.body.is_empty());
    assert!(answer.headers.contains_key("x-amz-request-id"));
    let answer = raw(
        &t.endpoint,
        "GET",
        &format!("/{}/missing%20key", t.bucket),
        &[],
        b"",
    )
    .await;
    assert_eq!(answer.status, 404);
    assert!(answer.text().contains("<Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>missing key</Key>"), "{}", answer.text());
    let answer = raw(&t.endpoint, "GET", "/no-such-bucket/k", &[], b"").await;
    assert!(
        answer.text().contains("<Code>NoSuchBucket</Code>"),
        "{}",
        answer.text()
    );
    let answer = raw(&t.endpoint, "GET", &format!("/{}/%FF", t.bucket), &[], b"").await;
    assert_eq!(
        (answer.status, answer.text().contains("InvalidURI")),
        (400, true)
    );
    let answer = raw(
        &t.endpoint,
        "POST",
        "/",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"Action=ListQueues",
    )
    .await;
    assert_eq!(answer.status, 400);
    assert!(
        answer
            .text()
            .contains("com.amazonaws.sqs#UnsupportedOperation"),
        "{}",
        answer.text()
    );
}

/// S3's limits and checks that moto does not make (moto 5.2 stores all of these).
#[tokio::test]
async fn s3_limits_moto_does_not_check() {
    let t = Target::local().await;
    let put = |key: String| {
        t.client
            .put_object()
            .bucket(&t.bucket)
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
    };
    // "at most 1,024 bytes long" in UTF-8 (User Guide, "Naming Amazon S3 objects").
    put("é".repeat(512)).await.unwrap();
    let err = put(format!("a{}", "é".repeat(512))).await.unwrap_err();
    assert_eq!(code_and_message(&err).0, "KeyTooLongError");
    let err = t
        .client
        .put_object()
        .bucket(&t.bucket)
        .key("meta")
        .metadata("big", "x".repeat(2046))
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_and_message(&err).0, "MetadataTooLarge");
    for name in ["a..b", "-ab", "192.168.5.4", "xn--abc"] {
        let err = t
            .client
            .create_bucket()
            .bucket(name)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code_and_message(&err).0, "InvalidBucketName", "{name}");
    }
    // Refused from its Content-Length, before the body is read.
    let answer = raw(
        &t.endpoint,
        "PUT",
        &format!("/{}/huge", t.bucket),
        &[(
            "Content-Length",
            &(hookline_local::s3::MAX_OBJECT_BYTES + 1).to_string(),
        )],
        b"",
    )
    .await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.text().contains("<Code>EntityTooLarge</Code>"),
        "{}",
        answer.text()
    );
}

fn md5_b64(body: &[u8]) -> String {
    BASE64.encode(md5::Md5::digest(body))
}

/// Integrity values over raw HTTP, as S3 checks them (User Guide, "Checking object integrity");
/// a refused put stores nothing. A signed aws-chunked body with a trailer
/// (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`) has its chunk signatures stripped.
#[tokio::test]
async fn digests_and_checksums_over_raw_http() {
    let t = Target::local().await;
    let path = format!("/{}/raw", t.bucket);
    let put = |headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let (endpoint, path) = (t.endpoint.clone(), path.clone());
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            raw(&endpoint, "PUT", &path, &headers, &body).await
        }
    };
    let refusals = [
        (
            vec![("x-amz-checksum-crc32", Algorithm::Crc32.compute(b"other"))],
            "BadDigest",
        ),
        (
            vec![("x-amz-checksum-crc32c", "AAAA".to_owned())],
            "InvalidRequest",
        ),
        (vec![("Content-MD5", md5_b64(b"other"))], "BadDigest"),
        (
            vec![("Content-MD5", "not-an-md5".to_owned())],
            "InvalidDigest",
        ),
        (
            vec![("x-amz-content-sha256", "0".repeat(64))],
            "XAmzContentSHA256Mismatch",
        ),
        (
            vec![
                ("x-amz-checksum-sha1", Algorithm::Sha1.compute(b"body")),
                ("x-amz-checksum-crc32", Algorithm::Crc32.compute(b"body")),
            ],
            "InvalidRequest",
        ),
    ];
    for (headers, code) in refusals {
        let answer = put(headers.clone(), b"body".to_vec()).await;
        assert_eq!(answer.status, 400, "{headers:?}");
        assert!(
            answer.text().contains(&format!("<Code>{code}</Code>")),
            "{headers:?}: {}",
            answer.text()
        );
    }
    let answer = raw(&t.endpoint, "HEAD", &path, &[], b"").await;
    assert_eq!(answer.status, 404, "a refused put stores nothing");

    // No checksum sent: S3 computes CRC64NVME; no Content-Type: binary/octet-stream.
    let answer = put(vec![("Content-MD5", md5_b64(b"body"))], b"body".to_vec()).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.headers["x-amz-checksum-crc64nvme"],
        Algorithm::Crc64Nvme.compute(b"body")
    );
    let answer = raw(
        &t.endpoint,
        "GET",
        &path,
        &[("x-amz-checksum-mode", "ENABLED")],
        b"",
    )
    .await;
    assert_eq!(answer.body, b"body");
    assert_eq!(answer.headers["content-type"], "binary/octet-stream");
    assert_eq!(
        answer.headers["x-amz-checksum-crc64nvme"],
        Algorithm::Crc64Nvme.compute(b"body")
    );
    assert_eq!(
        answer.headers["etag"],
        format!("\"{}\"", hex::encode(md5::Md5::digest(b"body")))
    );

    // Signed chunks (8 KiB and the rest) with a CRC32C trailer and its signature.
    let data = binary(10_000, 4);
    let sig = |n: u8| format!("chunk-signature={}", hex::encode([n; 32]));
    let chunked = |crc: &str| {
        let mut body = format!("2000;{}\r\n", sig(1)).into_bytes();
        body.extend_from_slice(&data[..8192]);
        body.extend_from_slice(format!("\r\n{:x};{}\r\n", data.len() - 8192, sig(2)).as_bytes());
        body.extend_from_slice(&data[8192..]);
        body.extend_from_slice(
            format!(
                "\r\n0;{}\r\nx-amz-checksum-crc32c:{crc}\r\nx-amz-trailer-signature:{}\r\n\r\n",
                sig(3),
                hex::encode([4u8; 32])
            )
            .as_bytes(),
        );
        body
    };
    let streaming = vec![
        (
            "x-amz-content-sha256",
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER".to_owned(),
        ),
        ("Content-Encoding", "aws-chunked".to_owned()),
        ("x-amz-decoded-content-length", data.len().to_string()),
        ("x-amz-trailer", "x-amz-checksum-crc32c".to_owned()),
        ("Content-Type", "application/octet-stream".to_owned()),
    ];
    let answer = put(
        streaming.clone(),
        chunked(&Algorithm::Crc32c.compute(b"nope")),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert!(
        answer
            .text()
            .contains("The CRC32C you specified did not match the calculated checksum."),
        "{}",
        answer.text()
    );
    let answer = put(
        streaming.clone(),
        chunked(&Algorithm::Crc32c.compute(&data)),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let object = t
        .client
        .get_object()
        .bucket(&t.bucket)
        .key("raw")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(
        object.checksum_crc32_c(),
        Some(Algorithm::Crc32c.compute(&data).as_str())
    );
    assert_eq!(object.content_encoding(), None);
    assert!(object.body.collect().await.unwrap().into_bytes().to_vec() == data);
}

/// The stack makes its bucket in process; the SDK sees it.
#[tokio::test]
async fn the_stack_creates_its_bucket_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let server = AwsEndpoint::start("127.0.0.1:0".parse().unwrap(), dir.path())
        .await
        .unwrap();
    server
        .objects()
        .create_bucket("shop-local-deliveries")
        .await
        .unwrap();
    server
        .objects()
        .create_bucket("shop-local-deliveries")
        .await
        .unwrap();
    let err = server.objects().create_bucket("Shop").await.unwrap_err();
    assert_eq!(err.code, "InvalidBucketName");
    let client = s3_target::client(&server.endpoint(), false).await;
    client
        .head_bucket()
        .bucket("shop-local-deliveries")
        .send()
        .await
        .unwrap();
}

/// boto3, unchanged (it computes a CRC32 for every upload and checks the one of every
/// download): put, get, head, list, delete, errors and the managed transfer.
#[tokio::test]
async fn boto3_works_against_the_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let server = AwsEndpoint::start("127.0.0.1:0".parse().unwrap(), dir.path())
        .await
        .unwrap();
    endpoint_process::boto3("boto3_s3.py", &server.endpoint(), "boto3 s3 ok").await;
    server.shutdown().await;
}
