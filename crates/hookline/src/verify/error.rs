//! Why a secret cannot be a key, and why a delivery was refused. No message ever contains a
//! secret or a signature.

/// Why a set of secrets cannot be used for a scheme. Messages name the secret by position only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No secret was given.
    #[error("no signing secret is configured; refusing to accept unsigned traffic")]
    NoSecrets,
    /// A secret is empty (or only whitespace).
    #[error("signing secret #{index} is empty")]
    Empty {
        /// 1-based position of the secret.
        index: usize,
    },
    /// A secret is not of the form the scheme's keys take.
    #[error("signing secret #{index} is not {expected}")]
    NotAKey {
        /// 1-based position of the secret.
        index: usize,
        /// What a key of this scheme looks like.
        expected: &'static str,
    },
}

/// Why a delivery was rejected. Every variant maps to HTTP 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A header the scheme needs is absent or empty.
    #[error("missing {header} header")]
    MissingHeader {
        /// The header's name.
        header: String,
    },
    /// A header the scheme needs appears more than once.
    #[error("the {header} header appears more than once")]
    DuplicateHeader {
        /// The header's name.
        header: String,
    },
    /// A header is present but cannot be parsed.
    #[error("the {header} header is malformed: {reason}")]
    MalformedHeader {
        /// The header's name.
        header: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The signed timestamp is older than the tolerance.
    #[error("the signed timestamp is {age_secs} s old, beyond the {tolerance_secs} s tolerance")]
    TimestampTooOld {
        /// How old the timestamp is.
        age_secs: u64,
        /// The configured tolerance.
        tolerance_secs: u64,
    },
    /// The signed timestamp is further in the future than the tolerance.
    #[error(
        "the signed timestamp is {ahead_secs} s in the future, beyond the {tolerance_secs} s tolerance"
    )]
    TimestampInFuture {
        /// How far ahead the timestamp is.
        ahead_secs: u64,
        /// The configured tolerance.
        tolerance_secs: u64,
    },
    /// The signatures are well formed but none matches the body with any secret.
    #[error("no signature matches the request body with any configured secret")]
    SignatureMismatch,
}

impl VerifyError {
    /// A stable short code for API responses and logs.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::MissingHeader { .. } => "missing_signature",
            VerifyError::DuplicateHeader { .. } | VerifyError::MalformedHeader { .. } => {
                "malformed_signature"
            }
            VerifyError::TimestampTooOld { .. } | VerifyError::TimestampInFuture { .. } => {
                "timestamp_out_of_tolerance"
            }
            VerifyError::SignatureMismatch => "invalid_signature",
        }
    }
}
