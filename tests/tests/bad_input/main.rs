//! The bad-input corpus of `tests/fixtures/bad/`, driven through the local stack: every case
//! of `ingest.toml` against every provider of `hookline.toml` (garbage and duplicated headers,
//! oversized values, wrong content types, invalid UTF-8, truncated JSON, bodies at and over each
//! limit, bad timestamps and signatures, replays), and every case of `sqs.toml` as raw requests
//! to the SQS endpoint. Each case asserts the status, the error code and that no queue changed;
//! all failures are reported together, each with its case and provider.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod ingest;
mod schemes;
mod sqs;
mod wire;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_answers_the_bad_input_corpus_and_queues_nothing() {
    ingest::run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqs_endpoint_answers_bad_requests_with_sqs_errors() {
    sqs::run().await;
}
