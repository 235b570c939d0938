//! One delivery as a processor's handler gets it, read from its SQS record.

use aws_lambda_events::sqs::SqsMessage;

use super::ItemError;
use crate::envelope::Envelope;

/// One delivery, as handed to a processor's handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The SQS message id.
    pub message_id: String,
    /// How many times SQS has handed out this message (1 on the first attempt).
    pub receive_count: u32,
    /// The envelope written by ingest, with the raw body.
    pub envelope: Envelope,
    /// The X-Ray trace header ingest sent the message with (SQS's `AWSTraceHeader` system
    /// attribute), when tracing: Lambda continues that trace in the processor.
    pub trace_header: Option<String>,
}

impl Delivery {
    /// A first-attempt delivery of `envelope` (its id doubles as the message id): for handler
    /// unit tests and tools.
    pub fn new(envelope: Envelope) -> Delivery {
        Delivery {
            message_id: envelope.id.clone(),
            receive_count: 1,
            envelope,
            trace_header: None,
        }
    }

    /// The raw body, byte for byte as the provider sent it, wherever it travelled (a body too
    /// large for the queue message was fetched from the body bucket and checked before the
    /// handler was called).
    pub fn body(&self) -> &[u8] {
        &self.envelope.body
    }

    /// The provider's event type, when known.
    pub fn event_type(&self) -> Option<&str> {
        self.envelope.event_type.as_deref()
    }

    /// The provider's delivery id, as the provider sent it. For GitHub and Shopify it is a header
    /// the signature does not cover: deduplicate on [`Delivery::dedup_id`] instead.
    pub fn delivery_id(&self) -> Option<&str> {
        self.envelope.delivery_id.as_deref()
    }

    /// What to deduplicate on: the same on every retry of the provider, and taken only from what
    /// the signature covers (the provider's id when signed, else the body's SHA-256), so a
    /// captured delivery replayed under a fresh delivery id still deduplicates.
    pub fn dedup_id(&self) -> &str {
        self.envelope.dedup_key()
    }

    /// Parses the body as JSON into `T`.
    pub fn json<'a, T: serde::Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        self.envelope.json()
    }

    /// The body's form fields (`application/x-www-form-urlencoded`), decoded.
    pub fn form(&self) -> Vec<(String, String)> {
        self.envelope.form()
    }

    /// A request header by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.envelope.header(name)
    }

    /// The X-Ray trace header of the ingest invocation that queued this delivery, if any.
    pub fn trace_header(&self) -> Option<&str> {
        self.trace_header.as_deref()
    }
}

/// The SQS system attribute that carries an X-Ray trace header.
pub const AWS_TRACE_HEADER: &str = "AWSTraceHeader";

/// Reads one SQS record into a [`Delivery`].
pub fn delivery_from_record(record: &SqsMessage) -> Result<Delivery, ItemError> {
    let message_id = record.message_id.clone().ok_or(ItemError::NoMessageId)?;
    let envelope = Envelope::from_json(record.body.as_deref().unwrap_or_default())?;
    let receive_count = record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    Ok(Delivery {
        message_id,
        receive_count,
        envelope,
        trace_header: record.attributes.get(AWS_TRACE_HEADER).cloned(),
    })
}
