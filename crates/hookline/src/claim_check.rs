//! Deliveries bigger than a queue message: the claim check.
//!
//! An SQS message holds at most 1 MiB ([`crate::queue::SQS_MAX_MESSAGE_BYTES`]), an ingest
//! function can be given almost 6 MB ([`crate::ingest::MAX_BODY_BYTES`]). When a delivery's
//! envelope does not fit one message, ingest writes the raw body to the stage's body bucket
//! first, under [`object_key`], then queues an envelope that points at it with the body's size
//! and SHA-256. The processor fetches the body when the delivery is handled, checks the hash,
//! and deletes the object once the handler succeeded; a message that fails keeps its object for
//! the dead-letter queue (a lifecycle rule on the bucket removes what is left).

use chrono::{DateTime, Utc};

/// The key prefix of a provider's bodies: each function is granted only its provider's.
pub fn key_prefix(provider: &str) -> String {
    format!("{provider}/")
}

/// Where a body is stored: `<provider>/<yyyy>/<mm>/<dd>/<envelope id>`, so keys sort by day and,
/// within a day, by arrival (envelope ids are UUIDv7).
pub fn object_key(provider: &str, received_at: DateTime<Utc>, envelope_id: &str) -> String {
    format!(
        "{}{}/{envelope_id}",
        key_prefix(provider),
        received_at.format("%Y/%m/%d")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_the_provider_the_day_and_the_envelope_id() {
        let at = DateTime::parse_from_rfc3339("2026-12-02T23:59:59Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            object_key("stripe", at, "0193-abc"),
            "stripe/2026/12/02/0193-abc"
        );
        assert!(object_key("stripe", at, "x").starts_with(&key_prefix("stripe")));
    }
}
