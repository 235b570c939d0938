//! Lambda entry points, so that a function's `main.rs` is one call:
//!
//! ```no_run
//! # async fn ingest() -> Result<(), lambda_runtime::Error> {
//! hookline::lambda::run_ingest().await
//! # }
//! # async fn process() -> Result<(), lambda_runtime::Error> {
//! async fn handle(delivery: hookline::Delivery) -> Result<(), hookline::BoxError> {
//!     tracing::info!(event_type = ?delivery.event_type(), "got it");
//!     Ok(())
//! }
//! hookline::lambda::run_processor(handle).await
//! # }
//! ```
//!
//! Configuration and secrets are loaded once, at cold start; any problem fails the init with a
//! message naming what to fix, so a misconfigured function never accepts traffic. A Secrets
//! Manager secret is read again when a signature does not match (at most once a minute), so a
//! changed secret takes effect without waiting for new instances.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};

use tracing::Instrument as _;

use crate::claim_check::{BodyStore, S3Bodies};
use crate::config::{ConfigError, IngestConfig, ProcessorConfig};
use crate::idempotency::{DynamoDbStore, Guard};
use crate::ingest::{Ingest, SECRET_REFRESH_INTERVAL, SecretLoader};
use crate::logline;
use crate::metrics::Metrics;
use crate::process::{BoxError, Delivery, Processing};
use crate::queue::SqsQueue;
use crate::secrets::{SecretError, SecretSource};
use crate::verify::{KeyError, Verifier};

/// Why a function could not start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The environment is incomplete or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The signing secrets could not be read.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// A signing secret cannot be used with the scheme.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// JSON logs, one object per line ([`logline`]), level from `HOOKLINE_LOG` (`info` by default):
/// a level, or `target=level` directives separated by commas (`hookline=debug,warn`).
pub fn init_tracing() {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    // `Targets`, not `EnvFilter`: the same directives without span-field matching, and without
    // the regex engine in every function's binary.
    let parse = |v: &str| v.parse::<tracing_subscriber::filter::Targets>().ok();
    let filter = std::env::var(crate::config::vars::LOG)
        .ok()
        .and_then(|v| parse(&v))
        .or_else(|| parse(crate::config::DEFAULT_LOG))
        .unwrap_or_default();
    // Ignore the error of a second init (a subscriber is already installed).
    let _ = tracing_subscriber::registry()
        .with(logline::json_layer(std::io::stdout))
        .with(filter)
        .try_init();
}

/// Builds the ingest of this function from its environment.
pub async fn ingest_from_env() -> Result<Ingest<SqsQueue>, InitError> {
    let config = IngestConfig::from_env()?;
    let (secrets, refresh) = match &config.secret_source {
        // A secret in the environment cannot change under a running instance.
        SecretSource::Env(_) => (config.secret_source.load().await?, None),
        SecretSource::SecretsManager { arn } => {
            // One client for the cold-start read and the re-reads after a mismatch.
            let client = aws_sdk_secretsmanager::Client::new(&aws_config::load_from_env().await);
            let secrets = crate::secrets::fetch(&client, arn).await?;
            let arn = arn.clone();
            let load: SecretLoader = Box::new(move || {
                let (client, arn) = (client.clone(), arn.clone());
                Box::pin(async move { crate::secrets::fetch(&client, &arn).await })
            });
            (secrets, Some(load))
        }
    };
    let verifier = Verifier::new(config.scheme.clone(), &secrets, config.tolerance)?;
    let queue = SqsQueue::from_env(config.queue_url.clone()).await;
    let mut ingest = Ingest::new(config.provider, verifier, queue)
        .with_max_body_bytes(config.max_body_bytes)
        .with_public_url(config.public_url)
        .with_group_by(config.group_by)
        .with_stage(config.stage)
        .with_metrics(true);
    if let Some(bucket) = &config.body_bucket {
        ingest = ingest.with_body_store(Arc::new(S3Bodies::from_env(bucket).await));
    }
    Ok(match refresh {
        Some(load) => ingest.with_secret_refresh(load, SECRET_REFRESH_INTERVAL),
        None => ingest,
    })
}

/// Runs an ingest function: API Gateway HTTP API (payload 2.0) in, SQS out.
pub async fn run_ingest() -> Result<(), Error> {
    init_tracing();
    let ingest = ingest_from_env().await.inspect_err(|err| {
        tracing::error!(error = %err, "ingest function failed to start");
    })?;
    tracing::info!(provider = %ingest.provider(), "ingest function started");
    let ingest = &ingest;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            // Every line of the invocation carries the provider and the stage (`logline`).
            let span = logline::invocation_span(ingest.provider(), ingest.stage());
            // The invocation's X-Ray trace travels with the message (`AWSTraceHeader`).
            let trace = event.context.xray_trace_id.as_deref();
            // Boxed: lambda_runtime moves the handler's future several times per invocation.
            let handled = ingest.handle_traced(event.payload, trace).instrument(span);
            Ok::<_, Error>(Box::pin(handled).await)
        },
    ))
    .await
}

/// Runs a processor function: SQS batches in, `handler` per delivery, partial-batch failures out
/// (enable `ReportBatchItemFailures` on the event source mapping).
pub async fn run_processor<H, Fut, E>(handler: H) -> Result<(), Error>
where
    H: Fn(Delivery) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Into<BoxError>,
{
    init_tracing();
    let config = ProcessorConfig::from_env().inspect_err(|err| {
        tracing::error!(error = %err, "processor function failed to start");
    })?;
    tracing::info!(provider = %config.provider, "processor function started");
    let handler = &handler;
    // Idempotency on: the store, made once per instance.
    let store = match &config.idempotency {
        Some(idempotency) => Some(DynamoDbStore::connect(idempotency).await),
        None => None,
    };
    // A body bucket: bodies too large for their message are fetched from it.
    let bodies = match &config.body_bucket {
        Some(bucket) => Some(S3Bodies::from_env(bucket).await),
        None => None,
    };
    let (config, store, bodies) = (&config, &store, &bodies);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        // Every line of the invocation, the handler's too, carries the provider and the stage.
        let span = logline::invocation_span(&config.provider, &config.stage);
        let mut processing = Processing::new(config.concurrency);
        if let Some(bodies) = bodies {
            processing = processing.with_bodies(bodies as &dyn BodyStore);
        }
        // Boxed: lambda_runtime moves the handler's future, and an unboxed one nests deep enough
        // to exceed the compiler's query depth in the function's crate.
        let (response, items) = match store {
            Some(store) => {
                // The invocation's deadline bounds the claim: after it, a crashed or timed-out
                // invocation's record no longer stops the retry.
                let deadline = UNIX_EPOCH + Duration::from_millis(event.context.deadline);
                let guard = Guard { store, deadline };
                let processing = processing.with_guard(&guard);
                let batch = processing.run(event.payload, handler);
                Box::pin(batch.instrument(span)).await
            }
            None => {
                let batch = processing.run(event.payload, handler);
                Box::pin(batch.instrument(span)).await
            }
        };
        let metrics = Metrics::new(&config.provider, &config.stage);
        Metrics::write(&metrics.batch_lines(chrono::Utc::now(), &items));
        Ok::<_, Error>(response)
    }))
    .await
}
