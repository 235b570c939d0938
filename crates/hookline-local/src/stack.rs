//! The whole pipeline on loopback, from `hookline.toml`: the SQS and DynamoDB endpoint, a queue
//! and DLQ per provider, the idempotency table, the ingest and processor functions behind the
//! Runtime API, the gateway routes and the event source mappings.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hookline_manifest::{Manifest, Provider, QueueKind, ResolvedTable};

use crate::console::{self, Console};
use crate::endpoint::AwsEndpoint;
use crate::event_source::{EventSource, EventSourceSpec};
use crate::gateway::{self, Gateway, GatewayLimits};
use crate::lambda::{Function, FunctionSpec};
use crate::logs::LogSink;

mod environment;

pub use environment::{LocalBodies, ingest_env, local_idempotency_table, processor_env};

mod queues;
use queues::setup_queues;

/// Most instances per function when nothing else is said (`cargo xtask dev --concurrency`).
pub const DEFAULT_MAX_INSTANCES: usize = 4;

/// How to run the stack.
#[derive(Clone)]
pub struct StackConfig {
    /// The manifest.
    pub manifest: Manifest,
    /// Where the queue database and the local secrets live (`.hookline/`).
    pub data_dir: PathBuf,
    /// Gateway address (default 127.0.0.1:3000; port 0 picks one).
    pub gateway_addr: SocketAddr,
    /// The SQS and DynamoDB endpoint's address (default 127.0.0.1:9324).
    pub sqs_addr: SocketAddr,
    /// The folder holding the function binaries (`target/debug`).
    pub binaries: PathBuf,
    /// Where function output goes.
    pub logs: LogSink,
    /// Most instances per function.
    pub max_instances: usize,
    /// Per-provider processor binaries replacing `<name>-process` (tests).
    pub processor_overrides: BTreeMap<String, PathBuf>,
    /// Extra environment for every function.
    pub extra_env: BTreeMap<String, String>,
    /// The SQS endpoint ingest functions are given, instead of the stack's own (tests).
    pub ingest_sqs_endpoint: Option<String>,
    /// The S3 endpoint ingest functions are given, instead of the stack's own (tests).
    pub ingest_s3_endpoint: Option<String>,
    /// The gateway's connection, header and slow-client limits.
    pub gateway_limits: GatewayLimits,
    /// Whether to serve the local console (`/_hookline/` on the gateway) and keep its history.
    pub console: bool,
    /// The project folder, where the providers' crates keep their sample deliveries (the
    /// console's Send page); without it the console sends only bodies given to it.
    pub project_root: Option<PathBuf>,
}

impl StackConfig {
    /// Defaults: ports 3000 and 9324 on 127.0.0.1, logs to stderr, [`DEFAULT_MAX_INSTANCES`]
    /// instances per function.
    pub fn new(manifest: Manifest, data_dir: PathBuf, binaries: PathBuf) -> StackConfig {
        StackConfig {
            manifest,
            data_dir,
            gateway_addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            sqs_addr: SocketAddr::from(([127, 0, 0, 1], 9324)),
            binaries,
            logs: LogSink::Stderr,
            max_instances: DEFAULT_MAX_INSTANCES,
            processor_overrides: BTreeMap::new(),
            extra_env: BTreeMap::new(),
            ingest_sqs_endpoint: None,
            ingest_s3_endpoint: None,
            gateway_limits: GatewayLimits::default(),
            console: true,
            project_root: None,
        }
    }
}

/// What a provider looks like on the running stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderInfo {
    /// Name.
    pub name: String,
    /// Signature scheme.
    pub scheme: String,
    /// Where to post its webhooks.
    pub webhook_url: String,
    /// The local signing secret (for public-key schemes, the public key ingest verifies with).
    pub secret: String,
    /// What a sender signs with: the secret, or the private key of public-key schemes.
    pub signing_key: String,
    /// Its queue.
    pub queue_url: String,
    /// Its dead-letter queue.
    pub dlq_url: String,
}

/// Why the stack did not start.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// A port or file could not be used.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A function binary is missing.
    #[error("{0} does not exist: build the functions first (`cargo xtask dev` does)")]
    MissingBinary(PathBuf),
    /// A provider's settings cannot be used.
    #[error("provider {provider}: {message}")]
    Provider {
        /// The provider.
        provider: String,
        /// What is wrong.
        message: String,
    },
    /// The console's history could not be opened.
    #[error("the local console: {0}")]
    Console(String),
    /// The queues could not be set up.
    #[error("setting up queue {queue}: {message}")]
    Queue {
        /// The queue.
        queue: String,
        /// What failed.
        message: String,
    },
    /// The body bucket could not be set up.
    #[error("setting up S3 bucket {bucket}: {message}")]
    Bucket {
        /// The bucket.
        bucket: String,
        /// What failed.
        message: String,
    },
    /// A table could not be set up.
    #[error("setting up DynamoDB table {table}: {message}")]
    Table {
        /// The table.
        table: String,
        /// What failed.
        message: String,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StackError {
    let context = context.into();
    move |source| StackError::Io { context, source }
}

/// A running stack.
pub struct DevStack {
    endpoint: AwsEndpoint,
    idempotency_table: ResolvedTable,
    bodies: LocalBodies,
    gateway: Gateway,
    ingest: Vec<Function>,
    processors: Vec<Function>,
    sources: Vec<EventSource>,
    providers: Vec<ProviderInfo>,
    console: Option<Arc<Console>>,
}

/// Queue names of a provider: `<name>` and `<name>-dlq`, with `.fifo` for FIFO queues.
pub fn queue_names(provider: &Provider) -> (String, String) {
    match provider.queue.kind {
        QueueKind::Standard => (provider.name.clone(), format!("{}-dlq", provider.name)),
        QueueKind::Fifo => (
            format!("{}.fifo", provider.name),
            format!("{}-dlq.fifo", provider.name),
        ),
    }
}

impl DevStack {
    /// Starts everything; the queues keep what they held before.
    pub async fn start(config: StackConfig) -> Result<DevStack, StackError> {
        let aws = AwsEndpoint::start(config.sqs_addr, &config.data_dir)
            .await
            .map_err(io(format!(
                "starting the SQS and DynamoDB endpoint on {}",
                config.sqs_addr
            )))?;
        let endpoint = aws.endpoint();
        let store = aws.store().clone();
        let idempotency_table = local_idempotency_table(&config.manifest);
        aws.tables()
            .ensure_table(
                &idempotency_table.table_name,
                &idempotency_table.partition_key,
                Some(&idempotency_table.time_to_live_attribute),
            )
            .await
            .map_err(|e| StackError::Table {
                table: idempotency_table.table_name.clone(),
                message: e.message,
            })?;
        let bodies = LocalBodies::of(&config.manifest, &endpoint);
        aws.objects()
            .create_bucket(&bodies.bucket)
            .await
            .map_err(|e| StackError::Bucket {
                bucket: bodies.bucket.clone(),
                message: e.to_string(),
            })?;
        let history = match config.console {
            true => Some(console::open_history(&config.data_dir).map_err(StackError::Console)?),
            false => None,
        };
        // Processors' log lines tell the console why a handler failed a message.
        let processor_logs = match &history {
            Some(history) => config.logs.clone().tapped(console::log_tap(history)),
            None => config.logs.clone(),
        };
        let mut console_providers = Vec::new();
        let mut routes = BTreeMap::new();
        let mut ingest = Vec::new();
        let mut processors = Vec::new();
        let mut sources = Vec::new();
        let mut providers = Vec::new();
        for provider in &config.manifest.providers {
            let (queue, dlq) = queue_names(provider);
            let (queue_url, dlq_url) = setup_queues(&store, provider, &queue, &dlq).await?;
            let credentials = crate::credentials::load_or_create(&config.data_dir, provider)?;
            let secret = credentials.verify.clone();
            let ingest_binary = config.binaries.join(provider.ingest_binary());
            let process_binary = config
                .processor_overrides
                .get(&provider.name)
                .cloned()
                .unwrap_or_else(|| config.binaries.join(provider.process_binary()));
            for binary in [&ingest_binary, &process_binary] {
                if !binary.exists() {
                    return Err(StackError::MissingBinary(binary.clone()));
                }
            }
            let ingest_endpoint = config
                .ingest_sqs_endpoint
                .clone()
                .unwrap_or_else(|| endpoint.clone());
            let mut env = ingest_env(provider, &queue_url, &secret, &ingest_endpoint, &bodies);
            if let Some(s3) = &config.ingest_s3_endpoint {
                env.insert("AWS_ENDPOINT_URL_S3".into(), s3.clone());
            }
            env.extend(config.extra_env.clone());
            let ingest_fn = Function::new(
                FunctionSpec {
                    name: provider.ingest_binary(),
                    binary: ingest_binary,
                    env,
                    timeout: Duration::from_secs(u64::from(provider.ingest.timeout_secs)),
                    max_instances: config.max_instances,
                },
                config.logs.clone(),
            );
            let mut env = processor_env(provider, &endpoint, &idempotency_table, &bodies);
            env.extend(config.extra_env.clone());
            let processor_instances =
                (provider.processor.max_concurrency as usize).min(config.max_instances);
            let processor = Function::new(
                FunctionSpec {
                    name: provider.process_binary(),
                    binary: process_binary,
                    env,
                    timeout: Duration::from_secs(u64::from(provider.processor.timeout_secs)),
                    max_instances: processor_instances,
                },
                processor_logs.clone(),
            );
            let spec = EventSourceSpec {
                queue: queue.clone(),
                queue_arn: crate::aws_local::sqs_queue_arn(&queue),
                batch_size: provider.queue.batch_size,
                window: Duration::from_secs(u64::from(provider.queue.max_batching_window_secs)),
                pollers: processor_instances,
            };
            sources.push(EventSource::start_observed(
                store.clone(),
                processor.clone(),
                spec,
                config.logs.clone(),
                history.as_ref().map(console::attempt_observer),
            ));
            if history.is_some() {
                console_providers.push(console::provider(
                    provider,
                    &credentials.sign,
                    &queue,
                    &dlq,
                    config.project_root.as_deref(),
                )?);
            }
            routes.insert(provider.route.clone(), ingest_fn.clone());
            ingest.push(ingest_fn);
            processors.push(processor);
            providers.push(ProviderInfo {
                name: provider.name.clone(),
                scheme: provider.signing.scheme.clone(),
                webhook_url: String::new(),
                secret,
                signing_key: credentials.sign,
                queue_url,
                dlq_url,
            });
        }
        let console =
            history.map(|history| Console::new(history, console_providers, store.clone()));
        let webhooks = gateway::webhooks(
            routes,
            &config.gateway_limits,
            console.as_ref().map(Console::exchange_observer),
        );
        let app = match &console {
            Some(console) => {
                store.observe(console.queue_observer());
                console.router().fallback_service(webhooks.clone())
            }
            None => webhooks.clone(),
        };
        let gateway = Gateway::serve(config.gateway_addr, app, config.gateway_limits.clone())
            .await
            .map_err(io(format!(
                "starting the gateway on {}",
                config.gateway_addr
            )))?;
        if let Some(console) = &console {
            console.attach(webhooks, gateway.addr());
        }
        for (info, provider) in providers.iter_mut().zip(&config.manifest.providers) {
            info.webhook_url = format!("{}{}", gateway.url(), provider.route);
        }
        Ok(DevStack {
            endpoint: aws,
            idempotency_table,
            bodies,
            gateway,
            ingest,
            processors,
            sources,
            providers,
            console,
        })
    }

    /// The local console's URL, when it is served.
    pub fn console_url(&self) -> Option<String> {
        self.console
            .as_ref()
            .map(|_| format!("{}{}/", self.gateway.url(), console::PATH))
    }

    /// The providers with their URLs and secrets.
    pub fn providers(&self) -> &[ProviderInfo] {
        &self.providers
    }

    /// A function of the stack by name (`stripe-ingest`, `stripe-process`).
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.ingest
            .iter()
            .chain(&self.processors)
            .find(|f| f.name() == name)
    }

    /// The gateway's base URL.
    pub fn gateway_url(&self) -> String {
        self.gateway.url()
    }

    /// The SQS endpoint URL.
    pub fn sqs_endpoint(&self) -> String {
        self.endpoint.endpoint()
    }

    /// The SQS endpoint's store (its writer's commit count, for tests).
    pub fn sqs_store(&self) -> &crate::sqs::StoreHandle {
        self.endpoint.store()
    }

    /// The DynamoDB endpoint URL (the same listener as SQS's).
    pub fn dynamodb_endpoint(&self) -> String {
        self.endpoint.endpoint()
    }

    /// The body bucket and its S3 endpoint (the same listener as SQS's).
    pub fn bodies(&self) -> &LocalBodies {
        &self.bodies
    }

    /// The idempotency table: its name, key and TTL attribute.
    pub fn idempotency_table(&self) -> &ResolvedTable {
        &self.idempotency_table
    }

    /// Stops in order: no new webhooks, in-flight invocations finish, then the queues close.
    pub async fn shutdown(self) {
        let grace = Duration::from_secs(30);
        self.gateway.shutdown().await;
        for function in &self.ingest {
            function.shutdown(grace).await;
        }
        for source in self.sources {
            source.shutdown().await;
        }
        for function in &self.processors {
            function.shutdown(grace).await;
        }
        self.endpoint.shutdown().await;
    }
}
