//! Where signing secrets come from: an environment variable (local) or AWS Secrets Manager
//! (deployed, fetched once at cold start). Either holds one secret, or a JSON array of the
//! secrets in rotation. No error here ever includes a secret's value.

use std::fmt;

use crate::verify::SigningSecret;

/// Where a provider's signing secrets are read from.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// The value of `HOOKLINE_SIGNING_SECRET`, already read.
    Env(String),
    /// An AWS Secrets Manager secret, by ARN or name.
    SecretsManager {
        /// The secret's ARN (or name).
        arn: String,
    },
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(_) => f.write_str("Env(<redacted>)"),
            SecretSource::SecretsManager { arn } => {
                f.debug_struct("SecretsManager").field("arn", arn).finish()
            }
        }
    }
}

/// Why the signing secrets could not be loaded. The function must not start without them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The value is empty.
    #[error("the signing secret from {source_name} is empty")]
    Empty {
        /// Where it came from.
        source_name: String,
    },
    /// The value looks like JSON but is not an array of non-empty strings.
    #[error(
        "the signing secret from {source_name} starts with `[` but is not a JSON array of non-empty strings"
    )]
    BadJson {
        /// Where it came from.
        source_name: String,
    },
    /// The value is a JSON object without the one key it may hold the secret under.
    #[error(
        "the signing secret from {source_name} is a JSON object (Secrets Manager's key/value form) without a `{SECRET_KEY}` key: store the secret as plaintext, or under the key `{SECRET_KEY}`"
    )]
    KeyValue {
        /// Where it came from.
        source_name: String,
    },
    /// Secrets Manager did not return the secret.
    #[error("could not read the signing secret {arn} from AWS Secrets Manager: {reason}")]
    Fetch {
        /// The secret's ARN.
        arn: String,
        /// The SDK's error (never contains the value).
        reason: String,
    },
    /// The secret has no string value (a binary secret).
    #[error("the Secrets Manager secret {arn} has no string value")]
    NotAString {
        /// The secret's ARN.
        arn: String,
    },
}

#[cfg(feature = "aws")]
impl SecretSource {
    /// Loads the secrets: at once for `Env`, with one Secrets Manager call otherwise.
    pub async fn load(&self) -> Result<Vec<SigningSecret>, SecretError> {
        match self {
            SecretSource::Env(value) => {
                parse_secret_value(value, crate::config::vars::SIGNING_SECRET)
            }
            SecretSource::SecretsManager { arn } => {
                let config = aws_config::load_from_env().await;
                let client = aws_sdk_secretsmanager::Client::new(&config);
                fetch(&client, arn).await
            }
        }
    }
}

/// Reads a secret with a given Secrets Manager client.
#[cfg(feature = "aws")]
pub async fn fetch(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<Vec<SigningSecret>, SecretError> {
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|err| SecretError::Fetch {
            arn: arn.to_owned(),
            reason: aws_sdk_secretsmanager::error::DisplayErrorContext(&err).to_string(),
        })?;
    let value = output
        .secret_string()
        .ok_or_else(|| SecretError::NotAString {
            arn: arn.to_owned(),
        })?;
    parse_secret_value(value, arn)
}

/// The key of Secrets Manager's key/value form that holds the secret (or a JSON array of them).
pub const SECRET_KEY: &str = "signing_secret";

/// Parses a stored secret value: one secret as is, a JSON array of secrets (rotation), or
/// Secrets Manager's key/value form (the console's default) with the secret, or an array, under
/// [`SECRET_KEY`]. Each secret is trimmed.
pub fn parse_secret_value(
    value: &str,
    source_name: &str,
) -> Result<Vec<SigningSecret>, SecretError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(SecretError::Empty {
            source_name: source_name.to_owned(),
        });
    }
    if trimmed.starts_with('{') {
        let key_value = || SecretError::KeyValue {
            source_name: source_name.to_owned(),
        };
        // As below, serde_json's error is dropped: it can quote the value.
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(trimmed).map_err(|_| key_value())?;
        return match object.get(SECRET_KEY) {
            Some(serde_json::Value::String(value)) => parse_secret_value(value, source_name),
            Some(list @ serde_json::Value::Array(_)) => {
                parse_secret_value(&list.to_string(), source_name)
            }
            _ => Err(key_value()),
        };
    }
    if !trimmed.starts_with('[') {
        return Ok(vec![SigningSecret::new(trimmed)]);
    }
    let bad_json = || SecretError::BadJson {
        source_name: source_name.to_owned(),
    };
    // serde_json's messages can quote the input, so its error is dropped, not forwarded.
    let list: Vec<String> = serde_json::from_str(trimmed).map_err(|_| bad_json())?;
    if list.is_empty() || list.iter().any(|s| s.trim().is_empty()) {
        return Err(bad_json());
    }
    Ok(list.iter().map(|s| SigningSecret::new(s.trim())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_secret_or_a_json_list() {
        let one = parse_secret_value("  whsec_abc \n", "env").unwrap();
        assert_eq!(one, [SigningSecret::new("whsec_abc")]);
        let two = parse_secret_value(r#"["whsec_new", "whsec_old"]"#, "env").unwrap();
        assert_eq!(
            two,
            [
                SigningSecret::new("whsec_new"),
                SigningSecret::new("whsec_old")
            ]
        );
        // A secret with spaces and commas is still one secret.
        let spaced = parse_secret_value("It's a Secret, to Everybody", "env").unwrap();
        assert_eq!(spaced.len(), 1);
    }

    #[test]
    fn empty_or_bad_values_fail_without_quoting_them() {
        assert!(matches!(
            parse_secret_value(" ", "env"),
            Err(SecretError::Empty { .. })
        ));
        for bad in [
            "[]",
            r#"["ok", ""]"#,
            r#"["whsec_topsecret", 5]"#,
            "[whsec_topsecret",
        ] {
            let err = parse_secret_value(bad, "env").unwrap_err();
            assert!(matches!(err, SecretError::BadJson { .. }), "{bad}");
            assert!(!err.to_string().contains("topsecret"), "{err}");
        }
    }

    #[test]
    fn array_items_are_trimmed() {
        let two = parse_secret_value("[\" whsec_new\\n\", \"whsec_old \"]", "env").unwrap();
        assert_eq!(
            two,
            [
                SigningSecret::new("whsec_new"),
                SigningSecret::new("whsec_old")
            ]
        );
    }

    #[test]
    fn the_key_value_form_is_read_from_its_key_or_refused_clearly() {
        let one = parse_secret_value(r#"{"signing_secret": " whsec_abc "}"#, "arn").unwrap();
        assert_eq!(one, [SigningSecret::new("whsec_abc")]);
        let two = parse_secret_value(r#"{"signing_secret": ["new", "old"]}"#, "arn").unwrap();
        assert_eq!(two.len(), 2);
        for bad in [
            r#"{"stripe": "whsec_topsecret"}"#,
            "{whsec_topsecret",
            r#"{"signing_secret": 5}"#,
        ] {
            let err = parse_secret_value(bad, "arn").unwrap_err();
            assert!(matches!(err, SecretError::KeyValue { .. }), "{bad}");
            assert!(!err.to_string().contains("topsecret"), "{err}");
            assert!(
                err.to_string().contains("under the key `signing_secret`"),
                "{err}"
            );
        }
    }

    #[test]
    fn debug_redacts_env_values() {
        let source = SecretSource::Env("whsec_topsecret".into());
        assert_eq!(format!("{source:?}"), "Env(<redacted>)");
    }
}
