//! Reading the headers a scheme needs: exactly once, non-empty, visible ASCII.

use http::HeaderMap;

use super::VerifyError;

/// The value of a header that must appear exactly once.
///
/// API Gateway (payload 2.0) joins repeated headers with commas, so a repeated header may also
/// arrive as one value; each scheme's parser rejects that shape on its own.
pub(crate) fn single<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, VerifyError> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Err(VerifyError::MissingHeader {
            header: name.to_owned(),
        });
    };
    if values.next().is_some() {
        return Err(VerifyError::DuplicateHeader {
            header: name.to_owned(),
        });
    }
    let value = value.to_str().map_err(|_| VerifyError::MalformedHeader {
        header: name.to_owned(),
        reason: "the value is not visible ASCII",
    })?;
    let value = value.trim();
    if value.is_empty() {
        return Err(VerifyError::MissingHeader {
            header: name.to_owned(),
        });
    }
    Ok(value)
}

/// Like [`single`], but `None` when the header is absent.
pub(crate) fn optional<'a>(
    headers: &'a HeaderMap,
    name: &str,
) -> Result<Option<&'a str>, VerifyError> {
    if headers.contains_key(name) {
        single(headers, name).map(Some)
    } else {
        Ok(None)
    }
}

/// The hex signature of `len` bytes after `prefix` (`v0=`, `sha256=`) in header `header`'s
/// `value`; `reason` says which prefix was expected.
pub(crate) fn prefixed_hex(
    value: &str,
    prefix: &str,
    len: usize,
    header: &str,
    reason: &'static str,
) -> Result<Vec<u8>, VerifyError> {
    let hex = value
        .strip_prefix(prefix)
        .ok_or(VerifyError::MalformedHeader {
            header: header.to_owned(),
            reason,
        })?;
    decode_hex(hex, len, header)
}

/// Decodes a lowercase or uppercase hex signature of exactly `len` bytes.
pub(crate) fn decode_hex(value: &str, len: usize, header: &str) -> Result<Vec<u8>, VerifyError> {
    let bytes = hex::decode(value).map_err(|_| VerifyError::MalformedHeader {
        header: header.to_owned(),
        reason: "the signature is not hex",
    })?;
    check_len(bytes, len, header)
}

/// Decodes a standard-alphabet base64 signature of exactly `len` bytes (padding optional).
pub(crate) fn decode_base64(value: &str, len: usize, header: &str) -> Result<Vec<u8>, VerifyError> {
    use base64::Engine as _;
    let bytes = super::keys::BASE64
        .decode(value)
        .map_err(|_| VerifyError::MalformedHeader {
            header: header.to_owned(),
            reason: "the signature is not base64",
        })?;
    check_len(bytes, len, header)
}

fn check_len(bytes: Vec<u8>, len: usize, header: &str) -> Result<Vec<u8>, VerifyError> {
    if bytes.len() == len {
        Ok(bytes)
    } else {
        Err(VerifyError::MalformedHeader {
            header: header.to_owned(),
            reason: "the signature has the wrong length",
        })
    }
}
