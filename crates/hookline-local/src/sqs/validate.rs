//! What SQS accepts in a message: characters, size, attribute names and types.

use sha2::Digest as _;

use super::SqsError;
use super::message::NewMessage;

/// SQS's allowed characters: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

fn valid_attribute_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    (1..=256).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.")
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
}

/// Checks a message against SQS's rules and `max_size`.
pub fn message(message: &NewMessage, max_size: usize) -> Result<(), SqsError> {
    if message.body.is_empty() {
        return Err(SqsError::missing("MessageBody"));
    }
    if !message.body.chars().all(allowed) {
        return Err(SqsError::invalid_contents());
    }
    if message.attributes.len() > 10 {
        return Err(SqsError::invalid(
            "Number of message attributes [11] exceeds the allowed maximum [10].",
        ));
    }
    for (name, value) in &message.attributes {
        if !valid_attribute_name(name) {
            return Err(SqsError::invalid(format!(
                "Message (user) attribute name '{}' is invalid.",
                name.chars().take(256).collect::<String>()
            )));
        }
        let base = value.data_type.split('.').next().unwrap_or_default();
        let typed_ok = match base {
            "String" | "Number" => value
                .string_value
                .as_deref()
                .is_some_and(|v| !v.is_empty() && v.chars().all(allowed)),
            "Binary" => value.binary_value.as_ref().is_some_and(|v| !v.is_empty()),
            _ => false,
        };
        if !typed_ok || value.data_type.len() > 256 {
            return Err(SqsError::invalid(format!(
                "The message attribute '{name}' has an invalid data type or an empty value."
            )));
        }
        if base == "Number"
            && value
                .string_value
                .as_deref()
                .is_some_and(|v| v.parse::<f64>().is_err())
        {
            return Err(SqsError::invalid(format!(
                "Can't cast the value of message (user) attribute '{name}' to a number."
            )));
        }
    }
    if size(message) > max_size {
        return Err(SqsError::invalid(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {max_size} bytes."
        )));
    }
    if let Some(delay) = message.delay_secs
        && delay > 900
    {
        return Err(SqsError::invalid(
            "Value for parameter DelaySeconds is invalid. Reason: Must be between 0 and 900.",
        ));
    }
    for (field, value) in [
        ("MessageGroupId", &message.group_id),
        ("MessageDeduplicationId", &message.dedup_id),
    ] {
        if let Some(value) = value
            && (value.is_empty()
                || value.len() > 128
                || !value.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(SqsError::invalid(format!(
                "Value for parameter {field} is invalid: 1 to 128 alphanumeric or punctuation characters."
            )));
        }
    }
    Ok(())
}

/// A message's size as SQS counts it: the body and each attribute's name, type and value. "The
/// size of a message system attribute doesn't count towards the total size of a message" (SQS
/// API Reference, SendMessage), so the trace header is left out.
pub fn size(message: &NewMessage) -> usize {
    message.body.len()
        + message
            .attributes
            .iter()
            .map(|(name, value)| {
                name.len()
                    + value.data_type.len()
                    + value.string_value.as_ref().map_or(0, String::len)
                    + value.binary_value.as_ref().map_or(0, Vec::len)
            })
            .sum::<usize>()
}

/// Hex SHA-256 (content-based deduplication).
pub fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Most tags a queue has: "Adding more than 50 tags to a queue isn't recommended" (SQS API
/// Reference, TagQueue), and 50 is the quota ("Quotas related to queues", SQS Developer Guide).
const MAX_TAGS: usize = 50;

/// Checks a queue's tags against the quotas of that page: at most 50, keys of 1 to 128
/// characters, values of at most 256. Tags are case-sensitive, and a new tag with the key of an
/// existing one replaces it (TagQueue).
pub fn tags(tags: &std::collections::BTreeMap<String, String>) -> Result<(), SqsError> {
    if tags.len() > MAX_TAGS {
        return Err(SqsError::invalid(format!(
            "Too many tags: a queue has at most {MAX_TAGS}, this request would give it {}.",
            tags.len()
        )));
    }
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
            return Err(SqsError::invalid(format!(
                "Tag key '{}' or its value is invalid: keys are 1 to 128 characters, values at most 256.",
                SqsError::shown(key)
            )));
        }
    }
    Ok(())
}
