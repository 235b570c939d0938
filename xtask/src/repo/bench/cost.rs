//! The cost model of `cargo xtask bench` (issue 15): dollars per million webhooks through one
//! stage — API Gateway, the ingest function, SQS, the processor, CloudWatch Logs and the
//! idempotency table — from the figures the benchmark measured and the prices of
//! [`super::pricing`]. Pure arithmetic, so that it is tested with figures worked out by hand.

use hookline_manifest::{Architecture, QueueKind};

use super::pricing::{self, Price};

/// Webhooks the figures are for.
pub(crate) const MILLION: f64 = 1e6;

/// The lines Lambda itself writes to a function's log for every invocation, in its default
/// (text) log format ("Lambda function logs" in the Developer Guide shows them): START, END and
/// REPORT, here with a typical request id and figures. A cold start's REPORT adds `Init
/// Duration`, and X-Ray tracing an `XRAY TraceId` line; neither is counted.
pub(crate) const PLATFORM_LINES: [&str; 3] = [
    "START RequestId: 6f1e7a0c-58b4-4d5e-9c0a-3b2f1e8d7c6b Version: $LATEST",
    "END RequestId: 6f1e7a0c-58b4-4d5e-9c0a-3b2f1e8d7c6b",
    "REPORT RequestId: 6f1e7a0c-58b4-4d5e-9c0a-3b2f1e8d7c6b\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 22 MB\t",
];

/// Requests API Gateway meters for a request of `bytes`: one per 512 KB or part of it.
pub(crate) fn http_api_requests(bytes: u64) -> u64 {
    bytes.div_ceil(pricing::HTTP_API_METERED_BYTES).max(1)
}

/// Requests SQS bills for one API action with a payload of `bytes`: one per 64 KB chunk.
pub(crate) fn sqs_requests(bytes: u64) -> u64 {
    bytes.div_ceil(pricing::SQS_METERED_BYTES).max(1)
}

/// The billed duration of an invocation that took `ms`: rounded up to the next millisecond.
pub(crate) fn billed_ms(ms: f64) -> f64 {
    ((ms / pricing::LAMBDA_BILLED_MS).ceil() * pricing::LAMBDA_BILLED_MS)
        .max(pricing::LAMBDA_BILLED_MS)
}

/// GB-seconds of one invocation of `ms` at `memory_mb`.
pub(crate) fn gb_seconds(ms: f64, memory_mb: u32) -> f64 {
    billed_ms(ms) / 1000.0 * f64::from(memory_mb) / 1024.0
}

/// Write request units of one write of an item of `bytes` (a failed conditional write too).
pub(crate) fn write_units(bytes: u64) -> u64 {
    bytes.div_ceil(pricing::DYNAMODB_WRITE_UNIT_BYTES).max(1)
}

/// Read request units of one strongly consistent read of an item of `bytes`.
pub(crate) fn read_units(bytes: u64) -> u64 {
    bytes.div_ceil(pricing::DYNAMODB_READ_UNIT_BYTES).max(1)
}

/// The bytes CloudWatch Logs counts for `lines` events of `bytes` in all.
pub(crate) fn log_bytes(bytes: f64, lines: f64) -> f64 {
    bytes + lines * pricing::CLOUDWATCH_EVENT_OVERHEAD_BYTES as f64
}

/// The bytes of Lambda's own lines for one invocation, newlines included.
pub(crate) fn platform_bytes() -> f64 {
    PLATFORM_LINES.iter().map(|l| l.len() + 1).sum::<usize>() as f64
}

/// One function as measured: its memory, one invocation's duration and what it logs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Function {
    pub memory_mb: u32,
    /// One invocation (for the processor: one batch), warm.
    pub duration_ms: f64,
    /// What the function itself logs per invocation: lines and bytes.
    pub log_lines: f64,
    pub log_bytes: f64,
}

impl Function {
    /// CloudWatch bytes of one invocation: its own lines and Lambda's.
    fn logged_bytes(&self) -> f64 {
        log_bytes(
            self.log_bytes + platform_bytes(),
            self.log_lines + PLATFORM_LINES.len() as f64,
        )
    }
}

/// A stage's defaults and what the benchmark measured for one webhook.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stage {
    pub architecture: Architecture,
    pub queue: QueueKind,
    /// Messages per processor invocation.
    pub batch_size: u32,
    /// The webhook's HTTP request (what API Gateway meters).
    pub request_bytes: u64,
    /// The SQS message ingest makes of it (body and attributes).
    pub message_bytes: u64,
    pub ingest: Function,
    pub processor: Function,
    /// DynamoDB units per message (the idempotency store; zeros when it is off).
    pub write_units: f64,
    pub read_units: f64,
}

/// One line of the bill: how much of what, per million webhooks, and its price.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line {
    pub item: &'static str,
    pub quantity: f64,
    pub price: Price,
    /// Dollars per million webhooks.
    pub dollars: f64,
}

fn line(item: &'static str, quantity: f64, price: Price) -> Line {
    Line {
        item,
        quantity,
        price,
        dollars: price.cost(quantity),
    }
}

impl Stage {
    /// SQS requests per message: its `SendMessage`, and its share of the receives and deletes
    /// of a full batch (each call takes at most 10 messages).
    pub fn sqs_requests_per_message(&self) -> (f64, f64, f64) {
        let batch = u64::from(self.batch_size.max(1));
        let per_call = batch.min(pricing::SQS_MESSAGES_PER_CALL);
        let calls = batch.div_ceil(per_call) as f64;
        let send = sqs_requests(self.message_bytes) as f64;
        let receive = calls * sqs_requests(per_call * self.message_bytes) as f64 / batch as f64;
        let delete = calls / batch as f64;
        (send, receive, delete)
    }

    /// CloudWatch Logs bytes per webhook: ingest's invocation and the webhook's share of the
    /// processor's batch.
    pub fn log_bytes_per_webhook(&self) -> f64 {
        self.ingest.logged_bytes()
            + self.processor.logged_bytes() / f64::from(self.batch_size.max(1))
    }

    /// The itemised bill of a million webhooks.
    pub fn per_million(&self) -> Vec<Line> {
        let batches = MILLION / f64::from(self.batch_size.max(1));
        let gb_second = pricing::lambda_gb_second(self.architecture);
        let sqs = pricing::sqs_request(self.queue);
        let (send, receive, delete) = self.sqs_requests_per_message();
        let [gateway, requests, duration] =
            front_door(self.request_bytes, &self.ingest, self.architecture);
        let processor = self.processor;
        vec![
            gateway,
            requests,
            duration,
            line("SQS SendMessage", MILLION * send, sqs),
            line("SQS ReceiveMessage", MILLION * receive, sqs),
            line("SQS DeleteMessageBatch", MILLION * delete, sqs),
            line(
                "processor Lambda requests",
                batches,
                pricing::LAMBDA_REQUEST,
            ),
            line(
                "processor Lambda duration",
                batches * gb_seconds(processor.duration_ms, processor.memory_mb),
                gb_second,
            ),
            line(
                "CloudWatch Logs ingestion",
                MILLION * self.log_bytes_per_webhook() / pricing::GB_BYTES,
                pricing::CLOUDWATCH_LOGS_GB,
            ),
            line(
                "DynamoDB writes (idempotency)",
                MILLION * self.write_units,
                pricing::DYNAMODB_WRITE_UNIT,
            ),
            line(
                "DynamoDB reads (idempotency)",
                MILLION * self.read_units,
                pricing::DYNAMODB_READ_UNIT,
            ),
        ]
    }

    /// The processor's part of the bill per million messages: its Lambda requests and duration,
    /// its logs, and the idempotency table.
    pub fn processor_per_million(&self) -> f64 {
        let batches = MILLION / f64::from(self.batch_size.max(1));
        let processor = self.processor;
        pricing::LAMBDA_REQUEST.cost(batches)
            + pricing::lambda_gb_second(self.architecture)
                .cost(batches * gb_seconds(processor.duration_ms, processor.memory_mb))
            + pricing::CLOUDWATCH_LOGS_GB
                .cost(batches * processor.logged_bytes() / pricing::GB_BYTES)
            + pricing::DYNAMODB_WRITE_UNIT.cost(MILLION * self.write_units)
            + pricing::DYNAMODB_READ_UNIT.cost(MILLION * self.read_units)
    }
}

/// One delivery's way through ingest, as measured: in the queue message, or (issue 17) put in
/// the body bucket with a pointer queued.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Ingested {
    pub architecture: Architecture,
    pub queue: QueueKind,
    /// The webhook's HTTP request (what API Gateway meters).
    pub request_bytes: u64,
    /// The body; whether ingest put it in the body bucket.
    pub body_bytes: u64,
    pub in_bucket: bool,
    /// The message ingest queues (the envelope with the body, or with the body's pointer).
    pub message_bytes: u64,
    pub ingest: Function,
}

impl Ingested {
    /// The itemised bill of ingesting a million of them: the request, the ingest function, the
    /// body's `PutObject` when it goes to the bucket (one request whatever its size: ingest
    /// does not split it into parts), the `SendMessage` and the ingest's logs.
    pub fn ingest_per_million(&self) -> Vec<Line> {
        let puts = if self.in_bucket { MILLION } else { 0.0 };
        let [gateway, requests, duration] =
            front_door(self.request_bytes, &self.ingest, self.architecture);
        vec![
            gateway,
            requests,
            duration,
            line("S3 PutObject", puts, pricing::S3_PUT_REQUEST),
            line(
                "SQS SendMessage",
                MILLION * sqs_requests(self.message_bytes) as f64,
                pricing::sqs_request(self.queue),
            ),
            line(
                "CloudWatch Logs ingestion (ingest)",
                MILLION * self.ingest.logged_bytes() / pricing::GB_BYTES,
                pricing::CLOUDWATCH_LOGS_GB,
            ),
        ]
    }

    /// What the body bucket adds on the processor's side per million: a `GetObject` each (the
    /// `DeleteObject` after success is free), and the bodies' storage for `hours_kept`.
    pub fn bucket_after_ingest(&self, hours_kept: f64) -> Vec<Line> {
        let (gets, bytes) = if self.in_bucket {
            (MILLION, self.body_bytes as f64)
        } else {
            (0.0, 0.0)
        };
        let gb_months = MILLION * bytes / pricing::GB_BYTES * hours_kept / pricing::HOURS_PER_MONTH;
        vec![
            line("S3 GetObject", gets, pricing::S3_GET_REQUEST),
            line("S3 storage", gb_months, pricing::S3_STANDARD_GB_MONTH),
        ]
    }
}

/// The first lines of every bill: a million requests of `request_bytes` through API Gateway,
/// and the ingest function's invocations and duration.
fn front_door(request_bytes: u64, ingest: &Function, architecture: Architecture) -> [Line; 3] {
    [
        line(
            "API Gateway HTTP API requests",
            MILLION * http_api_requests(request_bytes) as f64,
            pricing::HTTP_API_REQUEST,
        ),
        line("ingest Lambda requests", MILLION, pricing::LAMBDA_REQUEST),
        line(
            "ingest Lambda duration",
            MILLION * gb_seconds(ingest.duration_ms, ingest.memory_mb),
            pricing::lambda_gb_second(architecture),
        ),
    ]
}

/// The sum of a bill.
pub(crate) fn total(lines: &[Line]) -> f64 {
    lines.iter().map(|l| l.dollars).sum()
}

/// Dollars per million invocations for each further billed millisecond at `memory_mb`.
pub(crate) fn per_extra_ms(memory_mb: u32, architecture: Architecture) -> f64 {
    pricing::lambda_gb_second(architecture).cost(MILLION * f64::from(memory_mb) / 1024.0 / 1000.0)
}

/// How long `cpu_us` of CPU takes at `memory_mb`, where Lambda gives a proportional share of a
/// vCPU (a CPU-bound lower bound on the duration there).
pub(crate) fn throttled_ms(cpu_us: f64, memory_mb: u32) -> f64 {
    cpu_us / 1000.0 * (pricing::LAMBDA_MB_PER_VCPU / f64::from(memory_mb)).max(1.0)
}

#[cfg(test)]
mod tests;
