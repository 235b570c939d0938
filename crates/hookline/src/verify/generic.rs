//! A configurable HMAC over the raw body, for providers without a built-in scheme:
//! one header, SHA-1/SHA-256/SHA-512, hex or base64, with an optional prefix such as `sha256=`.

use std::fmt;
use std::str::FromStr;

use http::HeaderName;

use super::keys::Key;
use super::{Context, Named, Outgoing, Request, SchemeSpec, Signed, VerifyError, headers};
use crate::describe::{Description, MalformedBody};

/// The hash function of a [`GenericHmac`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// HMAC-SHA1 (only for senders that offer nothing better).
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

impl Algorithm {
    fn output_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        }
    }
}

impl FromStr for Algorithm {
    type Err = GenericHmacError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "sha1" => Ok(Algorithm::Sha1),
            "sha256" => Ok(Algorithm::Sha256),
            "sha512" => Ok(Algorithm::Sha512),
            _ => Err(GenericHmacError::Algorithm(s.to_owned())),
        }
    }
}

/// How a [`GenericHmac`] signature is written in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Hexadecimal, either case.
    Hex,
    /// Standard-alphabet base64, padding optional.
    Base64,
}

impl FromStr for Encoding {
    type Err = GenericHmacError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "hex" => Ok(Encoding::Hex),
            "base64" => Ok(Encoding::Base64),
            _ => Err(GenericHmacError::Encoding(s.to_owned())),
        }
    }
}

/// A generic-hmac setting that is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenericHmacError {
    /// The header name is not a valid HTTP header name.
    #[error("`{0}` is not a valid HTTP header name")]
    Header(String),
    /// Unknown hash algorithm.
    #[error("unknown HMAC algorithm `{0}`: expected sha1, sha256 or sha512")]
    Algorithm(String),
    /// Unknown encoding.
    #[error("unknown signature encoding `{0}`: expected hex or base64")]
    Encoding(String),
    /// A prefix that no header value can start with.
    #[error("the signature prefix must be visible ASCII characters (no spaces)")]
    Prefix,
}

/// The settings of the `generic-hmac` scheme.
#[derive(Clone, PartialEq, Eq)]
pub struct GenericHmac {
    header: HeaderName,
    /// The hash function.
    pub algorithm: Algorithm,
    /// How the signature is encoded.
    pub encoding: Encoding,
    /// A prefix before the encoded signature, such as `sha256=`; `None` for none.
    pub prefix: Option<String>,
}

impl fmt::Debug for GenericHmac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenericHmac")
            .field("header", &self.header.as_str())
            .field("algorithm", &self.algorithm)
            .field("encoding", &self.encoding)
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl Default for GenericHmac {
    /// `X-Signature`, HMAC-SHA256, hex, no prefix.
    fn default() -> Self {
        GenericHmac {
            header: HeaderName::from_static("x-signature"),
            algorithm: Algorithm::Sha256,
            encoding: Encoding::Hex,
            prefix: None,
        }
    }
}

impl GenericHmac {
    /// Builds the settings; the header name is matched case-insensitively.
    pub fn new(
        header: &str,
        algorithm: Algorithm,
        encoding: Encoding,
        prefix: Option<String>,
    ) -> Result<Self, GenericHmacError> {
        let header = HeaderName::from_bytes(header.trim().as_bytes())
            .map_err(|_| GenericHmacError::Header(header.to_owned()))?;
        // Signature values are checked to be visible ASCII, so any other prefix never matches.
        if prefix
            .as_deref()
            .is_some_and(|p| !p.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(GenericHmacError::Prefix);
        }
        Ok(GenericHmac {
            header,
            algorithm,
            encoding,
            prefix: prefix.filter(|p| !p.is_empty()),
        })
    }

    /// The (lowercase) name of the signature header.
    pub fn header(&self) -> &str {
        self.header.as_str()
    }

    /// Settings fixed in code (GitHub's and Shopify's presets); `header` must be a lowercase
    /// header name, checked by their tests.
    pub(crate) fn preset(
        header: &'static str,
        algorithm: Algorithm,
        encoding: Encoding,
        prefix: Option<&str>,
    ) -> GenericHmac {
        GenericHmac {
            header: HeaderName::from_static(header),
            algorithm,
            encoding,
            prefix: prefix.map(str::to_owned),
        }
    }

    /// The signature this scheme sends for `body`: prefix and encoded MAC.
    pub(crate) fn header_value(&self, key: &Key, body: &[u8]) -> String {
        let encoded = match self.encoding {
            Encoding::Hex => key.mac_hex(&[body]),
            Encoding::Base64 => key.mac_base64(&[body]),
        };
        format!("{}{encoded}", self.prefix.as_deref().unwrap_or_default())
    }
}

impl Named for GenericHmac {
    const NAME: &'static str = "generic-hmac";
}

impl SchemeSpec for GenericHmac {
    fn signature_headers(&self) -> Vec<&str> {
        vec![self.header.as_str()]
    }

    fn signs_timestamp(&self) -> bool {
        false
    }

    fn key(&self, secret: &str) -> Result<Key, &'static str> {
        Key::hmac(self.algorithm, secret.as_bytes()).ok_or("a non-empty secret")
    }

    fn verify(&self, ctx: &Context<'_>, request: &Request<'_>) -> Result<(), VerifyError> {
        let name = self.header.as_str();
        let value = headers::single(request.headers, name)?;
        let encoded = match &self.prefix {
            Some(prefix) => {
                value
                    .strip_prefix(prefix.as_str())
                    .ok_or(VerifyError::MalformedHeader {
                        header: name.to_owned(),
                        reason: "the value does not start with the expected prefix",
                    })?
            }
            None => value,
        };
        let len = self.algorithm.output_len();
        let signature = match self.encoding {
            Encoding::Hex => headers::decode_hex(encoded, len, name)?,
            Encoding::Base64 => headers::decode_base64(encoded, len, name)?,
        };
        ctx.expect_mac(&[request.body], &[signature])
    }

    /// A generic sender signs neither an id nor a type: the body is all there is.
    fn describe(&self, request: &Request<'_>, _keys: &[Key]) -> Result<Description, MalformedBody> {
        Ok(Description::unsigned_id(None, None, request.body))
    }

    fn sign(&self, key: &Key, message: &Outgoing<'_>) -> Signed {
        Signed::with_headers(
            message,
            vec![(self.header(), self.header_value(key, message.body))],
        )
    }

    fn generic_hmac(&self) -> Option<&GenericHmac> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};

    use super::super::test_support::*;
    use super::super::{Scheme, VerifyError};
    use super::*;

    fn scheme(header: &str, algorithm: &str, encoding: &str, prefix: Option<&str>) -> Scheme {
        Scheme::generic_hmac(
            GenericHmac::new(
                header,
                algorithm.parse().unwrap(),
                encoding.parse().unwrap(),
                prefix.map(str::to_owned),
            )
            .unwrap(),
        )
    }

    fn mac(algorithm: &str, key: &[u8], body: &[u8]) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], body: &[u8]) -> Vec<u8> {
            let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).unwrap();
            m.update(body);
            m.finalize().into_bytes().to_vec()
        }
        match algorithm {
            "sha1" => run::<Hmac<sha1::Sha1>>(key, body),
            "sha256" => run::<Hmac<sha2::Sha256>>(key, body),
            _ => run::<Hmac<sha2::Sha512>>(key, body),
        }
    }

    #[test]
    fn every_algorithm_and_encoding_verifies() {
        let body = br#"{"event":"x"}"#;
        for algorithm in ["sha1", "sha256", "sha512"] {
            for encoding in ["hex", "base64"] {
                let raw = mac(algorithm, b"k", body);
                let encoded = match encoding {
                    "hex" => hex::encode(&raw),
                    _ => base64::engine::general_purpose::STANDARD.encode(&raw),
                };
                let v = verifier(
                    scheme("X-My-Sig", algorithm, encoding, Some("sig=")),
                    &["k"],
                );
                let h = headers(&[("x-my-sig", &format!("sig={encoded}"))]);
                assert_eq!(v.verify(&h, body, 0), Ok(()), "{algorithm} {encoding}");
                let no_prefix = headers(&[("x-my-sig", &encoded)]);
                assert_eq!(
                    v.verify(&no_prefix, body, 0).map_err(|e| e.code()),
                    Err("malformed_signature")
                );
                assert_eq!(
                    v.verify(&h, b"other", 0),
                    Err(VerifyError::SignatureMismatch)
                );
            }
        }
    }

    #[test]
    fn pagerduty_style_sha256_hex_with_prefix() {
        // GitHub's published vector, read through the generic scheme configured like GitHub.
        let v = verifier(
            scheme("x-hub-signature-256", "sha256", "hex", Some("sha256=")),
            &["It's a Secret to Everybody"],
        );
        let h = headers(&[(
            "X-Hub-Signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        )]);
        assert_eq!(v.verify(&h, b"Hello, World!", 0), Ok(()));
    }

    #[test]
    fn wrong_length_for_the_algorithm_is_malformed() {
        let body = b"b";
        let sha1 = hex::encode(mac("sha1", b"k", body));
        let v = verifier(scheme("x-sig", "sha256", "hex", None), &["k"]);
        assert_eq!(
            v.verify(&headers(&[("x-sig", &sha1)]), body, 0)
                .map_err(|e| e.code()),
            Err("malformed_signature")
        );
        assert_eq!(
            v.verify(&headers(&[]), body, 0).map_err(|e| e.code()),
            Err("missing_signature")
        );
    }

    #[test]
    fn bad_settings_are_reported() {
        assert_eq!(
            "md5".parse::<Algorithm>(),
            Err(GenericHmacError::Algorithm("md5".into()))
        );
        assert_eq!(
            "b32".parse::<Encoding>(),
            Err(GenericHmacError::Encoding("b32".into()))
        );
        assert_eq!(
            GenericHmac::new("bad header", Algorithm::Sha256, Encoding::Hex, None),
            Err(GenericHmacError::Header("bad header".into()))
        );
    }

    /// Found by the verify_generic_hmac fuzz target: a non-ASCII prefix was accepted, and then
    /// no delivery could ever verify (signature values must be visible ASCII).
    #[test]
    fn a_prefix_no_header_can_carry_is_refused() {
        for prefix in ["sha256 =", "caf\u{e9}=", "v1\t"] {
            assert_eq!(
                GenericHmac::new(
                    "x-signature",
                    Algorithm::Sha256,
                    Encoding::Hex,
                    Some(prefix.into())
                ),
                Err(GenericHmacError::Prefix),
                "{prefix:?}"
            );
        }
        assert!(
            GenericHmac::new(
                "x-signature",
                Algorithm::Sha256,
                Encoding::Hex,
                Some("sha256=".into())
            )
            .is_ok()
        );
    }
}
