//! Queue attributes: the ones a caller set (validated against SQS's names and ranges), and
//! SQS's defaults for the rest.

use std::collections::BTreeMap;

use super::SqsError;
use crate::aws_local;

/// What an attribute accepts.
enum Accepts {
    /// A whole number in a range.
    Number(u32, u32),
    /// `true` or `false`, in any case (SQS accepts `True`, observed; stored as `true`).
    Bool,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// Any text (policies, key ids).
    Text,
}

/// `DeduplicationScope`'s values (SQS API Reference, SetQueueAttributes).
const DEDUPLICATION_SCOPES: &[&str] = &["messageGroup", "queue"];
/// `FifoThroughputLimit`'s values (same page).
const FIFO_THROUGHPUT_LIMITS: &[&str] = &["perQueue", "perMessageGroupId"];
/// The attributes only a FIFO queue has; a standard queue refuses them as unknown.
const FIFO_ONLY: [&str; 3] = [
    "ContentBasedDeduplication",
    "DeduplicationScope",
    FIFO_THROUGHPUT_LIMIT,
];

/// Every attribute a caller may set (SQS `SetQueueAttributes`), what it accepts, and whether a
/// queue may lack it: asking `GetQueueAttributes` for such an unset one is no error, it is just
/// left out of the answer. The others always have a value (SQS's default).
const SETTABLE: [(&str, Accepts, bool); 15] = [
    ("DelaySeconds", Accepts::Number(0, 900), false),
    (
        "MaximumMessageSize",
        Accepts::Number(1024, 1_048_576),
        false,
    ),
    (
        "MessageRetentionPeriod",
        Accepts::Number(60, 1_209_600),
        false,
    ),
    (
        "ReceiveMessageWaitTimeSeconds",
        Accepts::Number(0, 20),
        false,
    ),
    ("VisibilityTimeout", Accepts::Number(0, 43_200), false),
    (
        "KmsDataKeyReusePeriodSeconds",
        Accepts::Number(60, 86_400),
        true,
    ),
    ("Policy", Accepts::Text, true),
    ("RedrivePolicy", Accepts::Text, true),
    ("RedriveAllowPolicy", Accepts::Text, true),
    ("FifoQueue", Accepts::Bool, true),
    ("ContentBasedDeduplication", Accepts::Bool, true),
    ("KmsMasterKeyId", Accepts::Text, true),
    ("SqsManagedSseEnabled", Accepts::Bool, false),
    (
        "DeduplicationScope",
        Accepts::OneOf(DEDUPLICATION_SCOPES),
        true,
    ),
    (
        FIFO_THROUGHPUT_LIMIT,
        Accepts::OneOf(FIFO_THROUGHPUT_LIMITS),
        true,
    ),
];

const FIFO_THROUGHPUT_LIMIT: &str = "FifoThroughputLimit";

/// Whether a queue may lack the attribute `name` (then asking for it is no error).
pub fn may_be_unset(name: &str) -> bool {
    SETTABLE
        .iter()
        .any(|(n, _, optional)| *n == name && *optional)
}

/// A queue's attributes as set by callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueAttributes {
    name: String,
    set: BTreeMap<String, String>,
}

fn valid_queue_name(name: &str) -> bool {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    (1..=80).contains(&name.len())
        && !base.is_empty()
        && base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Checks one attribute; returns the value as stored (booleans in lower case).
fn check(name: &str, value: &str) -> Result<String, SqsError> {
    let Some((_, accepts, _)) = SETTABLE.iter().find(|(n, _, _)| *n == name) else {
        return Err(SqsError::invalid_attribute(name));
    };
    match accepts {
        Accepts::Number(min, max) => {
            if !value
                .parse::<u32>()
                .is_ok_and(|v| (*min..=*max).contains(&v))
            {
                return Err(SqsError::invalid(format!(
                    "Invalid value for the parameter {name}: must be a whole number from {min} to {max}."
                )));
            }
        }
        Accepts::Bool => {
            if !(value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false")) {
                return Err(SqsError::invalid(format!(
                    "Invalid value for the parameter {name}: must be true or false."
                )));
            }
            return Ok(value.to_ascii_lowercase());
        }
        Accepts::OneOf(words) => {
            if !words.contains(&value) {
                return Err(SqsError::invalid(format!(
                    "Invalid value for the parameter {name}: must be one of {}.",
                    words.join(", ")
                )));
            }
        }
        Accepts::Text => {}
    }
    Ok(value.to_owned())
}

/// Checks every attribute of a request; returns them as stored.
fn checked(requested: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, SqsError> {
    requested
        .iter()
        .map(|(key, value)| Ok((key.clone(), check(key, value)?)))
        .collect()
}

impl QueueAttributes {
    /// Validates a CreateQueue request.
    pub fn for_create(name: &str, requested: &BTreeMap<String, String>) -> Result<Self, SqsError> {
        if !valid_queue_name(name) {
            return Err(SqsError::invalid(
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
            ));
        }
        let requested = checked(requested)?;
        let fifo = requested.get("FifoQueue").is_some_and(|v| v == "true");
        if fifo != name.ends_with(".fifo") {
            return Err(SqsError::invalid(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.",
            ));
        }
        if !fifo && let Some(key) = FIFO_ONLY.iter().find(|k| requested.contains_key(**k)) {
            return Err(SqsError::invalid_attribute(key));
        }
        let mut set = requested;
        if !fifo {
            set.remove("FifoQueue");
        }
        let attributes = QueueAttributes {
            name: name.to_owned(),
            set,
        };
        attributes.check_throughput()?;
        Ok(attributes)
    }

    /// "The perMessageGroupId value is allowed only when the value for DeduplicationScope is
    /// messageGroup" (SQS API Reference, SetQueueAttributes).
    fn check_throughput(&self) -> Result<(), SqsError> {
        if self
            .reported()
            .get(FIFO_THROUGHPUT_LIMIT)
            .map(String::as_str)
            == Some("perMessageGroupId")
            && !self.dedup_per_group()
        {
            return Err(SqsError::invalid(
                "Invalid value for the parameter FifoThroughputLimit: perMessageGroupId is allowed only when DeduplicationScope is messageGroup.",
            ));
        }
        Ok(())
    }

    /// Applies a SetQueueAttributes request.
    pub fn update(&mut self, changes: &BTreeMap<String, String>) -> Result<(), SqsError> {
        let mut next = self.clone();
        for (key, value) in changes {
            if key == "FifoQueue" {
                return Err(SqsError::invalid(
                    "FifoQueue can only be set when the queue is created.",
                ));
            }
            if !self.fifo() && FIFO_ONLY.contains(&key.as_str()) {
                return Err(SqsError::invalid_attribute(key));
            }
            if value.is_empty() {
                next.set.remove(key);
            } else {
                next.set.insert(key.clone(), check(key, value)?);
            }
        }
        next.check_throughput()?;
        *self = next;
        Ok(())
    }

    /// What callers set, for comparing CreateQueue requests.
    pub fn explicit(&self) -> &BTreeMap<String, String> {
        &self.set
    }

    pub(crate) fn to_json(&self) -> String {
        serde_json::json!({ "name": self.name, "set": self.set }).to_string()
    }

    pub(crate) fn from_json(json: &str) -> Result<Self, SqsError> {
        #[derive(serde::Deserialize)]
        struct Stored {
            name: String,
            set: BTreeMap<String, String>,
        }
        let stored: Stored = serde_json::from_str(json)
            .map_err(|e| SqsError::internal(format!("corrupt queue attributes: {e}")))?;
        Ok(QueueAttributes {
            name: stored.name,
            set: stored.set,
        })
    }

    fn number(&self, name: &str, default: u32) -> u32 {
        self.set
            .get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    /// FIFO queue.
    pub fn fifo(&self) -> bool {
        self.set.get("FifoQueue").is_some_and(|v| v == "true")
    }

    /// Content-based deduplication (FIFO).
    pub fn content_based_deduplication(&self) -> bool {
        self.set
            .get("ContentBasedDeduplication")
            .is_some_and(|v| v == "true")
    }

    /// Whether FIFO deduplication is per message group (`DeduplicationScope=messageGroup`).
    pub fn dedup_per_group(&self) -> bool {
        self.set.get("DeduplicationScope").map(String::as_str) == Some("messageGroup")
    }

    /// Default visibility timeout.
    pub fn visibility_timeout_secs(&self) -> u32 {
        self.number("VisibilityTimeout", 30)
    }

    /// Default delay.
    pub fn delay_secs(&self) -> u32 {
        self.number("DelaySeconds", 0)
    }

    /// Retention.
    pub fn retention_secs(&self) -> u32 {
        self.number("MessageRetentionPeriod", 345_600)
    }

    /// Default long-poll wait.
    pub fn receive_wait_secs(&self) -> u32 {
        self.number("ReceiveMessageWaitTimeSeconds", 0)
    }

    /// Size limit.
    pub fn maximum_message_size(&self) -> usize {
        self.number("MaximumMessageSize", 1_048_576) as usize
    }

    /// The dead-letter queue's name and `maxReceiveCount`, from `RedrivePolicy`.
    pub fn redrive(&self) -> Result<Option<(String, u32)>, SqsError> {
        let Some(policy) = self.set.get("RedrivePolicy").filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        let invalid = |reason: &str| {
            SqsError::invalid(format!(
                "Value {policy} for parameter RedrivePolicy is invalid. Reason: {reason}"
            ))
        };
        let value: serde_json::Value = serde_json::from_str(policy)
            .map_err(|_| invalid("Redrive policy is not a valid JSON map."))?;
        let arn = value
            .get("deadLetterTargetArn")
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                invalid("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
            })?;
        let count = match value.get("maxReceiveCount") {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.parse().ok(),
            _ => None,
        }
        .filter(|n| (1..=1000).contains(n))
        .ok_or_else(|| invalid("Invalid value for maxReceiveCount: must be 1 to 1000."))?;
        let dlq = arn.rsplit(':').next().unwrap_or_default().to_owned();
        Ok(Some((dlq, u32::try_from(count).unwrap_or(1000))))
    }

    /// The queue's ARN.
    pub fn arn(&self) -> String {
        aws_local::sqs_queue_arn(&self.name)
    }

    /// Every attribute SQS reports, with defaults, except the computed counts and times. New
    /// queues are encrypted with SQS-managed keys unless given a KMS key: "all newly created
    /// queues using HTTPS (TLS) and Signature Version 4 endpoints are encrypted using SQS-owned
    /// encryption (SSE-SQS) by default" (AWS Compute Blog, "Announcing server-side encryption
    /// with Amazon Simple Queue Service-managed encryption keys (SSE-SQS) by default"; the local
    /// endpoint is plain HTTP, but it stands for the HTTPS one deployed code uses); a FIFO
    /// queue reports its deduplication scope and throughput limit, `queue` and `perQueue` unless
    /// set (SQS API Reference, SetQueueAttributes).
    pub fn reported(&self) -> BTreeMap<String, String> {
        let sse = if self.set.contains_key("KmsMasterKeyId") {
            "false"
        } else {
            "true"
        };
        let mut defaults = vec![
            ("VisibilityTimeout", "30"),
            ("MaximumMessageSize", "1048576"),
            ("MessageRetentionPeriod", "345600"),
            ("DelaySeconds", "0"),
            ("ReceiveMessageWaitTimeSeconds", "0"),
            ("SqsManagedSseEnabled", sse),
        ];
        if self.fifo() {
            defaults.extend([
                ("ContentBasedDeduplication", "false"),
                ("DeduplicationScope", "queue"),
                (FIFO_THROUGHPUT_LIMIT, "perQueue"),
            ]);
        }
        let mut out: BTreeMap<String, String> = defaults
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        out.extend(self.set.clone());
        out.insert("QueueArn".to_owned(), self.arn());
        out
    }
}
