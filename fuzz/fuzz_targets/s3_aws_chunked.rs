//! The local S3 endpoint's `aws-chunked` decoder (`hookline_local::s3::chunked`), which reads
//! every streaming PutObject body the AWS SDK sends: any bytes are decoded or refused with an
//! error, never more than the limit is kept, and any payload encoded the way the SDK encodes it
//! (chunks with or without signatures, a checksum trailer) decodes back to itself.
#![no_main]

use std::io::Write as _;

use hookline_local::s3::chunked::decode;
use libfuzzer_sys::fuzz_target;

/// The limit the arbitrary input is decoded under: small, so the limit is often in play.
const LIMIT: u64 = 4096;

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = decode(data, LIMIT) {
        assert!(
            decoded.data.len() as u64 <= LIMIT,
            "{} bytes kept under a limit of {LIMIT}",
            decoded.data.len()
        );
    }

    // The input as a payload, encoded: chunk size and signing from its first byte.
    let first = data.first().copied().unwrap_or(0);
    let step = usize::from(first & 0x3f) + 1;
    let signed = first & 0x40 != 0;
    let mut encoded = Vec::new();
    for chunk in data.chunks(step) {
        let _ = write!(encoded, "{:x}", chunk.len());
        if signed {
            encoded.extend_from_slice(b";chunk-signature=0123abcd");
        }
        encoded.extend_from_slice(b"\r\n");
        encoded.extend_from_slice(chunk);
        encoded.extend_from_slice(b"\r\n");
    }
    encoded.extend_from_slice(if signed {
        b"0;chunk-signature=0123abcd\r\n".as_slice()
    } else {
        b"0\r\n".as_slice()
    });
    encoded.extend_from_slice(b"X-Amz-Checksum-Crc32:DUoRhQ==\r\n\r\n");
    let decoded = decode(&encoded, data.len() as u64).unwrap_or_else(|e| {
        panic!(
            "an encoded payload of {} bytes was refused: {e}",
            data.len()
        )
    });
    assert_eq!(decoded.data, data, "the payload did not decode back");
    assert_eq!(decoded.trailer("x-amz-checksum-crc32"), Some("DUoRhQ=="));
    if !data.is_empty() {
        assert!(
            decode(&encoded, data.len() as u64 - 1).is_err(),
            "a payload one byte over the limit was kept"
        );
    }
});
