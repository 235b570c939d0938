//! The `aws-chunked` content encoding of streaming uploads (S3 API Reference, "Transferring
//! payload in multiple chunks (chunked upload)" and "Signature calculations for trailing headers
//! (chunked uploads)"):
//!
//! ```text
//! chunk      = hex-size [";chunk-signature=" signature] CRLF data CRLF
//! last-chunk = "0" [";chunk-signature=" signature] CRLF
//! body       = *chunk last-chunk *(trailer-name ":" value CRLF) CRLF
//! ```
//!
//! The trailers carry the flexible checksum (`x-amz-checksum-crc32:...`) and, for signed
//! streams, `x-amz-trailer-signature`. Signatures are stripped, not verified: the local
//! endpoint checks no credentials.

/// A decoded body: the object's bytes and the trailers that followed them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The payload, chunks concatenated.
    pub data: Vec<u8>,
    /// The trailers, names lower-cased, in order.
    pub trailers: Vec<(String, String)>,
}

impl Decoded {
    /// The trailer `name` (lower case), if sent.
    pub fn trailer(&self, name: &str) -> Option<&str> {
        self.trailers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a body is not valid aws-chunked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkedError {
    /// The body ended before the encoding did.
    #[error("the body ended inside the aws-chunked encoding ({0})")]
    Truncated(&'static str),
    /// The encoding is broken.
    #[error("the body is not valid aws-chunked encoding: {0}")]
    Malformed(String),
    /// The chunks add up to more than the limit.
    #[error("the decoded body is larger than {0} bytes")]
    TooLarge(u64),
}

const CRLF: &[u8] = b"\r\n";

/// The line at `pos` (without its CRLF) and where the next one starts.
fn line(body: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = body.get(pos..)?;
    let end = rest.windows(2).position(|w| w == CRLF)?;
    Some((&rest[..end], pos + end + 2))
}

/// Decodes `body`, refusing more than `max` payload bytes.
pub fn decode(body: &[u8], max: u64) -> Result<Decoded, ChunkedError> {
    let mut decoded = Decoded::default();
    let mut pos = 0;
    loop {
        if pos >= body.len() {
            return Err(ChunkedError::Truncated("no final zero-length chunk"));
        }
        let (header, next) = line(body, pos).ok_or(ChunkedError::Truncated("chunk header"))?;
        let size_text = header.split(|&b| b == b';').next().unwrap_or_default();
        let size = std::str::from_utf8(size_text)
            .ok()
            .filter(|s| !s.is_empty() && s.len() <= 16)
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .ok_or_else(|| {
                let shown: String = String::from_utf8_lossy(size_text)
                    .chars()
                    .take(20)
                    .collect();
                ChunkedError::Malformed(format!("the chunk size `{shown}` is not hexadecimal"))
            })?;
        pos = next;
        if size == 0 {
            break;
        }
        if (decoded.data.len() as u64).saturating_add(size) > max {
            return Err(ChunkedError::TooLarge(max));
        }
        // `size` ≤ `max`, which fits in memory: the cast cannot truncate.
        let end = pos + size as usize;
        let data = body
            .get(pos..end)
            .ok_or(ChunkedError::Truncated("chunk data"))?;
        decoded.data.extend_from_slice(data);
        match body.get(end..end + 2) {
            Some(CRLF) => pos = end + 2,
            Some(_) => {
                return Err(ChunkedError::Malformed(
                    "a chunk's data is longer than its size".to_owned(),
                ));
            }
            None => return Err(ChunkedError::Truncated("CRLF after chunk data")),
        }
    }
    // Trailers, up to the empty line that ends the body (tolerated when missing at the end).
    while pos < body.len() {
        let (trailer, next) = line(body, pos).ok_or(ChunkedError::Truncated("trailer"))?;
        pos = next;
        if trailer.is_empty() {
            if pos < body.len() {
                return Err(ChunkedError::Malformed(
                    "data after the final CRLF".to_owned(),
                ));
            }
            break;
        }
        let text = std::str::from_utf8(trailer)
            .map_err(|_| ChunkedError::Malformed("a trailer is not UTF-8".to_owned()))?;
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| ChunkedError::Malformed("a trailer is not `name:value`".to_owned()))?;
        decoded
            .trailers
            .push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_chunks_with_a_checksum_trailer() {
        // What aws-sdk-s3 sends for a streaming body (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
        let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        let decoded = decode(body, 100).unwrap();
        assert_eq!(decoded.data, b"hello world");
        assert_eq!(decoded.trailer("x-amz-checksum-crc32"), Some("DUoRhQ=="));
        // Uppercase hex sizes, and no final CRLF.
        let decoded = decode(b"A\r\n0123456789\r\n0\r\nX-Amz-Checksum-Sha1:x\r\n", 100).unwrap();
        assert_eq!(decoded.data, b"0123456789");
        assert_eq!(decoded.trailer("x-amz-checksum-sha1"), Some("x"));
    }

    #[test]
    fn signed_chunks_have_their_signatures_stripped() {
        // STREAMING-AWS4-HMAC-SHA256-PAYLOAD (the example of "Transferring payload in multiple
        // chunks", shortened), then the same with a signed trailer.
        let sig =
            "chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
        let body = format!("3;{sig}\r\nabc\r\n0;{sig}\r\n\r\n");
        let decoded = decode(body.as_bytes(), 100).unwrap();
        assert_eq!(
            decoded,
            Decoded {
                data: b"abc".to_vec(),
                trailers: vec![]
            }
        );
        let body = format!(
            "3;{sig}\r\nabc\r\n0;{sig}\r\nx-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:63bddb24\r\n\r\n"
        );
        let decoded = decode(body.as_bytes(), 100).unwrap();
        assert_eq!(decoded.data, b"abc");
        assert_eq!(decoded.trailer("x-amz-checksum-crc32c"), Some("sOO8/Q=="));
        assert_eq!(decoded.trailer("x-amz-trailer-signature"), Some("63bddb24"));
    }

    #[test]
    fn an_empty_body_is_one_zero_chunk() {
        assert_eq!(decode(b"0\r\n\r\n", 0).unwrap(), Decoded::default());
    }

    #[test]
    fn truncated_bodies_are_refused() {
        for (body, what) in [
            (&b""[..], "no final zero-length chunk"),
            (b"5\r\nhello\r\n", "no final zero-length chunk"),
            (b"5\r\nhel", "chunk data"),
            (b"5\r\nhello", "CRLF after chunk data"),
            (b"5", "chunk header"),
            (b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:DUoR", "trailer"),
        ] {
            assert_eq!(
                decode(body, 100),
                Err(ChunkedError::Truncated(what)),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn malformed_bodies_are_refused() {
        for (body, words) in [
            (
                &b"zz\r\nhello\r\n0\r\n\r\n"[..],
                "the chunk size `zz` is not hexadecimal",
            ),
            (b"\r\n", "the chunk size `` is not hexadecimal"),
            (b"-5\r\nhello\r\n0\r\n\r\n", "not hexadecimal"),
            (b"11111111111111111\r\n", "not hexadecimal"),
            (b"3\r\nhello\r\n0\r\n\r\n", "longer than its size"),
            (b"0\r\nno colon\r\n\r\n", "not `name:value`"),
            (b"0\r\n\r\nmore", "data after the final CRLF"),
        ] {
            match decode(body, 100) {
                Err(ChunkedError::Malformed(message)) => {
                    assert!(message.contains(words), "{message}")
                }
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(body)),
            }
        }
    }

    #[test]
    fn chunks_beyond_the_limit_are_refused_before_they_are_read() {
        assert_eq!(
            decode(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 10),
            Err(ChunkedError::TooLarge(10))
        );
        // A huge announced size is refused as too large, not awaited as truncated data.
        for huge in [&b"FFFFFFFFFFFF\r\nabc"[..], b"FFFFFFFFFFFFFFFF\r\nabc"] {
            assert_eq!(decode(huge, 10), Err(ChunkedError::TooLarge(10)));
        }
        assert_eq!(
            decode(b"A\r\n0123456789\r\n0\r\n\r\n", 10)
                .unwrap()
                .data
                .len(),
            10
        );
    }
}
