//! What the S3 endpoint's tests share: a bucket on either backend (moto, the reference, or the
//! local endpoint) with an aws-sdk-s3 client, bodies to put, and raw HTTP.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::BTreeMap;
use std::sync::OnceLock;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use hookline_local::endpoint::AwsEndpoint;
use hookline_test_moto::Moto;

/// One moto for the whole test binary (it stops when the binary ends and closes its stdin);
/// each test has its own bucket.
fn moto() -> &'static str {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    &MOTO.get_or_init(Moto::start).endpoint
}

/// A client as the functions build theirs: `aws_config` with the endpoint URL (what
/// `AWS_ENDPOINT_URL_S3` sets) and nothing S3-specific, so an IP endpoint gets path-style
/// requests from the SDK's endpoint rules; `force_path_style` sets it explicitly.
pub async fn client(endpoint: &str, force_path_style: bool) -> Client {
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "local", "local", None, None, "test",
        ))
        .load()
        .await;
    let mut config = aws_sdk_s3::config::Builder::from(&shared);
    if force_path_style {
        config = config.force_path_style(true);
    }
    Client::from_conf(config.build())
}

/// A bucket on a backend.
pub struct Target {
    pub client: Client,
    pub bucket: String,
    pub endpoint: String,
    /// The local endpoint and its data folder, kept for the test's length; `None` on moto.
    pub local: Option<(AwsEndpoint, tempfile::TempDir)>,
}

impl Target {
    pub async fn moto() -> Target {
        Target::moto_with(true).await
    }

    /// moto with a client that leaves the addressing style to the SDK.
    pub async fn moto_with(force_path_style: bool) -> Target {
        Target::on(moto().to_owned(), None, force_path_style).await
    }

    pub async fn local() -> Target {
        Target::local_with(true).await
    }

    /// The local endpoint with a client that leaves the addressing style to the SDK.
    pub async fn local_with(force_path_style: bool) -> Target {
        let dir = tempfile::tempdir().unwrap();
        let server = AwsEndpoint::start("127.0.0.1:0".parse().unwrap(), dir.path())
            .await
            .unwrap();
        Target::on(server.endpoint(), Some((server, dir)), force_path_style).await
    }

    pub async fn on(
        endpoint: String,
        local: Option<(AwsEndpoint, tempfile::TempDir)>,
        force_path_style: bool,
    ) -> Target {
        let client = client(&endpoint, force_path_style).await;
        let bucket = format!(
            "claims-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        client.create_bucket().bucket(&bucket).send().await.unwrap();
        Target {
            client,
            bucket,
            endpoint,
            local,
        }
    }

    pub fn is_moto(&self) -> bool {
        self.local.is_none()
    }

    /// The bytes of an object, read with the SDK's response checksum validation on.
    pub async fn get(&self, key: &str) -> Vec<u8> {
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        object.body.collect().await.unwrap().into_bytes().to_vec()
    }
}

/// Pseudo-random bytes (xorshift), the same for the same seed: a binary body.
pub fn binary(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// The error code and message of a failed call.
pub fn code_and_message<E: ProvideErrorMetadata>(err: &E) -> (String, String) {
    (
        err.code().unwrap_or_default().to_owned(),
        err.message().unwrap_or_default().to_owned(),
    )
}

/// An HTTP answer: status, headers (names in lower case) and body.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request over a plain TCP stream (`Connection: close`); `head` is the request
/// line's target and extra header lines, the body is sent as given (with its Content-Length
/// unless `headers` carry one).
pub async fn raw(
    endpoint: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Raw {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    Raw {
        status: head[9..12].parse().unwrap(),
        headers,
        body: response[split + 4..].to_vec(),
    }
}

/// Runs a case against moto and against the local endpoint, as two tests.
#[macro_export]
macro_rules! on_both {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                #[tokio::test]
                async fn moto() {
                    super::$case(super::s3_target::Target::moto().await).await;
                }

                #[tokio::test]
                async fn local() {
                    super::$case(super::s3_target::Target::local().await).await;
                }
            }
        )*
    };
}
