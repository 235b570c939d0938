//! What AWS charges, for the cost model (`super::cost`): us-east-1, on-demand, the first
//! volume tier, free tiers left out (they are per account, not per webhook). Every price and
//! metering rule the model uses is here once, with the page it comes from; all were checked
//! against those pages on [`CHECKED`].

use hookline_manifest::{Architecture, QueueKind};

/// When the prices and rules below were last checked against their sources.
pub(crate) const CHECKED: &str = "2026-12-02";

/// The region of every price.
pub(crate) const REGION: &str = "us-east-1";

/// One unit price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Price {
    /// What is bought, as the report names it.
    pub item: &'static str,
    /// Dollars per [`Price::per`] units.
    pub dollars: f64,
    /// How many units [`Price::dollars`] buys (1 000 000 for "per million requests").
    pub per: f64,
    /// The unit.
    pub unit: &'static str,
    /// The AWS page it comes from.
    pub source: &'static str,
}

impl Price {
    /// Dollars for `quantity` units.
    pub fn cost(&self, quantity: f64) -> f64 {
        quantity * self.dollars / self.per
    }
}

/// HTTP API requests, first 300 million a month ($0.90 after).
pub(crate) const HTTP_API_REQUEST: Price = Price {
    item: "API Gateway HTTP API requests (first 300 M a month)",
    dollars: 1.00,
    per: 1e6,
    unit: "request",
    source: "Amazon API Gateway pricing, HTTP APIs",
};

/// "Requests are metered in 512 KB increments of data. So, a request with 513 KB of data is
/// metered as two requests" (Amazon API Gateway pricing, HTTP APIs).
pub(crate) const HTTP_API_METERED_BYTES: u64 = 512 * 1024;

/// Lambda requests (invocations), both architectures.
pub(crate) const LAMBDA_REQUEST: Price = Price {
    item: "Lambda requests",
    dollars: 0.20,
    per: 1e6,
    unit: "request",
    source: "AWS Lambda pricing",
};

/// Lambda duration on arm64 (Graviton), first 7.5 billion GB-seconds a month.
pub(crate) const LAMBDA_ARM64_GB_SECOND: Price = Price {
    item: "Lambda duration, arm64 (first 7.5 B GB-s a month)",
    dollars: 0.000_013_333_4,
    per: 1.0,
    unit: "GB-second",
    source: "AWS Lambda pricing",
};

/// Lambda duration on x86_64, first 6 billion GB-seconds a month.
pub(crate) const LAMBDA_X86_64_GB_SECOND: Price = Price {
    item: "Lambda duration, x86_64 (first 6 B GB-s a month)",
    dollars: 0.000_016_666_7,
    per: 1.0,
    unit: "GB-second",
    source: "AWS Lambda pricing",
};

/// Lambda's duration granularity: "Duration is calculated from the time your code begins
/// executing until it returns or otherwise terminates, rounded up to the nearest 1 ms" (AWS
/// Lambda pricing). Memory counts in GB of 1024 MB (its examples: 128 MB = 0.125 GB).
pub(crate) const LAMBDA_BILLED_MS: f64 = 1.0;

/// Lambda's CPU share: "At 1,769 MB, a function has the equivalent of one vCPU" (Lambda
/// Developer Guide, "Configure Lambda function memory"); below that, a proportional fraction.
pub(crate) const LAMBDA_MB_PER_VCPU: f64 = 1769.0;

/// SQS standard queue requests, first 100 billion a month.
pub(crate) const SQS_STANDARD_REQUEST: Price = Price {
    item: "SQS standard queue requests (first 100 B a month)",
    dollars: 0.40,
    per: 1e6,
    unit: "request",
    source: "Amazon SQS pricing",
};

/// SQS FIFO queue requests.
pub(crate) const SQS_FIFO_REQUEST: Price = Price {
    item: "SQS FIFO queue requests",
    dollars: 0.50,
    per: 1e6,
    unit: "request",
    source: "Amazon SQS pricing",
};

/// "Each 64 KB chunk of a payload is billed as 1 request (for example, an API action with a
/// 256 KB payload is billed as 4 requests)" (Amazon SQS pricing).
pub(crate) const SQS_METERED_BYTES: u64 = 64 * 1024;

/// Messages one `ReceiveMessage` returns and one `DeleteMessageBatch` deletes at most (SQS API
/// Reference: `MaxNumberOfMessages` 1–10; a batch holds up to 10 entries): a Lambda batch
/// larger than that takes several of each.
pub(crate) const SQS_MESSAGES_PER_CALL: u64 = 10;

/// CloudWatch Logs ingestion, Standard log class; Lambda's logs are priced in tiers since May
/// 2025, and this is the first tier (up to 10 TB a month).
pub(crate) const CLOUDWATCH_LOGS_GB: Price = Price {
    item: "CloudWatch Logs ingestion, Standard class (first 10 TB a month)",
    dollars: 0.50,
    per: 1.0,
    unit: "GB",
    source: "Amazon CloudWatch pricing, Logs",
};

/// Bytes a log event counts beyond its message: "the sum of all event messages in UTF-8, plus
/// 26 bytes for each log event" (CloudWatch Logs API Reference, PutLogEvents). The pricing page
/// does not say whether ingestion bills them; the model counts them (the higher figure).
pub(crate) const CLOUDWATCH_EVENT_OVERHEAD_BYTES: u64 = 26;

/// A GB of ingested logs, as AWS bills it: 2^30 bytes.
pub(crate) const GB_BYTES: f64 = 1024.0 * 1024.0 * 1024.0;

/// DynamoDB on-demand write request units (after the November 2024 price cut).
pub(crate) const DYNAMODB_WRITE_UNIT: Price = Price {
    item: "DynamoDB on-demand write request units",
    dollars: 0.625,
    per: 1e6,
    unit: "WRU",
    source: "Amazon DynamoDB pricing, on-demand",
};

/// DynamoDB on-demand read request units (after the November 2024 price cut).
pub(crate) const DYNAMODB_READ_UNIT: Price = Price {
    item: "DynamoDB on-demand read request units",
    dollars: 0.125,
    per: 1e6,
    unit: "RRU",
    source: "Amazon DynamoDB pricing, on-demand",
};

/// "A standard write request unit can write an item up to 1 KB"; a strongly consistent read
/// "of up to 4 KB requires one read request unit" (DynamoDB pricing, on-demand). A failed
/// conditional write still consumes write units, by the size of the item (Developer Guide,
/// "Capacity units consumed by conditional writes").
pub(crate) const DYNAMODB_WRITE_UNIT_BYTES: u64 = 1024;
/// See [`DYNAMODB_WRITE_UNIT_BYTES`].
pub(crate) const DYNAMODB_READ_UNIT_BYTES: u64 = 4 * 1024;

/// S3 Standard PUT, COPY, POST and LIST requests (what ingest's `PutObject` of a large body is).
pub(crate) const S3_PUT_REQUEST: Price = Price {
    item: "S3 Standard PUT, COPY, POST, LIST requests",
    dollars: 0.005,
    per: 1e3,
    unit: "request",
    source: "Amazon S3 pricing, requests and data retrievals",
};

/// S3 Standard GET, SELECT and all other requests (the processor's `GetObject`). "DELETE and
/// CANCEL requests are free" (same page): the processor's `DeleteObject` costs nothing.
pub(crate) const S3_GET_REQUEST: Price = Price {
    item: "S3 Standard GET, SELECT and all other requests",
    dollars: 0.0004,
    per: 1e3,
    unit: "request",
    source: "Amazon S3 pricing, requests and data retrievals",
};

/// S3 Standard storage, first 50 TB a month. S3 Standard has no minimum storage duration (the
/// Infrequent Access classes bill at least 30 days): a body deleted after processing is billed
/// for the hours it was kept.
pub(crate) const S3_STANDARD_GB_MONTH: Price = Price {
    item: "S3 Standard storage (first 50 TB a month)",
    dollars: 0.023,
    per: 1.0,
    unit: "GB-month",
    source: "Amazon S3 pricing, storage",
};

/// Hours in the month of a GB-month, as the AWS Pricing Calculator counts them.
pub(crate) const HOURS_PER_MONTH: f64 = 730.0;

/// Every price, for the report's table of sources.
pub(crate) const ALL: [Price; 12] = [
    HTTP_API_REQUEST,
    LAMBDA_REQUEST,
    LAMBDA_ARM64_GB_SECOND,
    LAMBDA_X86_64_GB_SECOND,
    SQS_STANDARD_REQUEST,
    SQS_FIFO_REQUEST,
    CLOUDWATCH_LOGS_GB,
    DYNAMODB_WRITE_UNIT,
    DYNAMODB_READ_UNIT,
    S3_PUT_REQUEST,
    S3_GET_REQUEST,
    S3_STANDARD_GB_MONTH,
];

/// The duration price of functions built for `architecture`.
pub(crate) fn lambda_gb_second(architecture: Architecture) -> Price {
    match architecture {
        Architecture::Arm64 => LAMBDA_ARM64_GB_SECOND,
        Architecture::X86_64 => LAMBDA_X86_64_GB_SECOND,
    }
}

/// The request price of a queue of `kind`.
pub(crate) fn sqs_request(kind: QueueKind) -> Price {
    match kind {
        QueueKind::Standard => SQS_STANDARD_REQUEST,
        QueueKind::Fifo => SQS_FIFO_REQUEST,
    }
}
