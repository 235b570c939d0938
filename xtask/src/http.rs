//! A minimal HTTP/1.1 client, so that `send` needs no HTTP library: one POST per connection,
//! `Connection: close`; plain HTTP for the local stack, TLS (rustls, the machine's trusted
//! roots, as the AWS SDK uses them) for a deployed stage's `https://` webhook URL.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// A response: status and body.
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// API Gateway gives up on an integration after 30 s: a little more than that.
const READ_TIMEOUT: Duration = Duration::from_secs(35);

/// POSTs `body` with `headers` to an `http://` or `https://` URL.
pub fn post(url: &str, headers: &[(String, String)], body: &[u8]) -> Result<Response> {
    let (tls, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        bail!("only http:// and https:// URLs are supported; got {url}");
    };
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .with_context(|| format!("the port of {url} is not a number"))?,
        ),
        None => (authority, if tls { 443 } else { 80 }),
    };
    let stream = TcpStream::connect((host, port)).with_context(|| {
        if tls {
            format!("connecting to {authority}")
        } else {
            format!("connecting to {authority}: is `cargo xtask dev` running?")
        }
    })?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    )
    .into_bytes();
    for (name, value) in headers {
        request.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    request.extend_from_slice(body);
    let raw = if tls {
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .with_context(|| format!("{host} is not a host name"))?;
        let connection =
            rustls::ClientConnection::new(Arc::new(tls_config()?), name).context("starting TLS")?;
        exchange(rustls::StreamOwned::new(connection, stream), &request)
            .with_context(|| format!("posting to {url}"))?
    } else {
        exchange(stream, &request).with_context(|| format!("posting to {url}"))?
    };
    parse(&raw)
}

/// Writes the request, reads the response until the server closes the connection. A TLS peer
/// that closes without `close_notify` after a whole response is not an error (HTTP/1.1 with
/// `Connection: close` ends with the connection).
fn exchange(mut stream: impl Read + Write, request: &[u8]) -> Result<Vec<u8>> {
    stream.write_all(request)?;
    stream.flush()?;
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw) {
        Ok(_) => Ok(raw),
        Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => Ok(raw),
        Err(err) => Err(err).context("reading the response"),
    }
}

/// TLS 1.2/1.3 with the machine's trusted root certificates.
fn tls_config() -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A certificate the store cannot use is skipped, as the SDK's client does.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        bail!(
            "no trusted root certificates on this machine: install them (Debian/Ubuntu: `apt-get install ca-certificates`)"
        );
    }
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("setting up TLS")?
    .with_root_certificates(roots)
    .with_no_client_auth())
}

fn parse(raw: &[u8]) -> Result<Response> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("the response has no header end")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("the response has no status")?;
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Ok(Response { status, body })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..line_end]).trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;

    use super::*;

    /// A one-connection server on loopback that reads the request head and answers `answer`.
    fn serve_once(answer: &'static [u8]) -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let _ = (&stream).write_all(answer);
            head
        });
        (address, handle)
    }

    #[test]
    fn posts_over_plain_http_and_reads_a_chunked_answer() {
        let (address, server) = serve_once(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        );
        let response = post(
            &format!("http://{address}/webhooks/x"),
            &[("X-Test".to_owned(), "1".to_owned())],
            b"{}",
        )
        .unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, b"hello");
        let head = server.join().unwrap();
        assert!(head.starts_with("POST /webhooks/x HTTP/1.1\r\n"), "{head}");
        assert!(head.contains("X-Test: 1\r\n"), "{head}");
    }

    /// An https URL speaks TLS: a server that answers in plain text is an error, not a response.
    #[test]
    fn an_https_url_is_posted_over_tls() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        // Answers at once, in plain text, without reading the TLS ClientHello.
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n\r\n");
        });
        let err = post(&format!("https://{address}/x"), &[], b"{}")
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(
            err.starts_with(&format!("posting to https://{address}/x: ")),
            "{err}"
        );
        server.join().unwrap();
    }

    #[test]
    fn other_schemes_are_refused() {
        let err = post("ftp://example.com/x", &[], b"")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(
            err,
            "only http:// and https:// URLs are supported; got ftp://example.com/x"
        );
    }
}
