//! A PutObject body as S3 takes it: read up to the limit, `aws-chunked` decoded when the
//! request says so, and every integrity value it carries checked (`Content-MD5`, a hex
//! `x-amz-content-sha256`, one flexible checksum as a header or a trailer) before anything is
//! stored. S3 API Reference, PutObject and "Checking object integrity in Amazon S3".

use axum::body::Body;
use axum::http::HeaderMap;
use futures_util::StreamExt;

use super::S3Error;
use super::checksum::{self, Algorithm};
use super::chunked::{self, ChunkedError};

/// A body that passed every check.
#[derive(Debug)]
pub struct Upload {
    /// The object's bytes.
    pub data: Vec<u8>,
    /// Their hex MD5: the ETag of a single-part object.
    pub etag: String,
    /// The checksum stored with the object: the one sent, else CRC64NVME, which S3 computes
    /// for an upload that carries none ("Checking object integrity", PutObject's
    /// `ChecksumCRC64NVME`).
    pub checksum: (Algorithm, String),
}

/// The `x-amz-content-sha256` values that announce an `aws-chunked` body (SigV4 "Authenticating
/// Requests: Using the Authorization Header").
const STREAMING: [&str; 5] = [
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
];

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Whether the body is `aws-chunked`: a streaming `x-amz-content-sha256` or that content coding.
fn is_chunked(headers: &HeaderMap) -> bool {
    header(headers, "x-amz-content-sha256").is_some_and(|v| v.starts_with("STREAMING-"))
        || header(headers, "content-encoding").is_some_and(|v| {
            v.split(',')
                .any(|c| c.trim().eq_ignore_ascii_case("aws-chunked"))
        })
}

fn announced(headers: &HeaderMap, name: &str) -> Result<Option<u64>, S3Error> {
    header(headers, name)
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| S3Error::invalid_argument(format!("{name} is not a number: {v}")))
        })
        .transpose()
}

/// Reads and checks the body of a PutObject of at most `max` bytes. A body announced larger is
/// refused before it is read; one cut off (the connection closed early) is `IncompleteBody`.
pub async fn read(headers: &HeaderMap, body: Body, max: u64) -> Result<Upload, S3Error> {
    let chunked = is_chunked(headers);
    let decoded_length = announced(headers, "x-amz-decoded-content-length")?;
    let content_length = announced(headers, "content-length")?;
    if decoded_length.or(content_length.filter(|_| !chunked)) > Some(max) {
        return Err(S3Error::entity_too_large(max));
    }
    // The raw body of an aws-chunked upload is the payload plus its framing: a few dozen bytes
    // per chunk of at least 8 KiB (the SigV4 streaming minimum), so 1/64 more is plenty.
    let raw_max = if chunked { max + max / 64 + 4096 } else { max };
    let raw = read_at_most(body, raw_max, content_length)
        .await?
        .ok_or_else(|| S3Error::entity_too_large(max))?;
    // Hashing megabytes takes a while: off the async threads.
    let headers = headers.clone();
    tokio::task::spawn_blocking(move || check(&headers, raw, chunked, max))
        .await
        .map_err(|e| S3Error::internal(format!("checking the upload failed: {e}")))?
}

/// The body's bytes, or `None` past `max`. A body that ends early is `IncompleteBody`.
async fn read_at_most(
    body: Body,
    max: u64,
    content_length: Option<u64>,
) -> Result<Option<Vec<u8>>, S3Error> {
    let capacity = content_length.unwrap_or(0).min(max) as usize;
    let mut raw = Vec::with_capacity(capacity);
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| S3Error::incomplete_body(format!("the body ended early ({e})")))?;
        if (raw.len() + chunk.len()) as u64 > max {
            return Ok(None);
        }
        raw.extend_from_slice(&chunk);
    }
    if let Some(expected) = content_length
        && raw.len() as u64 != expected
    {
        return Err(S3Error::incomplete_body(format!(
            "{} bytes arrived, Content-Length said {expected}",
            raw.len()
        )));
    }
    Ok(Some(raw))
}

/// Decodes and checks a body that was read whole.
fn check(headers: &HeaderMap, raw: Vec<u8>, chunked: bool, max: u64) -> Result<Upload, S3Error> {
    let content_sha256 = header(headers, "x-amz-content-sha256");
    if let Some(value) = content_sha256
        && !(value == "UNSIGNED-PAYLOAD"
            || checksum::is_hex_sha256(value)
            || STREAMING.contains(&value))
    {
        return Err(S3Error::invalid_argument(format!(
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING- value or a hex SHA-256, not `{}`",
            value.chars().take(80).collect::<String>()
        )));
    }
    let (data, trailers) = if chunked {
        let decoded = chunked::decode(&raw, max).map_err(|e| match e {
            ChunkedError::TooLarge(max) => S3Error::entity_too_large(max),
            ChunkedError::Truncated(_) => S3Error::incomplete_body(e),
            ChunkedError::Malformed(_) => S3Error::invalid_request(e.to_string()),
        })?;
        if let Some(expected) = announced(headers, "x-amz-decoded-content-length")?
            && decoded.data.len() as u64 != expected
        {
            return Err(S3Error::incomplete_body(format!(
                "the chunks hold {} bytes, x-amz-decoded-content-length said {expected}",
                decoded.data.len()
            )));
        }
        (decoded.data, decoded.trailers)
    } else {
        (raw, Vec::new())
    };
    if let Some(value) = content_sha256
        && checksum::is_hex_sha256(value)
    {
        checksum::verify_content_sha256(value, &data)?;
    }
    if let Some(md5) = header(headers, "content-md5") {
        checksum::verify_md5(md5, &data)?;
    }
    let checksum = flexible_checksum(headers, &trailers, &data)?;
    Ok(Upload {
        etag: checksum::md5_hex(&data),
        data,
        checksum,
    })
}

/// Checks the one flexible checksum sent (header or trailer) and returns it, or computes the
/// one S3 stores by default.
fn flexible_checksum(
    headers: &HeaderMap,
    trailers: &[(String, String)],
    data: &[u8],
) -> Result<(Algorithm, String), S3Error> {
    let mut sent: Vec<(Algorithm, &str)> = Vec::new();
    for (name, value) in headers.iter() {
        if let Some(algorithm) = Algorithm::from_header(name.as_str()) {
            let value = value.to_str().map_err(|_| {
                S3Error::invalid_request(format!("Value for {name} header is invalid."))
            })?;
            sent.push((algorithm, value));
        }
    }
    sent.extend(
        trailers
            .iter()
            .filter_map(|(name, value)| Some((Algorithm::from_header(name)?, value.as_str()))),
    );
    if let Some(trailer) = header(headers, "x-amz-trailer") {
        let Some(algorithm) = Algorithm::from_header(trailer) else {
            return Err(S3Error::invalid_request(format!(
                "x-amz-trailer names `{trailer}`, which is not a checksum header"
            )));
        };
        if !trailers.iter().any(|(name, _)| name == algorithm.header()) {
            return Err(S3Error::incomplete_body(format!(
                "x-amz-trailer announced {} but the body carried no such trailer",
                algorithm.header()
            )));
        }
    }
    let sdk_algorithm = header(headers, "x-amz-sdk-checksum-algorithm")
        .map(|name| {
            Algorithm::from_name(name).ok_or_else(|| {
                S3Error::invalid_request(
                    "Value for x-amz-sdk-checksum-algorithm header is invalid.",
                )
            })
        })
        .transpose()?;
    let Some(&(algorithm, value)) = sent.first() else {
        return match sdk_algorithm {
            // "When you send this header, there must be a corresponding x-amz-checksum-algorithm
            // or x-amz-trailer header sent. Otherwise, Amazon S3 fails the request with the
            // HTTP status code 400 Bad Request." (PutObject, x-amz-sdk-checksum-algorithm)
            Some(algorithm) => Err(S3Error::invalid_request(format!(
                "x-amz-sdk-checksum-algorithm is {} but neither a {} header nor a trailer was sent",
                algorithm.name(),
                algorithm.header()
            ))),
            None => Ok((Algorithm::Crc64Nvme, Algorithm::Crc64Nvme.compute(data))),
        };
    };
    if sent.iter().any(|&(other, _)| other != algorithm) {
        return Err(S3Error::invalid_request(
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        ));
    }
    // "If the individual checksum value you provide through x-amz-checksum-algorithm doesn't
    // match the checksum algorithm you set through x-amz-sdk-checksum-algorithm, Amazon S3 fails
    // the request with a BadDigest error." (PutObject)
    if sdk_algorithm.is_some_and(|sdk| sdk != algorithm) {
        return Err(S3Error::bad_digest(format!(
            "x-amz-sdk-checksum-algorithm does not match the {} checksum sent.",
            algorithm.name()
        )));
    }
    for &(_, value) in &sent {
        algorithm.verify(value, data)?;
    }
    Ok((algorithm, value.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn put(pairs: &[(&'static str, &str)], body: &[u8]) -> Result<Upload, S3Error> {
        let h = headers(pairs);
        check(&h, body.to_vec(), is_chunked(&h), 1024)
    }

    const HELLO_CRC32: &str = "NhCmhg==";

    #[test]
    fn a_plain_body_gets_its_etag_and_the_default_crc64nvme() {
        let upload = put(&[], b"hello").unwrap();
        assert_eq!(upload.data, b"hello");
        assert_eq!(upload.etag, "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(
            upload.checksum,
            (Algorithm::Crc64Nvme, Algorithm::Crc64Nvme.compute(b"hello"))
        );
    }

    #[test]
    fn what_aws_sdk_s3_sends_for_an_in_memory_body_is_checked() {
        let sha = hex::encode(<sha2::Sha256 as md5::Digest>::digest(b"hello"));
        let sent = [
            ("x-amz-content-sha256", sha.as_str()),
            ("x-amz-sdk-checksum-algorithm", "CRC32"),
            ("x-amz-checksum-crc32", HELLO_CRC32),
        ];
        let upload = put(&sent, b"hello").unwrap();
        assert_eq!(upload.checksum, (Algorithm::Crc32, HELLO_CRC32.to_owned()));
        assert_eq!(
            put(&sent, b"hellO").unwrap_err().code,
            "XAmzContentSHA256Mismatch"
        );
        let err = put(&sent[1..], b"hellO").unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                "BadDigest",
                "The CRC32 you specified did not match the calculated checksum."
            )
        );
    }

    #[test]
    fn a_trailer_checksum_is_checked_and_must_be_there_when_announced() {
        let streaming = [
            ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "5"),
            ("x-amz-trailer", "x-amz-checksum-crc32"),
        ];
        let body = |crc: &str| format!("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n");
        let upload = put(&streaming, body(HELLO_CRC32).as_bytes()).unwrap();
        assert_eq!(upload.data, b"hello");
        assert_eq!(upload.checksum, (Algorithm::Crc32, HELLO_CRC32.to_owned()));
        assert_eq!(
            put(&streaming, body("AAAAAA==").as_bytes())
                .unwrap_err()
                .code,
            "BadDigest"
        );
        let err = put(&streaming, b"5\r\nhello\r\n0\r\n\r\n").unwrap_err();
        assert_eq!(err.code, "IncompleteBody");
        assert!(err.message.contains("no such trailer"), "{}", err.message);
        let err = put(
            &streaming,
            b"4\r\nhell\r\n0\r\nx-amz-checksum-crc32:x\r\n\r\n",
        )
        .unwrap_err();
        assert!(
            err.message.contains("x-amz-decoded-content-length said 5"),
            "{}",
            err.message
        );
        let err = put(&streaming, b"5\r\nhel").unwrap_err();
        assert_eq!(err.code, "IncompleteBody");
        let err = put(&streaming, b"q\r\n").unwrap_err();
        assert_eq!(err.code, "InvalidRequest");
    }

    #[test]
    fn checksum_headers_that_contradict_each_other_are_refused() {
        let err = put(
            &[
                ("x-amz-checksum-crc32", HELLO_CRC32),
                ("x-amz-checksum-sha1", "x"),
            ],
            b"hello",
        )
        .unwrap_err();
        assert_eq!(err.code, "InvalidRequest");
        let err = put(
            &[
                ("x-amz-sdk-checksum-algorithm", "SHA256"),
                ("x-amz-checksum-crc32", HELLO_CRC32),
            ],
            b"hello",
        )
        .unwrap_err();
        assert_eq!(err.code, "BadDigest");
        let err = put(&[("x-amz-sdk-checksum-algorithm", "CRC32")], b"hello").unwrap_err();
        assert_eq!(err.code, "InvalidRequest");
        let err = put(&[("x-amz-sdk-checksum-algorithm", "MD5")], b"hello").unwrap_err();
        assert_eq!(err.code, "InvalidRequest");
        let err = put(&[("x-amz-content-sha256", "whatever")], b"hello").unwrap_err();
        assert_eq!(err.code, "InvalidArgument");
    }

    #[tokio::test]
    async fn sizes_are_enforced_before_and_while_reading() {
        let err = read(
            &headers(&[("content-length", "2000")]),
            Body::from(vec![0u8; 10]),
            1024,
        )
        .await
        .unwrap_err();
        assert_eq!(err.code, "EntityTooLarge");
        let err = read(&headers(&[]), Body::from(vec![0u8; 1025]), 1024)
            .await
            .unwrap_err();
        assert_eq!(err.code, "EntityTooLarge");
        let err = read(
            &headers(&[("content-length", "11")]),
            Body::from(vec![0u8; 10]),
            1024,
        )
        .await
        .unwrap_err();
        assert_eq!(err.code, "IncompleteBody");
        let upload = read(&headers(&[]), Body::from(vec![7u8; 1024]), 1024)
            .await
            .unwrap();
        assert_eq!(upload.data.len(), 1024);
    }
}
