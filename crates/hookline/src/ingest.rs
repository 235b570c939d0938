//! From an API Gateway HTTP API request (payload 2.0) to its response.
//!
//! Order: size limit → verify → handshake → enqueue → respond. Only a message the queue
//! accepted gets a 2xx; a rejected request (4xx) enqueues nothing. A 503 means the queue did
//! not confirm in time: like any at-least-once pipeline, a send that timed out may still have
//! been stored, so the provider's retry can arrive twice (processors dedupe on `dedup_id`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use chrono::{DateTime, Utc};
use http::Method;

use crate::claim_check::{BodyRef, BodyStore, object_key};
use crate::describe::{Acknowledgement, Handshake};
use crate::envelope::{Envelope, envelope_headers};
use crate::metrics::{IngestOutcome, Metrics};
use crate::queue::{GroupBy, Queue, QueueMessage, SQS_MAX_MESSAGE_BYTES};
use crate::verify::{Request, Verifier, VerifyError};

mod error;
mod limits;
mod refresh;
mod request;
mod respond;

pub use error::{BODY_STORE_UNAVAILABLE, IngestError, QUEUE_UNAVAILABLE, UNAUTHORIZED_STATUS};
pub use limits::{
    DEFAULT_MAX_BODY_BYTES, GATEWAY_EVENT_RESERVE_BYTES, LAMBDA_MAX_REQUEST_PAYLOAD_BYTES,
    MAX_BASE64_BODY_BYTES, MAX_BODY_BYTES, MAX_INLINE_BODY_BYTES,
};

use refresh::Verifiers;
pub use refresh::{SECRET_REFRESH_INTERVAL, SecretLoader};
pub use respond::respond;

/// Seconds a provider is asked to wait before retrying after a 503.
const RETRY_AFTER_SECS: &str = "5";

/// What a successful request produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Durably queued with this queue message id.
    Queued {
        /// The queue's message id.
        message_id: String,
        /// The envelope id assigned at ingest.
        envelope_id: String,
        /// The body's key in the body bucket, when it was too large for the queue message.
        body_key: Option<String>,
        /// How to answer the provider.
        acknowledgement: Acknowledgement,
    },
    /// A handshake, answered without enqueuing.
    Handshake(Handshake),
}

/// The ingest side of one provider: verifies, describes and enqueues deliveries.
#[derive(Debug)]
pub struct Ingest<Q> {
    provider: String,
    verifiers: Verifiers,
    queue: Q,
    max_body_bytes: usize,
    public_url: Option<String>,
    group_by: GroupBy,
    stage: String,
    emit_metrics: bool,
    bodies: Option<Arc<dyn BodyStore>>,
}

/// What [`Ingest::accept`] learns besides its result, for the request's log line and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notes {
    /// The provider's delivery id, as soon as it is known.
    pub delivery_id: Option<String>,
    /// How long the queue took to accept or refuse the delivery, when it was sent.
    pub enqueue_latency: Option<Duration>,
}

impl<Q: Queue> Ingest<Q> {
    /// Ingest for `provider` (its manifest name), verified by `verifier`, writing to `queue`.
    pub fn new(provider: impl Into<String>, verifier: Verifier, queue: Q) -> Self {
        Ingest {
            provider: provider.into(),
            verifiers: Verifiers::new(verifier),
            queue,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            public_url: None,
            group_by: GroupBy::Provider,
            stage: crate::config::DEFAULT_STAGE.to_owned(),
            emit_metrics: false,
            bodies: None,
        }
    }

    /// Keeps bodies too large for a queue message in `bodies` ([`crate::claim_check`]); without
    /// a body store they are refused with 413. Raise the body limit to match
    /// ([`Ingest::with_max_body_bytes`], up to [`MAX_BODY_BYTES`]).
    pub fn with_body_store(mut self, bodies: Arc<dyn BodyStore>) -> Self {
        self.bodies = Some(bodies);
        self
    }

    /// Writes each request's metrics to standard output as an Embedded Metric Format line
    /// ([`crate::metrics`]), as the Lambda function does; off by default.
    pub fn with_metrics(mut self, emit: bool) -> Self {
        self.emit_metrics = emit;
        self
    }

    /// Sets the stage this ingest runs in (`HOOKLINE_STAGE`), for its logs and metrics.
    pub fn with_stage(mut self, stage: impl Into<String>) -> Self {
        self.stage = stage.into();
        self
    }

    /// The stage.
    pub fn stage(&self) -> &str {
        &self.stage
    }

    /// Sets where a FIFO queue's message group id comes from (default: one group for the
    /// provider).
    pub fn with_group_by(mut self, group_by: GroupBy) -> Self {
        self.group_by = group_by;
        self
    }

    /// Sets the URL the provider is configured to call, for URL-signed schemes behind a custom
    /// domain or a proxy; without it the URL is rebuilt from the API Gateway event.
    pub fn with_public_url(mut self, public_url: Option<String>) -> Self {
        self.public_url = public_url;
        self
    }

    /// Sets the body limit in bytes.
    pub fn with_max_body_bytes(mut self, max_body_bytes: usize) -> Self {
        self.max_body_bytes = max_body_bytes;
        self
    }

    /// Re-reads the secrets with `load` when a signature does not match, at most once per
    /// `interval` ([`SECRET_REFRESH_INTERVAL`] on AWS): a secret changed while this instance runs
    /// is picked up by the first delivery signed with it.
    pub fn with_secret_refresh(
        mut self,
        load: SecretLoader,
        interval: std::time::Duration,
    ) -> Self {
        self.verifiers = self.verifiers.with_refresh(load, interval);
        self
    }

    /// The provider's name.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The queue deliveries are written to.
    pub fn queue(&self) -> &Q {
        &self.queue
    }

    /// Handles one request at the current time and logs one JSON line about it.
    pub async fn handle(&self, request: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
        self.handle_at(request, Utc::now()).await
    }

    /// [`Ingest::handle`] within an X-Ray trace: the queue message carries `trace_header` (the
    /// invocation's, `Lambda-Runtime-Trace-Id`) so that the processor continues the trace.
    pub async fn handle_traced(
        &self,
        request: ApiGatewayV2httpRequest,
        trace_header: Option<&str>,
    ) -> ApiGatewayV2httpResponse {
        let (response, outcome) = self
            .handle_measured(request, Utc::now(), trace_header)
            .await;
        self.write_metrics(&outcome);
        response
    }

    /// Handles one request as if received at `now` (for tests with signed timestamps), and
    /// writes its metrics when [`Ingest::with_metrics`] says so.
    pub async fn handle_at(
        &self,
        request: ApiGatewayV2httpRequest,
        now: DateTime<Utc>,
    ) -> ApiGatewayV2httpResponse {
        let (response, outcome) = self.handle_measured(request, now, None).await;
        self.write_metrics(&outcome);
        response
    }

    fn write_metrics(&self, outcome: &IngestOutcome<'_>) {
        if self.emit_metrics {
            let line = Metrics::new(&self.provider, &self.stage).ingest_line(Utc::now(), outcome);
            Metrics::write(&[line]);
        }
    }

    /// Handles one request as if received at `now` (within the X-Ray trace `trace_header`),
    /// logs one JSON line about it, and returns the response with what its metrics count.
    pub async fn handle_measured(
        &self,
        request: ApiGatewayV2httpRequest,
        now: DateTime<Utc>,
        trace_header: Option<&str>,
    ) -> (ApiGatewayV2httpResponse, IngestOutcome<'static>) {
        let started = Instant::now();
        let request_id = request.request_context.request_id.clone();
        let mut notes = Notes::default();
        let result = self.accept(&request, now, trace_header, &mut notes).await;
        let response = respond(&result);
        let outcome = IngestOutcome {
            code: result.as_ref().err().map(IngestError::code),
            enqueued: matches!(result, Ok(Accepted::Queued { .. })),
            enqueue_latency_ms: notes.enqueue_latency.map(|d| d.as_secs_f64() * 1000.0),
        };
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let provider = self.provider.as_str();
        let status = response.status_code;
        let delivery_id = notes.delivery_id.as_deref();
        let request_id = request_id.as_deref();
        match &result {
            Ok(Accepted::Queued {
                message_id,
                envelope_id,
                body_key,
                ..
            }) => tracing::info!(
                provider,
                status,
                delivery_id,
                request_id,
                message_id,
                envelope_id,
                body_key,
                latency_ms,
                "webhook queued"
            ),
            Ok(Accepted::Handshake(handshake)) => tracing::info!(
                provider,
                status,
                handshake = handshake.kind,
                request_id,
                latency_ms,
                "handshake answered"
            ),
            Err(err @ IngestError::QueueUnavailable(cause)) => tracing::error!(
                provider, status, code = err.code(), delivery_id, request_id, latency_ms,
                cause = %cause, "webhook not queued"
            ),
            Err(err @ IngestError::BodyStoreUnavailable(cause)) => tracing::error!(
                provider, status, code = err.code(), delivery_id, request_id, latency_ms,
                cause = %cause, "webhook not queued"
            ),
            Err(err) => tracing::warn!(
                provider, status, code = err.code(), reason = %err, delivery_id, request_id,
                latency_ms, "webhook rejected"
            ),
        }
        (response, outcome)
    }

    /// Runs the pipeline; the queue message carries `trace_header` (an X-Ray trace header);
    /// `notes` gets the delivery id as soon as it is known and the time the queue took, for the
    /// log line and the metrics.
    pub async fn accept(
        &self,
        request: &ApiGatewayV2httpRequest,
        now: DateTime<Utc>,
        trace_header: Option<&str>,
        notes: &mut Notes,
    ) -> Result<Accepted, IngestError> {
        if request.request_context.http.method != Method::POST {
            return Err(IngestError::MethodNotAllowed);
        }
        let body = request::read_body(request, self.max_body_bytes)?;
        let headers = &request.headers;
        let url = request::called_url(request, self.public_url.as_deref());
        let signed = Request {
            method: Method::POST.as_str(),
            url: &url,
            headers,
            body: &body,
        };
        let current = self.verifiers.current();
        let verifier = match current.verify_request(&signed, now.timestamp()) {
            Ok(()) => current,
            Err(VerifyError::SignatureMismatch) => {
                match self.verifiers.refreshed(&self.provider).await {
                    Some(fresh) => {
                        fresh.verify_request(&signed, now.timestamp())?;
                        fresh
                    }
                    None => return Err(VerifyError::SignatureMismatch.into()),
                }
            }
            Err(other) => return Err(other.into()),
        };
        let description = verifier.describe(&signed)?;
        notes.delivery_id.clone_from(&description.delivery_id);
        if let Some(handshake) = description.handshake {
            return Ok(Accepted::Handshake(handshake));
        }
        let acknowledgement = description.acknowledgement;
        let mut envelope = Envelope {
            id: uuid::Uuid::now_v7().to_string(),
            provider: self.provider.clone(),
            event_type: description.event_type,
            delivery_id: description.delivery_id,
            dedup_id: Some(description.dedup_id),
            received_at: now,
            content_type: request::content_type(headers),
            headers: envelope_headers(headers),
            body,
            body_ref: None,
        };
        let group_id = self
            .group_by
            .group_id(&self.provider, headers, &envelope.body);
        // A body over the message limit cannot fit, escaped or not: skip writing it out.
        let inline = envelope.body.len() <= SQS_MAX_MESSAGE_BYTES;
        let mut message = QueueMessage {
            body: if inline {
                envelope.to_json()
            } else {
                String::new()
            },
            provider: self.provider.clone(),
            group_id,
            // The event type is also a message attribute, where SQS refuses what it refuses in
            // a message (control characters, U+FFFE, U+FFFF): such a type stays in the envelope
            // only, rather than making the delivery unqueueable.
            event_type: envelope
                .event_type
                .clone()
                .filter(|t| t.chars().all(request::sqs_allows)),
            dedup_id: envelope.dedup_id.clone(),
            // A header SQS would refuse (it takes X-Ray's printable ASCII form) is left out
            // rather than making the delivery unqueueable.
            trace_header: trace_header
                .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
                .map(str::to_owned),
        };
        if !inline || message.size() > SQS_MAX_MESSAGE_BYTES {
            let Some(bodies) = &self.bodies else {
                return Err(IngestError::MessageTooLarge {
                    body: envelope.body.len(),
                    size: if inline {
                        message.size()
                    } else {
                        Envelope {
                            body_ref: None,
                            ..envelope
                        }
                        .to_json()
                        .len()
                    },
                    limit: SQS_MAX_MESSAGE_BYTES,
                });
            };
            // The body first: a message must never point at a body that is not stored. If the
            // send then fails, the object is an orphan the bucket's lifecycle rule removes.
            let key = object_key(&self.provider, envelope.received_at, &envelope.id);
            let body_ref = BodyRef::to(bodies.bucket(), key, &envelope.body);
            bodies
                .put(&body_ref, &envelope.body)
                .await
                .map_err(IngestError::BodyStoreUnavailable)?;
            envelope.body_ref = Some(body_ref);
            message.body = envelope.to_json();
        }
        let sending = Instant::now();
        let sent = self.queue.send(message).await;
        notes.enqueue_latency = Some(sending.elapsed());
        let message_id = sent.map_err(IngestError::QueueUnavailable)?;
        Ok(Accepted::Queued {
            message_id,
            envelope_id: envelope.id,
            body_key: envelope.body_ref.map(|r| r.key),
            acknowledgement,
        })
    }
}

#[cfg(test)]
mod claim_check_tests;
#[cfg(test)]
mod tests;
