//! A bounded HTTP/1.1 load generator for loopback targets.
//!
//! Why our own rather than oha or goose: the benchmark needs open-loop pacing with latency
//! measured from each request's *intended* send time (no coordinated omission), raw SQS
//! JSON-protocol requests besides signed webhooks, and results it can fold into its report,
//! in-process, with no extra tool to install. Keep-alive connections and a minimal parser keep
//! the client's own cost low (it shares the 2 cores with what it measures, for the floor and
//! the stack alike).
//!
//! Every run is bounded three ways: a request count, a deadline after which no request starts,
//! and a per-request timeout; it stops by itself. Targets must be loopback addresses.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One request, ready to write: the whole HTTP/1.1 message.
#[derive(Clone)]
pub struct Request(pub Arc<Vec<u8>>);

impl Request {
    /// A keep-alive POST of `body` to `path`.
    pub fn post(addr: SocketAddr, path: &str, headers: &[(String, String)], body: &[u8]) -> Self {
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        Request(Arc::new(bytes))
    }
}

/// A keep-alive connection.
pub struct Conn {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
}

impl Conn {
    /// A connection to `addr` (opened on first use); refuses anything but loopback.
    pub fn new(addr: SocketAddr) -> Result<Conn> {
        if !addr.ip().is_loopback() {
            bail!("the load generator targets loopback only, not {addr}");
        }
        Ok(Conn { addr, stream: None })
    }

    /// Sends `request` and reads the answer: status and body.
    pub async fn send(&mut self, request: &Request) -> std::io::Result<(u16, Vec<u8>)> {
        let result = self.try_send(request).await;
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    async fn try_send(&mut self, request: &Request) -> std::io::Result<(u16, Vec<u8>)> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.addr).await?;
            stream.set_nodelay(true)?;
            self.stream = Some(BufReader::with_capacity(16 * 1024, stream));
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(std::io::Error::other("no connection"));
        };
        stream.get_mut().write_all(&request.0).await?;
        let mut line = String::new();
        stream.read_line(&mut line).await?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut length = 0usize;
        let mut close = false;
        loop {
            line.clear();
            if stream.read_line(&mut line).await? == 0 {
                return Err(std::io::Error::other("connection closed in the headers"));
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("connection") {
                    close = value.eq_ignore_ascii_case("close");
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    return Err(std::io::Error::other("chunked answers are not supported"));
                }
            }
        }
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await?;
        if close {
            self.stream = None;
        }
        Ok((status, body))
    }
}

/// What a load run measured.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// Requests started.
    pub sent: u64,
    /// Answered 2xx.
    pub ok: u64,
    /// Answered otherwise, failed or timed out.
    pub failed: u64,
    /// Requests of the planned count never started (the deadline came first).
    pub not_sent: u64,
    /// First start to last answer.
    pub elapsed: Duration,
    /// Latency of every 2xx answer, in microseconds, sorted.
    pub latencies_us: Vec<u64>,
}

impl Outcome {
    /// 2xx answers per second.
    pub fn ok_per_sec(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Latency quantile in milliseconds (0 when nothing was answered).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        quantile(&self.latencies_us, q) as f64 / 1000.0
    }
}

/// The `q` quantile of sorted values (nearest rank).
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// How to pace a run.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// Every connection sends its next request as soon as the previous one is answered.
    Closed,
    /// Request `i` is due at `start + i / rate`; latency counts from that time.
    Open {
        /// Requests per second.
        rate: f64,
    },
}

/// A bounded run: at most `count` requests over `connections` keep-alive connections, none
/// started after `duration`, each given at most `timeout`.
#[derive(Debug, Clone, Copy)]
#[allow(missing_docs)]
pub struct Plan {
    pub pace: Pace,
    pub connections: usize,
    pub count: u64,
    pub duration: Duration,
    pub timeout: Duration,
}

/// Runs `plan` against `addr`; `requests` are sent in turn (request `i` is `requests[i % n]`).
/// `check` decides whether a 2xx answer counts as acknowledged.
pub async fn run(
    addr: SocketAddr,
    requests: Arc<Vec<Request>>,
    plan: Plan,
    check: fn(&[u8]) -> bool,
) -> Result<Outcome> {
    if requests.is_empty() {
        bail!("no requests to send");
    }
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + plan.duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..plan.connections.max(1) {
        let mut conn = Conn::new(addr)?;
        let next = Arc::clone(&next);
        let requests = Arc::clone(&requests);
        tasks.spawn(async move {
            let mut out = Outcome::default();
            let mut last = start;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= plan.count {
                    break;
                }
                let due = match plan.pace {
                    Pace::Closed => Instant::now(),
                    Pace::Open { rate } => start + Duration::from_secs_f64(i as f64 / rate),
                };
                if due >= deadline || Instant::now() >= deadline {
                    break;
                }
                // Timer granularity is ~1 ms: sending up to 1 ms early is better than late.
                if due > Instant::now() + Duration::from_millis(1) {
                    tokio::time::sleep_until(tokio::time::Instant::from_std(due)).await;
                }
                let now = Instant::now();
                let began = match plan.pace {
                    Pace::Closed => now,
                    // Late (all connections were busy): the wait counts. Early: from the send.
                    Pace::Open { .. } => due.min(now),
                };
                out.sent += 1;
                let request = &requests[(i % requests.len() as u64) as usize];
                match tokio::time::timeout(plan.timeout, conn.send(request)).await {
                    Ok(Ok((status, body))) if (200..300).contains(&status) && check(&body) => {
                        out.ok += 1;
                        out.latencies_us.push(began.elapsed().as_micros() as u64);
                    }
                    Ok(_) => out.failed += 1,
                    Err(_) => {
                        out.failed += 1;
                        conn = match Conn::new(addr) {
                            Ok(conn) => conn,
                            Err(_) => break,
                        };
                    }
                }
                last = Instant::now();
            }
            (out, last)
        });
    }
    let mut total = Outcome::default();
    let mut last = start;
    while let Some(joined) = tasks.join_next().await {
        let (out, end) = joined?;
        total.sent += out.sent;
        total.ok += out.ok;
        total.failed += out.failed;
        total.not_sent += out.not_sent;
        total.latencies_us.extend(out.latencies_us);
        last = last.max(end);
    }
    // Planned but never started: only meaningful for a fixed rate (a closed loop's count is a
    // bound, not a plan).
    if let Pace::Open { .. } = plan.pace {
        total.not_sent = plan.count.saturating_sub(total.sent);
    }
    total.elapsed = last.duration_since(start);
    total.latencies_us.sort_unstable();
    Ok(total)
}
