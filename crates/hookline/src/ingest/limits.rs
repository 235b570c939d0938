//! How large a body may be, and where it goes: each limit computed from the AWS quota it comes
//! from, which is named.

use crate::queue::SQS_MAX_MESSAGE_BYTES;

/// The largest body carried inside its queue message: room for what fits one SQS message with
/// the envelope around it. The serialised envelope is checked against the SQS limit too
/// (escapes and base64 grow it); without a body bucket this is the default limit.
pub const MAX_INLINE_BODY_BYTES: usize = SQS_MAX_MESSAGE_BYTES - 32 * 1024;

/// Body limit when none is configured and there is no body bucket ([`MAX_INLINE_BODY_BYTES`]).
pub const DEFAULT_MAX_BODY_BYTES: usize = MAX_INLINE_BODY_BYTES;

/// The largest synchronous invocation event (Lambda quotas: "Invocation payload (request and
/// response) | 6 MB each for request and response (synchronous)"; Lambda's Invoke was observed
/// refusing more with "Request must be smaller than 6291456 bytes for the InvokeFunction
/// operation", Zac Charles, "Deep Dive: Lambda's Request Payload Size Limit").
pub const LAMBDA_MAX_REQUEST_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// Room left in the invocation event for what API Gateway puts around the body (payload 2.0:
/// `rawPath`, `rawQueryString`, `headers`, `requestContext`, ...): the request line and the
/// header values are at most 10,240 bytes together (HTTP API quotas, "Total combined size of
/// request line and header values"), which leaves the rest for header names, JSON quoting and
/// the request context (about 1 KB).
pub const GATEWAY_EVENT_RESERVE_BYTES: usize = 32 * 1024;

/// The largest body an ingest function can be given at all, and so the largest `max_body_bytes`:
/// a text body travels in the event as a JSON string, so it has the whole event less the reserve
/// (when it needs no escaping). Bodies over [`MAX_INLINE_BODY_BYTES`] need a body bucket
/// ([`crate::claim_check`]).
pub const MAX_BODY_BYTES: usize = LAMBDA_MAX_REQUEST_PAYLOAD_BYTES - GATEWAY_EVENT_RESERVE_BYTES;

/// The largest body API Gateway can hand over base64-encoded (binary content types: base64
/// makes 3 bytes 4), so the largest binary delivery: over it API Gateway answers 413 before
/// ingest runs.
pub const MAX_BASE64_BODY_BYTES: usize = MAX_BODY_BYTES / 4 * 3;

// Base64 of the largest binary body fits where a text body may go; a body bucket only ever
// raises the limit.
const _: () = assert!(MAX_BASE64_BODY_BYTES.div_ceil(3) * 4 <= MAX_BODY_BYTES);
const _: () = assert!(MAX_INLINE_BODY_BYTES < MAX_BODY_BYTES);
