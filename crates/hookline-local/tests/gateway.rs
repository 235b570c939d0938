//! The gateway's own bounds: slow clients are cut off, oversized headers refused, connections
//! capped, unknown routes 404.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hookline_local::gateway::{Gateway, GatewayLimits};
use hookline_local::lambda::{Function, FunctionSpec};
use hookline_local::logs::LogSink;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn gateway(limits: GatewayLimits) -> Gateway {
    // A route whose function is never reached by these tests.
    let function = Function::new(
        FunctionSpec {
            name: "never".into(),
            binary: "/nonexistent".into(),
            env: BTreeMap::new(),
            timeout: Duration::from_secs(1),
            max_instances: 1,
        },
        LogSink::Discard,
    );
    Gateway::start(
        "127.0.0.1:0".parse().unwrap(),
        BTreeMap::from([("/hook".to_owned(), function)]),
        limits,
    )
    .await
    .unwrap()
}

fn addr(gateway: &Gateway) -> String {
    gateway.url().trim_start_matches("http://").to_owned()
}

/// Reads until the server answers or closes; returns what it sent.
async fn read_all(stream: &mut TcpStream, within: Duration) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(within, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let limits = GatewayLimits {
        header_read_timeout: Duration::from_millis(500),
        ..GatewayLimits::default()
    };
    let gw = gateway(limits).await;
    let mut stream = TcpStream::connect(addr(&gw)).await.unwrap();
    stream
        .write_all(b"POST /hook HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    read_all(&mut stream, Duration::from_secs(10)).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the connection stayed open for {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_body_that_trickles_in_gets_408() {
    let limits = GatewayLimits {
        body_read_timeout: Duration::from_millis(500),
        ..GatewayLimits::default()
    };
    let gw = gateway(limits).await;
    let mut stream = TcpStream::connect(addr(&gw)).await.unwrap();
    stream
        .write_all(b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":")
        .await
        .unwrap();
    let answer = read_all(&mut stream, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn oversized_headers_are_refused() {
    let gw = gateway(GatewayLimits::default()).await;
    let mut stream = TcpStream::connect(addr(&gw)).await.unwrap();
    let big = "a".repeat(100 * 1024);
    let request =
        format!("POST /hook HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\nContent-Length: 0\r\n\r\n");
    let _ = stream.write_all(request.as_bytes()).await;
    let answer = read_all(&mut stream, Duration::from_secs(10)).await;
    assert!(
        answer.starts_with("HTTP/1.1 431"),
        "{}",
        &answer[..answer.len().min(200)]
    );
}

#[tokio::test]
async fn connections_over_the_limit_are_closed_at_once() {
    let limits = GatewayLimits {
        max_connections: 2,
        header_read_timeout: Duration::from_secs(5),
        ..GatewayLimits::default()
    };
    let gw = gateway(limits).await;
    let _first = TcpStream::connect(addr(&gw)).await.unwrap();
    let _second = TcpStream::connect(addr(&gw)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(addr(&gw)).await.unwrap();
    let _ = third
        .write_all(b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        .await;
    let started = Instant::now();
    let answer = read_all(&mut third, Duration::from_secs(3)).await;
    assert!(
        answer.is_empty() && started.elapsed() < Duration::from_secs(2),
        "the third connection was served: {answer}"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_404_json() {
    let gw = gateway(GatewayLimits::default()).await;
    for request in [
        "POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "GET /hook HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        let mut stream = TcpStream::connect(addr(&gw)).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        let answer = String::from_utf8_lossy(&buf[..n]);
        assert!(
            answer.starts_with("HTTP/1.1 404") && answer.contains(r#"{"message":"Not Found"}"#),
            "{answer}"
        );
    }
    gw.shutdown().await;
}
