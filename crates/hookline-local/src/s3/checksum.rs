//! S3's integrity checks on an uploaded body (User Guide, "Checking object integrity in Amazon
//! S3"): `Content-MD5`, the flexible checksums (`x-amz-checksum-crc32`, `-crc32c`,
//! `-crc64nvme`, `-sha1`, `-sha256`: the base64 of the big-endian digest) and a hex
//! `x-amz-content-sha256` (the signed payload hash, SigV4). A value that is not one is refused
//! as malformed, a value that does not match the body with S3's `BadDigest` (or
//! `XAmzContentSHA256Mismatch`), before anything is stored.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::Digest;

use super::S3Error;

/// A flexible checksum algorithm (the `ChecksumAlgorithm` values of the S3 API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// CRC-32 (ISO-HDLC), the AWS SDKs' default.
    Crc32,
    /// CRC-32C (Castagnoli).
    Crc32c,
    /// CRC-64/NVME, what S3 computes for an upload that carries no checksum.
    Crc64Nvme,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

impl Algorithm {
    /// Every algorithm.
    pub const ALL: [Algorithm; 5] = [
        Algorithm::Crc32,
        Algorithm::Crc32c,
        Algorithm::Crc64Nvme,
        Algorithm::Sha1,
        Algorithm::Sha256,
    ];

    /// Its name in `x-amz-sdk-checksum-algorithm` and `ChecksumAlgorithm` (`CRC32`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    /// The header (or trailer) that carries it: `x-amz-checksum-crc32`.
    pub fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Algorithm::Sha1 => "x-amz-checksum-sha1",
            Algorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// From its name, in any case.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// From its header's name, in any case.
    pub fn from_header(header: &str) -> Option<Algorithm> {
        Self::ALL
            .into_iter()
            .find(|a| a.header().eq_ignore_ascii_case(header))
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        use crc_fast::{CrcAlgorithm, checksum};
        match self {
            Algorithm::Crc32 => (checksum(CrcAlgorithm::Crc32IsoHdlc, data) as u32)
                .to_be_bytes()
                .to_vec(),
            Algorithm::Crc32c => (checksum(CrcAlgorithm::Crc32Iscsi, data) as u32)
                .to_be_bytes()
                .to_vec(),
            Algorithm::Crc64Nvme => checksum(CrcAlgorithm::Crc64Nvme, data)
                .to_be_bytes()
                .to_vec(),
            Algorithm::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Algorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
        }
    }

    /// The checksum of `data` as S3 sends it: base64 of the digest.
    pub fn compute(self, data: &[u8]) -> String {
        BASE64.encode(self.digest(data))
    }

    /// Checks the checksum `claimed` (base64) against `data`.
    pub fn verify(self, claimed: &str, data: &[u8]) -> Result<(), S3Error> {
        let expected_len = self.digest(&[]).len();
        match BASE64.decode(claimed.trim()) {
            Ok(bytes) if bytes.len() == expected_len => {}
            _ => {
                return Err(S3Error::invalid_request(format!(
                    "Value for {} header is invalid.",
                    self.header()
                )));
            }
        }
        if self.compute(data) == claimed.trim() {
            Ok(())
        } else {
            Err(S3Error::bad_digest(format!(
                "The {} you specified did not match the calculated checksum.",
                self.name()
            )))
        }
    }
}

/// The hex MD5 of `data`: a single-part object's ETag, without its quotes.
pub fn md5_hex(data: &[u8]) -> String {
    hex::encode(md5::Md5::digest(data))
}

/// Checks `Content-MD5` (base64 of the 16-byte MD5): `InvalidDigest` when it is not one,
/// `BadDigest` when it does not match (S3 API Reference, PutObject and "Error responses").
pub fn verify_md5(claimed: &str, data: &[u8]) -> Result<(), S3Error> {
    match BASE64.decode(claimed.trim()) {
        Ok(digest) if digest.len() == 16 => {
            if digest.as_slice() == md5::Md5::digest(data).as_slice() {
                Ok(())
            } else {
                Err(S3Error::bad_digest(
                    "The Content-MD5 you specified did not match what we received.",
                ))
            }
        }
        _ => Err(S3Error::invalid_digest()),
    }
}

/// Checks a hex `x-amz-content-sha256` (the payload hash a SigV4 signature covers):
/// `XAmzContentSHA256Mismatch` when it differs from the body's.
pub fn verify_content_sha256(claimed_hex: &str, data: &[u8]) -> Result<(), S3Error> {
    if claimed_hex.eq_ignore_ascii_case(&hex::encode(sha2::Sha256::digest(data))) {
        Ok(())
    } else {
        Err(S3Error::content_sha256_mismatch())
    }
}

/// Whether `value` is a hex SHA-256 (rather than one of the `x-amz-content-sha256` keywords).
pub fn is_hex_sha256(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check values of the CRC catalogue (`"123456789"`) and the FIPS test vector for
    /// SHA-1/SHA-256 (`"abc"`), as S3 encodes them: base64 of the big-endian digest.
    #[test]
    fn checksums_match_the_reference_values() {
        let check = |a: Algorithm, data: &[u8], digest_hex: &str| {
            assert_eq!(
                a.compute(data),
                BASE64.encode(hex::decode(digest_hex).unwrap()),
                "{a:?}"
            );
        };
        check(Algorithm::Crc32, b"123456789", "cbf43926");
        check(Algorithm::Crc32c, b"123456789", "e3069283");
        check(Algorithm::Crc64Nvme, b"123456789", "ae8b14860a799888");
        check(
            Algorithm::Sha1,
            b"abc",
            "a9993e364706816aba3e25717850c26c9cd0d89d",
        );
        check(
            Algorithm::Sha256,
            b"abc",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        );
        // What aws-sdk-s3 sends for "hello": the value moto echoed back for the same body.
        assert_eq!(Algorithm::Crc32.compute(b"hello"), "NhCmhg==");
    }

    #[test]
    fn a_matching_checksum_passes_and_others_are_refused_as_s3_refuses_them() {
        for a in Algorithm::ALL {
            let good = a.compute(b"body");
            a.verify(&good, b"body").unwrap();
            let err = a.verify(&good, b"bodY").unwrap_err();
            assert_eq!(err.code, "BadDigest", "{a:?}");
            assert_eq!(
                err.message,
                format!(
                    "The {} you specified did not match the calculated checksum.",
                    a.name()
                )
            );
            for malformed in ["", "not base64!", "AAAA", &BASE64.encode([0u8; 33])] {
                let err = a.verify(malformed, b"body").unwrap_err();
                assert_eq!(err.code, "InvalidRequest", "{a:?} {malformed}");
                assert!(err.message.contains(a.header()), "{}", err.message);
            }
            assert_eq!(Algorithm::from_name(&a.name().to_lowercase()), Some(a));
            assert_eq!(Algorithm::from_header(&a.header().to_uppercase()), Some(a));
        }
        assert_eq!(Algorithm::from_name("MD5"), None);
    }

    #[test]
    fn content_md5_and_content_sha256_are_checked() {
        let md5 = BASE64.encode(md5::Md5::digest(b"body"));
        verify_md5(&md5, b"body").unwrap();
        assert_eq!(verify_md5(&md5, b"other").unwrap_err().code, "BadDigest");
        assert_eq!(
            verify_md5("nope", b"body").unwrap_err().code,
            "InvalidDigest"
        );
        assert_eq!(md5_hex(b"hello"), "5d41402abc4b2a76b9719d911017c592");

        let sha = hex::encode(sha2::Sha256::digest(b"body"));
        assert!(is_hex_sha256(&sha));
        assert!(!is_hex_sha256("UNSIGNED-PAYLOAD"));
        verify_content_sha256(&sha.to_uppercase(), b"body").unwrap();
        assert_eq!(
            verify_content_sha256(&sha, b"other").unwrap_err().code,
            "XAmzContentSHA256Mismatch"
        );
    }
}
