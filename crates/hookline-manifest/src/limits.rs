//! Every default and limit of the manifest, once: the validator applies them, the resolved
//! document carries their results, and nothing else (the CDK app included) restates them.
//! Where a value is AWS's, the comment names the documentation it comes from. The AWS quotas the
//! local stack enforces as AWS does (`hookline-local`) are here too, at the end.

use std::ops::RangeInclusive;

/// Body limit when none is set: the largest body an ingest function can be given at all (the
/// runtime's `hookline::ingest::MAX_BODY_BYTES`, computed there from Lambda's invocation payload
/// and API Gateway's event), so hookline accepts every delivery AWS lets through instead of
/// answering 413, which most providers take as a failure for good. Bodies over
/// [`MAX_INLINE_BODY_BYTES`] go to the stage's body bucket (the claim check,
/// `hookline::claim_check`), so the default turns it on.
pub const DEFAULT_MAX_BODY_BYTES: u64 = hookline::ingest::MAX_BODY_BYTES as u64;
/// Body limits: up to the same largest body an ingest function can be given (more could never
/// arrive); a limit at or under [`MAX_INLINE_BODY_BYTES`] keeps every body in its queue message
/// and needs no bucket.
pub const MAX_BODY_BYTES: RangeInclusive<u64> = 1..=hookline::ingest::MAX_BODY_BYTES as u64;
// Checked at build time: the default is the largest limit, and the largest is over the inline one.
const _: () = assert!(
    DEFAULT_MAX_BODY_BYTES == *MAX_BODY_BYTES.end()
        && MAX_INLINE_BODY_BYTES < DEFAULT_MAX_BODY_BYTES
);
/// The largest body carried inside its queue message (the runtime's
/// `hookline::ingest::MAX_INLINE_BODY_BYTES`, with why): a provider whose `max_body_bytes` is
/// over it uses the stage's body bucket
/// ([`Provider::uses_body_bucket`](crate::Provider::uses_body_bucket)).
pub const MAX_INLINE_BODY_BYTES: u64 = hookline::ingest::MAX_INLINE_BODY_BYTES as u64;

/// Timestamp tolerance when none is set (the runtime's).
pub const DEFAULT_TOLERANCE_SECS: u64 = hookline::verify::DEFAULT_TOLERANCE.as_secs();
/// Timestamp tolerances (the runtime's bounds).
pub const TOLERANCE_SECS: RangeInclusive<u64> = 1..=hookline::config::MAX_TOLERANCE_SECS;

/// Ingest timeout when none is set: well under what providers wait (Stripe, GitHub: 10 s).
pub const DEFAULT_INGEST_TIMEOUT_SECS: u64 = 10;
/// Ingest timeouts: at most what the HTTP API waits for its integration.
pub const INGEST_TIMEOUT_SECS: RangeInclusive<u64> = 1..=HTTP_API_INTEGRATION_TIMEOUT_SECS;
/// Ingest memory when none is set: enough for the largest body ([`MAX_BODY_BYTES`]) several
/// times over (the event, the decoded body, the request that stores it).
pub const DEFAULT_INGEST_MEMORY_MB: u64 = 128;
/// Processor timeout when none is set.
pub const DEFAULT_PROCESSOR_TIMEOUT_SECS: u64 = 30;
/// Processor timeouts: Lambda's 15-minute maximum (Lambda quotas, "Function timeout").
pub const PROCESSOR_TIMEOUT_SECS: RangeInclusive<u64> = 1..=900;
/// Processor memory when none is set.
pub const DEFAULT_PROCESSOR_MEMORY_MB: u64 = 256;
/// Function memory: Lambda's range (Lambda quotas, "Function memory allocation").
pub const MEMORY_MB: RangeInclusive<u64> = 128..=10_240;
/// Event source concurrency: Lambda's range for `ScalingConfig.MaximumConcurrency` (Lambda API
/// reference, "ScalingConfig": minimum 2, maximum 1000).
pub const MAX_CONCURRENCY: RangeInclusive<u64> = 2..=1000;
/// Event source concurrency when none is set: 10 processor instances per provider at most.
/// Without a limit, Lambda scales an SQS event source up to 1,250 concurrent invocations while
/// it drains a backlog, more than an account's default 1,000 (new accounts get less): the
/// ingest functions of every provider are then throttled and live webhooks refused (API
/// Gateway answers 5xx) while old ones are processed. Ten leaves 99 % of a default account to
/// everything else, still processes up to 10 batches (100 deliveries by default) at once, and
/// is twice the five concurrent batches Lambda starts an SQS event source with.
pub const DEFAULT_MAX_CONCURRENCY: u64 = 10;
/// Messages of a standard batch handled at once by one processor (the runtime's default).
pub const DEFAULT_PROCESS_CONCURRENCY: u64 = hookline::process::DEFAULT_CONCURRENCY as u64;
/// The runtime's bounds on the same.
pub const PROCESS_CONCURRENCY: RangeInclusive<u64> = 1..=hookline::config::MAX_PROCESS_CONCURRENCY;

/// How long a completed delivery's idempotency record is kept when none is set (the runtime's
/// default, and why: `hookline::config::DEFAULT_IDEMPOTENCY_TTL_SECS`).
pub const DEFAULT_IDEMPOTENCY_TTL_SECS: u64 = hookline::config::DEFAULT_IDEMPOTENCY_TTL_SECS;
/// Idempotency windows: at least a minute (a shorter one ends before SQS could redeliver a
/// message whose processor timed out), at most the runtime's 30 days.
pub const IDEMPOTENCY_TTL_SECS: RangeInclusive<u64> =
    60..=hookline::config::MAX_IDEMPOTENCY_TTL_SECS;

/// Batch size when none is set (Lambda's default for SQS).
pub const DEFAULT_BATCH_SIZE: u64 = 10;
/// Batch sizes of a standard queue (Lambda `CreateEventSourceMapping`, `BatchSize`).
pub const STANDARD_BATCH_SIZE: RangeInclusive<u64> = 1..=10_000;
/// Batch sizes of a FIFO queue (same reference).
pub const FIFO_BATCH_SIZE: RangeInclusive<u64> = 1..=10;
/// A batch over this size needs a batching window of at least 1 s (same reference).
pub const BATCH_SIZE_WITHOUT_WINDOW: u64 = 10;
/// Batching windows of a standard queue (`MaximumBatchingWindowInSeconds`, 0–300 s).
pub const STANDARD_BATCHING_WINDOW_SECS: RangeInclusive<u64> = 0..=300;
/// FIFO queues have no batching window (same reference).
pub const FIFO_BATCHING_WINDOW_SECS: RangeInclusive<u64> = 0..=0;
/// Receives before a message moves to the DLQ when none is set.
pub const DEFAULT_MAX_RECEIVE_COUNT: u64 = 5;
/// `maxReceiveCount` of a redrive policy (SQS "Using dead-letter queues").
pub const MAX_RECEIVE_COUNT: RangeInclusive<u64> = 1..=1000;
/// The visibility timeout is at least this many times the processor timeout, plus the batching
/// window (Lambda developer guide, "Using Lambda with Amazon SQS": "We recommend setting your
/// queue's visibility timeout to six times your function timeout, plus the value of
/// MaximumBatchingWindowInSeconds"): Lambda holds the messages it gathers for the window, then
/// needs time to retry a throttled invocation. [`min_visibility_timeout_secs`] applies it.
pub const VISIBILITY_TIMEOUT_FACTOR: u64 = 6;

/// The smallest visibility timeout AWS recommends for a processor timeout and a batching window
/// (see [`VISIBILITY_TIMEOUT_FACTOR`]); also the default.
pub const fn min_visibility_timeout_secs(
    processor_timeout_secs: u64,
    batching_window_secs: u64,
) -> u64 {
    VISIBILITY_TIMEOUT_FACTOR * processor_timeout_secs + batching_window_secs
}
/// Visibility timeouts: 0 s to 12 hours (SQS `SetQueueAttributes`, `VisibilityTimeout`).
pub const VISIBILITY_TIMEOUT_SECS: RangeInclusive<u64> = 0..=43_200;
/// Retention when none is set: SQS's own default, 4 days (a failed delivery then has at least
/// 10 days in the dead-letter queue of a standard queue).
pub const DEFAULT_RETENTION_SECS: u64 = 4 * 24 * 3600;
/// Retention: 60 s to 14 days (SQS `SetQueueAttributes`, `MessageRetentionPeriod`). The range of
/// a FIFO queue; a standard queue's is [`STANDARD_RETENTION_SECS`].
pub const RETENTION_SECS: RangeInclusive<u64> = 60..=14 * 24 * 3600;
/// The dead-letter queue keeps messages as long as SQS allows, so a failure can be looked at.
pub const DLQ_RETENTION_SECS: u64 = *RETENTION_SECS.end();
/// The least time a message of a standard queue spends in its dead-letter queue before it
/// expires there: 3 days, a long weekend between the DLQ alarm and someone looking.
pub const DLQ_MIN_DWELL_SECS: u64 = 3 * 24 * 3600;
/// Retention of a standard queue: at most the DLQ's less [`DLQ_MIN_DWELL_SECS`] (11 days). A
/// message moved to a standard DLQ keeps its original enqueue timestamp, so it expires there at
/// the DLQ's retention counted from when it was first sent: "always set the retention period of
/// a dead-letter queue to be longer than the retention period of the original queue" (SQS
/// developer guide, "Setting-up dead-letter queue retention"). A FIFO queue's message gets a new
/// enqueue timestamp when it moves (same page), so FIFO queues keep the whole range.
pub const STANDARD_RETENTION_SECS: RangeInclusive<u64> =
    *RETENTION_SECS.start()..=DLQ_RETENTION_SECS - DLQ_MIN_DWELL_SECS;

/// Seconds in a day: S3 lifecycle rules count in days.
const DAY_SECS: u64 = 24 * 3600;

/// Days a delivery's body is kept in the stage's body bucket (its lifecycle rule's expiration)
/// for a provider whose queue keeps messages `retention_secs`: until the dead-letter queue would
/// have dropped the delivery's message, so that `dlq redrive` still finds the body. The
/// processor deletes a body once its handler succeeded; the rule removes only what is left.
///
/// A message lives in its queue at most `retention_secs`; moved to the DLQ, it is kept there
/// [`DLQ_RETENTION_SECS`], counted from the move for a FIFO queue (its message gets a new
/// enqueue time) and from the first send for a standard one (it keeps its own: see
/// [`STANDARD_RETENTION_SECS`]). The sum of the two retentions is the longest a message can
/// live (exactly for FIFO, a bound for standard), rounded up to whole days. One day more covers
/// the seconds between the body's upload and its message's send, and gives a delivery redriven
/// from the DLQ just before it expired there a day to be handled: a redriven message is a new
/// one with a fresh retention (SQS developer guide, "Learn how to configure a dead-letter queue
/// redrive": "The redrive task resets the retention period"), its body is not. S3 rounds each
/// object's expiry up to the next midnight UTC (S3 user guide, "Lifecycle configuration
/// elements"), which only adds to it.
pub const fn body_expiration_days(retention_secs: u64) -> u64 {
    (retention_secs + DLQ_RETENTION_SECS).div_ceil(DAY_SECS) + 1
}

/// Sends a second a FIFO queue takes without high throughput mode, which the stack does not turn
/// on (SQS developer guide, "Troubleshoot FIFO throttling issues": "By default, FIFO queues
/// support 300 transactions per second, per API action for SendMessage, ReceiveMessage, and
/// DeleteMessage"). Ingest sends one message per request, so a FIFO provider's route is
/// throttled to this rate, with a burst of as many: a higher rate would only turn into
/// ThrottlingException, retries and 503s.
pub const FIFO_SENDS_PER_SEC: u64 = 300;

/// The oldest-message alarm fires after this long, or after half the retention when shorter.
pub const OLDEST_MESSAGE_ALARM_SECS: u64 = 3600;
/// The period the count alarms (errors, throttles, 401s, 503s, failed messages, 5xx) count over.
pub const ALARM_PERIOD_SECS: u64 = 300;
/// 401s in a period that raise the alarm: a secret unset, or rotated on one side only, refuses
/// every delivery, while the internet's scanners hitting the URL now and then should not wake
/// anyone.
pub const UNAUTHORIZED_ALARM_COUNT: u64 = 10;
/// Messages reported failed in a period that raise the alarm: more than the retries of one
/// delivery (its failures are retried one visibility timeout apart), fewer than a failing
/// handler produces. Failures for good show in the DLQ alarm anyway.
pub const FAILED_ITEMS_ALARM_COUNT: u64 = 5;
/// 5xx answers of the API in a period that raise its alarm: one, since each is a delivery that
/// was not stored (GitHub never retries it).
pub const API_SERVER_ERRORS_ALARM_COUNT: u64 = 1;

/// Log retention of a retained stage's functions and API, in days.
pub const LOG_RETENTION_DAYS: u32 = 30;
/// Log retention of an ephemeral stage's, in days.
pub const EPHEMERAL_LOG_RETENTION_DAYS: u32 = 7;

/// The region when the manifest names none (the AWS SDKs' and CLI's usual one).
pub const DEFAULT_REGION: &str = "us-east-1";
/// Names of projects, providers and stages are at most this long (they become parts of stack,
/// function and queue names, which AWS caps at 64 to 128 characters).
pub const MAX_NAME_LEN: usize = 32;

// AWS quotas the local stack enforces as AWS does.

/// API Gateway HTTP APIs wait this long for an integration ("Quotas for configuring and running
/// an HTTP API in API Gateway": "Maximum integration timeout | 30 seconds | No").
pub const HTTP_API_INTEGRATION_TIMEOUT_SECS: u64 = 30;
/// The largest request body an HTTP API takes (same page: "Payload size | 10 MB | No"; API
/// Gateway was observed refusing more with "HTTP content length exceeded 10485760 bytes",
/// koki-develop/lgtm-generator#10, so MiB).
pub const HTTP_API_MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;
/// The request line and the header values of a request to an HTTP API, together (same page:
/// "Total combined size of request line and header values | 10240 bytes | No").
pub const HTTP_API_MAX_REQUEST_LINE_AND_HEADERS_BYTES: usize = 10_240;
/// The largest synchronous invocation event (the runtime's, with its source).
pub const LAMBDA_MAX_REQUEST_PAYLOAD_BYTES: usize =
    hookline::ingest::LAMBDA_MAX_REQUEST_PAYLOAD_BYTES;
/// The largest synchronous invocation response: 100 bytes more than a request (the Runtime API
/// was observed answering a larger `/response` with 413 "Exceeded maximum allowed payload size
/// (6291556 bytes).", anomalyco/console#63).
pub const LAMBDA_MAX_RESPONSE_PAYLOAD_BYTES: usize = LAMBDA_MAX_REQUEST_PAYLOAD_BYTES + 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_outlive_their_message_in_the_queue_and_then_in_the_dlq() {
        // The default standard queue: 4 days, then at most 14 in the DLQ, and a day.
        assert_eq!(body_expiration_days(DEFAULT_RETENTION_SECS), 4 + 14 + 1);
        // The longest standard queue (11 days) and the longest FIFO one (14 days).
        assert_eq!(
            body_expiration_days(*STANDARD_RETENTION_SECS.end()),
            11 + 14 + 1
        );
        assert_eq!(body_expiration_days(*RETENTION_SECS.end()), 14 + 14 + 1);
        // Part of a day counts as a day: a minute's retention still adds one.
        assert_eq!(body_expiration_days(*RETENTION_SECS.start()), 1 + 14 + 1);
        assert_eq!(body_expiration_days(DAY_SECS + 1), 2 + 14 + 1);
        assert_eq!(body_expiration_days(DAY_SECS), 1 + 14 + 1);
    }
}
