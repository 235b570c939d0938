//! `dlq list`: every message of a dead-letter queue, found with long polling. On AWS a short
//! poll samples a subset of the servers and "might not return all of your messages" or even
//! none (SQS Developer Guide, "Amazon SQS short and long polling"), so an empty short poll does
//! not mean an empty queue: the listing asks `ApproximateNumberOfMessages` how many to expect
//! and receives with `WaitTimeSeconds`, which "queries all of the servers", until it has seen
//! them all or a long poll comes back empty.

use std::collections::BTreeMap;

use anyhow::Result;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
use hookline::Envelope;

use super::sdk_error;

/// How long each receive waits for messages (long polling: any wait above zero queries every
/// server; a few seconds also covers messages turning visible meanwhile).
const LONG_POLL_SECS: i32 = 5;

/// How long listed messages stay hidden while the listing reads on (they are made visible
/// again at the end).
const LISTING_VISIBILITY_SECS: i32 = 60;

/// What a dead-letter queue holds.
pub struct Listing {
    /// The messages seen, oldest first.
    pub messages: Vec<Message>,
    /// `ApproximateNumberOfMessages` when the listing started.
    pub expected: u64,
    /// Messages in flight (being received elsewhere), which a listing cannot see.
    pub in_flight: u64,
}

/// `ApproximateNumberOfMessages` and `ApproximateNumberOfMessagesNotVisible` of a queue.
pub async fn depth(client: &Client, url: &str) -> Result<(u64, u64)> {
    let attributes = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .map_err(sdk_error)?
        .attributes
        .unwrap_or_default();
    let number = |name: &QueueAttributeName| {
        attributes
            .get(name)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok((
        number(&QueueAttributeName::ApproximateNumberOfMessages),
        number(&QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    ))
}

/// Reads every visible message of the queue, then makes them visible again.
pub async fn collect(client: &Client, url: &str) -> Result<Listing> {
    let (expected, in_flight) = depth(client, url).await?;
    let mut seen: BTreeMap<String, Message> = BTreeMap::new();
    while (seen.len() as u64) < expected {
        let messages = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(LONG_POLL_SECS)
            .visibility_timeout(LISTING_VISIBILITY_SECS)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(sdk_error)?
            .messages
            .unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            seen.insert(m.message_id.clone().unwrap_or_default(), m);
        }
    }
    let mut messages: Vec<Message> = seen.into_values().collect();
    messages.sort_by_key(sent_ms);
    for m in &messages {
        if let Some(receipt) = &m.receipt_handle {
            // Best effort: a message left hidden returns by itself after the visibility timeout.
            let _ = client
                .change_message_visibility()
                .queue_url(url)
                .receipt_handle(receipt)
                .visibility_timeout(0)
                .send()
                .await;
        }
    }
    Ok(Listing {
        messages,
        expected,
        in_flight,
    })
}

/// The body's size and where it is: in the message, or in the body bucket (kept there until the
/// message is processed, so a redrive still finds it).
fn body_place(e: &Envelope) -> String {
    match &e.body_ref {
        Some(r) => format!("{} bytes in s3://{}/{}", r.size, r.bucket, r.key),
        None => format!("{} bytes in the message", e.body.len()),
    }
}

fn sent_ms(m: &Message) -> i64 {
    m.attributes
        .as_ref()
        .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
        .and_then(|t| t.parse::<i64>().ok())
        .unwrap_or_default()
}

/// One line per message: id, when it was sent, and what the envelope says.
pub fn render(listing: &Listing) -> String {
    let mut out = String::new();
    if listing.messages.is_empty() {
        out.push_str("the dead-letter queue is empty\n");
    }
    for m in &listing.messages {
        let id = m.message_id.as_deref().unwrap_or_default();
        let sent = chrono::DateTime::from_timestamp_millis(sent_ms(m))
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        match Envelope::from_json(m.body.as_deref().unwrap_or_default()) {
            Ok(e) => out.push_str(&format!(
                "{id}  sent {sent}  {} {}  delivery {}  {}\n",
                e.provider,
                e.event_type.as_deref().unwrap_or("-"),
                e.delivery_id.as_deref().unwrap_or("-"),
                body_place(&e)
            )),
            Err(err) => out.push_str(&format!("{id}  sent {sent}  not an envelope ({err})\n")),
        }
    }
    out.push_str(&format!("{} message(s)", listing.messages.len()));
    let unseen = listing
        .expected
        .saturating_sub(listing.messages.len() as u64);
    if unseen > 0 {
        // A FIFO queue returns nothing more of a message group while some of it is in flight
        // (SQS Developer Guide, "FIFO queue delivery logic in Amazon SQS"), and hookline's FIFO
        // queues have one group per provider: a listing sees the first 10.
        out.push_str(&format!(
            "; {unseen} more not returned (a FIFO queue hides the rest of a message group while part of it is being read)"
        ));
    }
    if listing.in_flight > 0 {
        out.push_str(&format!(
            "; {} more in flight (being received elsewhere), not listed",
            listing.in_flight
        ));
    }
    out.push('\n');
    out
}
