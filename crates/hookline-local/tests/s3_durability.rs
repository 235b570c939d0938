//! The local S3 endpoint's durability: an acknowledged put survives `kill -9` of the process
//! serving it, and a put cut off mid-way (over raw TCP) leaves nothing visible.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod endpoint_process;
mod s3_target;

use aws_sdk_s3::primitives::ByteStream;
use hookline_local::endpoint::AwsEndpoint;
use s3_target::{Target, binary};

/// A put whose body is cut off (Content-Length larger than what is sent, then the connection
/// closed) leaves nothing visible: the key keeps its old object, a new key stays missing, and
/// no file is left behind.
#[tokio::test]
async fn a_cut_off_put_leaves_nothing_visible() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t = Target::local().await;
    let old = binary(100_000, 1);
    t.client
        .put_object()
        .bucket(&t.bucket)
        .key("kept")
        .body(ByteStream::from(old.clone()))
        .send()
        .await
        .unwrap();
    let addr = t.endpoint.trim_start_matches("http://").to_owned();
    for key in ["kept", "never"] {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "PUT /{}/{key} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 1000000\r\n\r\n",
            t.bucket
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&binary(300_000, 2)).await.unwrap();
        stream.shutdown().await.unwrap(); // no more bytes: the body ends 700,000 short
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        assert!(
            !String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
            "a cut-off put was acknowledged"
        );
    }
    assert!(t.get("kept").await == old, "the old object changed");
    let err = t
        .client
        .head_object()
        .bucket(&t.bucket)
        .key("never")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found());
    let (_, dir) = t.local.as_ref().unwrap();
    let files = std::fs::read_dir(dir.path().join("s3").join(&t.bucket))
        .unwrap()
        .count();
    assert_eq!(files, 1, "only the kept object's file is there");
}

/// The child of [`an_acknowledged_put_survives_kill_9`]: serves the endpoint on the folder it
/// is given until it is killed.
#[tokio::test]
#[ignore = "the durability test's child process: that test runs it"]
async fn endpoint_child_process() {
    endpoint_process::serve_until_killed().await;
}

/// Every put answered 200 is on disk: the endpoint runs in another process, which is killed
/// with SIGKILL right after the answers, and a new endpoint on the same folder serves every
/// object byte for byte, with its metadata and checksum.
#[tokio::test]
async fn an_acknowledged_put_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, endpoint) = endpoint_process::spawn(dir.path());
    let t = Target::on(endpoint, None, true).await;
    let bodies: Vec<Vec<u8>> = (0..10)
        .map(|i| binary(if i == 0 { 3 * 1024 * 1024 } else { 1000 * i }, i as u64))
        .collect();
    for (i, body) in bodies.iter().enumerate() {
        t.client
            .put_object()
            .bucket(&t.bucket)
            .key(format!("k{i}"))
            .metadata("n", i.to_string())
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
    }
    // A replacement: the old file goes once the new one's row is committed.
    t.client
        .put_object()
        .bucket(&t.bucket)
        .key("k1")
        .metadata("n", "1")
        .body(ByteStream::from(bodies[1].clone()))
        .send()
        .await
        .unwrap();
    t.client
        .delete_object()
        .bucket(&t.bucket)
        .key("k9")
        .send()
        .await
        .unwrap();
    child.kill().unwrap(); // SIGKILL: no shutdown, no flush.
    child.wait().unwrap();

    let server = AwsEndpoint::start("127.0.0.1:0".parse().unwrap(), dir.path())
        .await
        .unwrap();
    let again = Target {
        client: s3_target::client(&server.endpoint(), true).await,
        bucket: t.bucket.clone(),
        endpoint: server.endpoint(),
        local: None,
    };
    for (i, body) in bodies.iter().enumerate().take(9) {
        assert!(again.get(&format!("k{i}")).await == *body, "k{i} changed");
        let head = again
            .client
            .head_object()
            .bucket(&again.bucket)
            .key(format!("k{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(head.metadata().unwrap()["n"], i.to_string());
    }
    let err = again
        .client
        .head_object()
        .bucket(&again.bucket)
        .key("k9")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.into_service_error().is_not_found(),
        "a delete answered 204 stays done"
    );
    // One file an object: the deleted one's and the replaced one's are gone.
    let files = std::fs::read_dir(dir.path().join("s3").join(&again.bucket))
        .unwrap()
        .count();
    assert_eq!(files, 9);
}
