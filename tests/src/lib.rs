//! The end-to-end harness: builds the real function binaries once, lays out a scratch
//! workspace (manifest, binaries, recorder folder) per test, starts the local stack on free
//! loopback ports, and talks to it over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // test support: failing loudly is the point

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use hookline::Scheme;
use hookline::sign::Signer;
use hookline_local::{DevStack, StackConfig};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub mod console;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `target/debug`, where the binaries under test are.
pub fn binaries() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            // The same binaries `cargo xtask dev` runs: a generated ingest function, the test
            // recorder as processor, and xtask itself for the process-level tests.
            let output = Command::new(cargo)
                .current_dir(root())
                .args([
                    "build",
                    "--bins",
                    "-p",
                    "stripe-webhooks",
                    "-p",
                    "hookline-e2e",
                    "-p",
                    "xtask",
                ])
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "building the binaries failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| root().join("target"));
            target.join("debug")
        })
        .clone()
}

/// One provider `acme` (GitHub signatures) whose failed messages come back after 6 s: the
/// shortest visibility timeout the manifest allows for a 1 s processor timeout.
pub const ACME_QUICK_RETRY: &str = r#"
[project]
name = "e2e"

[[providers]]
name = "acme"
template = "github"
[providers.queue]
visibility_timeout_secs = 6
[providers.processor]
timeout_secs = 1
"#;

/// A scratch workspace for one test.
pub struct Harness {
    pub dir: tempfile::TempDir,
    pub manifest: hookline_manifest::Manifest,
    pub manifest_path: PathBuf,
    pub bins: PathBuf,
    pub recorder: PathBuf,
    pub data: PathBuf,
}

/// Every provider's ingest is the generic ingest binary (it reads its scheme from the
/// environment); every processor is the recorder.
pub fn harness(manifest: &str) -> Harness {
    let built = binaries();
    let dir = tempfile::tempdir().unwrap();
    let manifest_path = dir.path().join("hookline.toml");
    std::fs::write(&manifest_path, manifest).unwrap();
    let parsed = hookline_manifest::parse(manifest, "hookline.toml").unwrap();
    let bins = dir.path().join("bin");
    std::fs::create_dir_all(&bins).unwrap();
    for provider in &parsed.providers {
        std::os::unix::fs::symlink(
            built.join("stripe-ingest"),
            bins.join(provider.ingest_binary()),
        )
        .unwrap();
        std::os::unix::fs::symlink(
            built.join("recorder-process"),
            bins.join(provider.process_binary()),
        )
        .unwrap();
    }
    let recorder = dir.path().join("recorder");
    std::fs::create_dir_all(&recorder).unwrap();
    let data = dir.path().join("data");
    Harness {
        manifest: parsed,
        manifest_path,
        bins,
        recorder,
        data,
        dir,
    }
}

impl Harness {
    /// A stack config on free ports, with the recorder wired in.
    pub fn config(&self) -> StackConfig {
        let mut config =
            StackConfig::new(self.manifest.clone(), self.data.clone(), self.bins.clone());
        config.gateway_addr = "127.0.0.1:0".parse().unwrap();
        config.sqs_addr = "127.0.0.1:0".parse().unwrap();
        config
            .extra_env
            .insert("RECORDER_DIR".into(), self.recorder.display().to_string());
        // The providers' samples, for the console's Send page (a provider named like one of
        // the repository's crates gets that crate's samples).
        config.project_root = Some(root());
        config.logs = if std::env::var_os("HOOKLINE_TEST_LOGS").is_some() {
            hookline_local::logs::LogSink::Stderr
        } else {
            hookline_local::logs::LogSink::Discard
        };
        config
    }

    /// Starts the stack in this process (the functions are separate processes).
    pub async fn start(&self) -> DevStack {
        DevStack::start(self.config()).await.unwrap()
    }

    /// What the recorder processed for `provider`: its complete lines (a multi-megabyte record
    /// may be read while the recorder is still writing it; its newline comes last).
    pub fn recorded(&self, provider: &str) -> Vec<Value> {
        let text = std::fs::read_to_string(self.recorder.join(format!("{provider}.jsonl")))
            .unwrap_or_default();
        let complete = text.rsplit_once('\n').map_or("", |(lines, _)| lines);
        complete
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits until `provider`'s recorder holds at least `n` deliveries.
    pub async fn wait_recorded(&self, provider: &str, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let got = self.recorded(provider);
            if got.len() >= n || tokio::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Decodes a recorded body.
pub fn recorded_body(line: &Value) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(line["body"].as_str().unwrap())
        .unwrap()
}

/// Signature headers for a provider of the running stack, as the provider would send them.
pub fn signed(stack: &DevStack, provider: &str, body: &[u8]) -> Vec<(String, String)> {
    let info = stack
        .providers()
        .iter()
        .find(|p| p.name == provider)
        .unwrap();
    let scheme: Scheme = info.scheme.parse().unwrap();
    let signer = Signer::new(scheme, &info.signing_key).unwrap();
    let mut headers = signer
        .sign(&hookline::verify::Outgoing {
            url: &info.webhook_url,
            body,
            timestamp: chrono::Utc::now().timestamp(),
            delivery_id: &format!("msg_{}", uuid::Uuid::new_v4().simple()),
        })
        .unwrap()
        .headers;
    headers.push(("content-type".into(), "application/json".into()));
    headers
}

/// The webhook URL of a provider.
pub fn url(stack: &DevStack, provider: &str) -> String {
    stack
        .providers()
        .iter()
        .find(|p| p.name == provider)
        .unwrap()
        .webhook_url
        .clone()
}

/// One HTTP/1.1 POST over a plain TCP connection: (status, headers, body).
pub async fn post(
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<(u16, String, Vec<u8>)> {
    request("POST", url, headers, body).await
}

/// One HTTP/1.1 request over a plain TCP connection: (status, headers, body). A `Host` in
/// `headers` replaces the URL's.
pub async fn request(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<(u16, String, Vec<u8>)> {
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest
        .split_once('/')
        .map(|(a, p)| (a, format!("/{p}")))
        .unwrap();
    let mut stream = tokio::net::TcpStream::connect(authority).await?;
    let host = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map_or(authority, |(_, v)| v.as_str());
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
    {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    Ok((status, head, raw[split + 4..].to_vec()))
}

/// An SQS client for the stack's endpoint.
pub async fn sqs(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "local", "local", None, None, "test",
        ))
        .load()
        .await;
    aws_sdk_sqs::Client::new(&config)
}

/// An S3 client for the stack's endpoint (path-style: the endpoint is an IP address).
pub async fn s3(endpoint: &str) -> aws_sdk_s3::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "local", "local", None, None, "test",
        ))
        .load()
        .await;
    aws_sdk_s3::Client::new(&config)
}

/// The keys in a bucket.
pub async fn keys(client: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    client
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .unwrap()
        .contents
        .unwrap_or_default()
        .into_iter()
        .filter_map(|o| o.key)
        .collect()
}

/// A queue's ARN (what SQS's redrive names queues by).
pub async fn queue_arn(client: &aws_sdk_sqs::Client, url: &str) -> String {
    client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone()
}

/// Messages in a queue: visible, in flight and delayed.
pub async fn depth(client: &aws_sdk_sqs::Client, queue_url: &str) -> u64 {
    let out = client
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let attributes = out.attributes.unwrap();
    [
        QueueAttributeName::ApproximateNumberOfMessages,
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        QueueAttributeName::ApproximateNumberOfMessagesDelayed,
    ]
    .iter()
    .map(|a| attributes[a].parse::<u64>().unwrap())
    .sum()
}

/// Waits (up to `within`) until `queue_url` holds no message (visible, in flight or delayed);
/// its depth then. A message is deleted only after its invocation returned.
pub async fn wait_empty(client: &aws_sdk_sqs::Client, queue_url: &str, within: Duration) -> u64 {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let depth = depth(client, queue_url).await;
        if depth == 0 || tokio::time::Instant::now() > deadline {
            return depth;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A free loopback port (bound and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `cargo xtask dev` of a harness (its manifest, binaries, data and recorder) as a child
/// process on these ports: what a test kills with SIGKILL and starts again.
pub fn dev(h: &Harness, port: u16, sqs_port: u16) -> Child {
    Command::new(binaries().join("xtask"))
        .args([
            "dev",
            "--port",
            &port.to_string(),
            "--sqs-port",
            &sqs_port.to_string(),
        ])
        .arg("--data-dir")
        .arg(&h.data)
        .arg("--binaries")
        .arg(&h.bins)
        .arg("--env")
        .arg(format!("RECORDER_DIR={}", h.recorder.display()))
        .env("HOOKLINE_MANIFEST", &h.manifest_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits (10 s at most) until a dev stack listens on `port`.
pub async fn wait_ready(port: u16) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the dev stack did not start on port {port}");
}
