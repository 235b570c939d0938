/**
 * The resolved document: `hookline.toml` resolved for one stage by the Rust crate
 * crates/hookline-manifest (src/resolved.rs), with every default applied and every derived value
 * computed. `cargo xtask synth|deploy` writes it to `target/hookline/<stage>.json` and passes its
 * path as `-c resolved=`; `cargo xtask resolve --stage <stage>` prints it.
 *
 * The interfaces below mirror the Rust structs (serialized in camelCase); the Rust crate is the
 * source of every field, rule, default and limit. This app checks nothing but the version.
 */
import * as fs from 'fs';

/**
 * The version of the resolved document this app understands. It must match `RESOLVED_VERSION`
 * in crates/hookline-manifest/src/resolved.rs: the crate raises it whenever a field changes
 * meaning or goes, and this app refuses any other.
 */
export const RESOLVED_VERSION = 2;

/** The functions' architecture, as the manifest spells it. */
export type Architecture = 'arm64' | 'x86_64';

/** Variables of a function, by name (`environment::Environment` in the Rust crate). */
export type Environment = Record<string, string>;

/** The resolved document (`Resolved`). */
export interface Resolved {
  /** What this file is and who writes it. */
  readonly $comment: string;
  /** The document's version: {@link RESOLVED_VERSION}. */
  readonly version: number;
  /** The manifest it was resolved from. */
  readonly manifestFile: string;
  /** Project-wide settings. */
  readonly project: ResolvedProject;
  /** The stage and its stack. */
  readonly stage: ResolvedStage;
  /** The providers, in manifest order. */
  readonly providers: ResolvedProvider[];
}

/** Project-wide settings (`ResolvedProject`). */
export interface ResolvedProject {
  /** The stack prefix. */
  readonly name: string;
  /** The functions' architecture: `arm64` or `x86_64`. */
  readonly architecture: Architecture;
  /** X-Ray active tracing on every function. */
  readonly tracing: boolean;
}

/** The stage and its stack (`ResolvedStage`). */
export interface ResolvedStage {
  /** `prod`, `pr-42`, ... */
  readonly name: string;
  /** `<project>-<stage>`: the stack's name. */
  readonly stackName: string;
  /** The stack's description. */
  readonly description: string;
  /** Where it is deployed: the stack's region. */
  readonly region: string;
  /** Whether everything goes with the stack (queues, secrets, logs). */
  readonly ephemeral: boolean;
  /** An ephemeral stage's time to live (`24h`); absent for a retained stage. */
  readonly ttl?: string;
  /** The same in seconds; absent for a retained stage. */
  readonly ttlSecs?: number;
  /** When an ephemeral stage may be reaped (RFC 3339): the deploy time plus the ttl. */
  readonly expiresAt?: string;
  /** The pull request of a preview. */
  readonly pr?: number;
  /** The address subscribed to the alarms; absent: no subscription. */
  readonly alarmEmail?: string;
  /** How long the functions' and the API's logs are kept, in days. */
  readonly logRetentionDays: number;
  /**
   * The start of the API access-log group's name, under `/aws/vendedlogs/` so that stacks do not
   * fill API Gateway's account-wide log resource policy; the app appends the stack's id.
   */
  readonly accessLogGroupPrefix: string;
  /** Tags on the stack and everything in it. */
  readonly tags: Record<string, string>;
  /** The ids of the stack's own outputs, by what they hold. */
  readonly outputs: StackOutputs;
  /** The idempotency store's DynamoDB table (`ResolvedTable::idempotency`). */
  readonly idempotencyTable: ResolvedTable;
  /**
   * The S3 bucket of bodies too large for a queue message (`ResolvedBodyBucket`); null when no
   * provider uses it (every `bodyKeyPrefix` is null).
   */
  readonly bodyBucket: ResolvedBodyBucket | null;
  /** What the stack alarms on beyond AWS's own metrics. */
  readonly monitoring: ResolvedMonitoring;
}

/** A DynamoDB table the functions use (`ResolvedTable`). */
export interface ResolvedTable {
  /** Its name: `<project>-<stage>-idempotency`. */
  readonly tableName: string;
  /** Its partition key attribute (a string; no sort key). */
  readonly partitionKey: string;
  /** The attribute its TTL reads (epoch seconds). */
  readonly timeToLiveAttribute: string;
  /** The processor variable set to its name. */
  readonly environmentVariable: string;
}

/**
 * The stage's body bucket (`ResolvedBodyBucket`). CloudFormation names it (bucket names are
 * global), so this app sets the variable to the name, on both functions of each provider with a
 * `bodyKeyPrefix`.
 */
export interface ResolvedBodyBucket {
  /** The variable of both functions set to its name. */
  readonly environmentVariable: string;
  /** Days after which its lifecycle rule deletes an object: until the DLQ would have dropped the message. */
  readonly expirationDays: number;
}

/** What the stack measures beyond AWS's own metrics (`monitoring::ResolvedMonitoring`). */
export interface ResolvedMonitoring {
  /** The functions' Embedded Metric Format metrics (the dashboard shows them). */
  readonly metrics: ResolvedMetrics;
  /** Metrics counted by metric filters on the functions' log groups. */
  readonly logMetrics: ResolvedLogMetrics;
  /** The alarms' period, in seconds. */
  readonly alarmPeriodSecs: number;
  /** The API alarm fires at this many 5xx answers in a period. */
  readonly apiServerErrors: number;
}

/** The namespace, dimensions and names of the functions' metrics (`monitoring::ResolvedMetrics`). */
export interface ResolvedMetrics {
  /** The namespace. */
  readonly namespace: string;
  /** The dimensions' names. */
  readonly dimensions: {
    /** The provider's name. */
    readonly provider: string;
    /** The stage's name. */
    readonly stage: string;
    /** A rejection's error code (on `rejected`, with the other two). */
    readonly code: string;
  };
  /** The metrics' names. */
  readonly names: {
    /** Ingest: requests. */
    readonly received: string;
    /** Ingest: deliveries queued. */
    readonly enqueued: string;
    /** Ingest: requests refused (also by code). */
    readonly rejected: string;
    /** Ingest: milliseconds the queue took. */
    readonly enqueueLatency: string;
    /** Processor: messages handled. */
    readonly processed: string;
    /** Processor: messages failed. */
    readonly failed: string;
    /** Processor: milliseconds per message. */
    readonly processingDuration: string;
    /** Processor: milliseconds a message waited in the queue. */
    readonly queueAge: string;
  };
}

/** Metrics counted from the functions' log lines (`monitoring::ResolvedLogMetrics`). */
export interface ResolvedLogMetrics {
  /** Their namespace. */
  readonly namespace: string;
  /** Each dimension's name (provider, stage) and the JSON selector of its value in a log line. */
  readonly dimensions: Record<string, string>;
  /** Ingest: requests answered 401. */
  readonly unauthorized: LogMetric;
  /** Ingest: requests answered 503 `queue_unavailable`. */
  readonly queueUnavailable: LogMetric;
  /** Processor: messages reported failed. */
  readonly failedItems: LogMetric;
}

/** One metric filter: the metric it counts and the filter pattern of the lines (`monitoring::LogMetric`). */
export interface LogMetric {
  /** The metric's name. */
  readonly metricName: string;
  /** The CloudWatch Logs filter pattern (JSON). */
  readonly filterPattern: string;
}

/** The ids of the stack's own outputs (`StackOutputs`). */
export interface StackOutputs {
  /** The HTTP API endpoint. */
  readonly apiEndpoint: string;
  /** The alarm topic's ARN. */
  readonly alarmTopicArn: string;
  /** The body bucket's name (only when the stage has one). */
  readonly bodyBucketName: string;
}

/** One provider, resolved (`ResolvedProvider`). */
export interface ResolvedProvider {
  /** The provider's name. */
  readonly name: string;
  /** The template it was made from. */
  readonly template: string;
  /** The webhook route. */
  readonly route: string;
  /** The signature scheme. */
  readonly scheme: string;
  /** An existing Secrets Manager secret; absent: the stack creates one. */
  readonly secretArn?: string;
  /** The ingest function. */
  readonly ingest: ResolvedIngest;
  /** The processor function and its event source. */
  readonly processor: ResolvedProcessor;
  /** The queue and its dead-letter queue. */
  readonly queue: ResolvedQueue;
  /** Alarm thresholds. */
  readonly alarms: ResolvedAlarms;
  /** The ids of the provider's stack outputs, by what they hold. */
  readonly outputs: ProviderOutputs;
  /** The route's own throttle, tighter than the API's (FIFO providers: what their queue takes); absent: the API's. */
  readonly routeThrottle?: RouteThrottle;
  /**
   * The key prefix of its bodies in the stage's body bucket (`stripe/`): its ingest function may
   * only put objects under it, its processor only get and delete them. Null when its body limit
   * keeps every body in its queue message.
   */
  readonly bodyKeyPrefix: string | null;
}

/** A route's throttle (`RouteThrottle`). */
export interface RouteThrottle {
  /** Steady requests per second. */
  readonly rateLimit: number;
  /** Requests above the rate, at once. */
  readonly burstLimit: number;
}

/** A function (`ResolvedFunction`). */
export interface ResolvedFunction {
  /** The binary (`stripe-ingest`). */
  readonly binary: string;
  /** Its Lambda zip, relative to the build's output folder (`arm64/stripe-ingest/bootstrap.zip`). */
  readonly zip: string;
  /** Timeout in seconds. */
  readonly timeoutSecs: number;
  /** Memory in MB. */
  readonly memoryMb: number;
  /** Its environment, without the values that come from resources. */
  readonly environment: Environment;
}

/** The ingest function (`ResolvedIngest`; the function's fields are flattened in). */
export interface ResolvedIngest extends ResolvedFunction {
  /** The names of the variables set from resources. */
  readonly resourceEnvironment: ResourceEnvironment;
}

/**
 * The names of the ingest variables whose values exist only once the resources do
 * (`environment::ResourceEnvironment`).
 */
export interface ResourceEnvironment {
  /** Set to the queue's URL. */
  readonly queueUrl: string;
  /** Set to the signing secret's ARN (AWS). */
  readonly signingSecretArn: string;
  /** Set to the signing secret itself (the local stack's; unused here). */
  readonly signingSecret: string;
}

/** The processor function and its event source (`ResolvedProcessor`; the function's fields are flattened in). */
export interface ResolvedProcessor extends ResolvedFunction {
  /** Messages per invocation. */
  readonly batchSize: number;
  /** Seconds to gather a batch (0: none). */
  readonly maxBatchingWindowSecs: number;
  /** Most concurrent invocations (`ScalingConfig.MaximumConcurrency`). */
  readonly maxConcurrency: number;
  /**
   * Whether its handlers run at most once per delivery: then it gets the stage's idempotency
   * table (`stage.idempotencyTable`), else it runs without the store (`idempotency = false`).
   */
  readonly idempotency: boolean;
}

/** The queue and its dead-letter queue (`ResolvedQueue`). */
export interface ResolvedQueue {
  /** FIFO queues (the ingest function sets the deduplication id), else standard. */
  readonly fifo: boolean;
  /** Receives before a message moves to the DLQ. */
  readonly maxReceiveCount: number;
  /** The queue's visibility timeout, in seconds. */
  readonly visibilityTimeoutSecs: number;
  /** How long the queue keeps a message, in seconds. */
  readonly retentionSecs: number;
  /** The dead-letter queue's retention, in seconds. */
  readonly dlqRetentionSecs: number;
  /** FIFO queues: where the message group id comes from (`provider`, a header name, a JSON pointer); absent for standard queues. */
  readonly groupBy?: string;
}

/** A provider's alarm thresholds (`monitoring::ResolvedAlarms`); counts are per `periodSecs`. */
export interface ResolvedAlarms {
  /** The oldest-message alarm fires past this age, in seconds. */
  readonly oldestMessageAgeSecs: number;
  /** The period of the count alarms, in seconds. */
  readonly periodSecs: number;
  /** Ingest function errors. */
  readonly ingestErrors: number;
  /** Ingest function throttles. */
  readonly ingestThrottles: number;
  /** Requests answered 401. */
  readonly unauthorized: number;
  /** Requests answered 503 `queue_unavailable`. */
  readonly queueUnavailable: number;
  /** Processor function errors. */
  readonly processorErrors: number;
  /** Processor function throttles. */
  readonly processorThrottles: number;
  /** Messages reported failed. */
  readonly failedItems: number;
}

/** The ids of a provider's stack outputs (`ProviderOutputs`). */
export interface ProviderOutputs {
  /** The webhook URL to give the provider. */
  readonly webhookUrl: string;
  /** The queue's URL. */
  readonly queueUrl: string;
  /** The dead-letter queue's URL. */
  readonly dlqUrl: string;
  /** The signing secret's ARN. */
  readonly secretArn: string;
}

/** How to make a resolved document, for error messages. */
const HOW_TO_RESOLVE = 'run the app through `cargo xtask synth|deploy --stage <stage>`, or make one with `cargo xtask resolve --stage <stage>`';

/**
 * Reads a resolved document. Throws a one-line error when the file cannot be read, is not JSON,
 * or has a version other than {@link RESOLVED_VERSION}.
 */
export function loadResolved(path: string): Resolved {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the resolved manifest ${path}: ${(err as Error).message.split('\n')[0]}; ${HOW_TO_RESOLVE}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not a resolved manifest: ${(err as Error).message.split('\n')[0]}; ${HOW_TO_RESOLVE}`);
  }
  const version = typeof doc === 'object' && doc !== null ? (doc as { version?: unknown }).version : undefined;
  if (version !== RESOLVED_VERSION) {
    const found = version === undefined ? 'has no version' : `is of version ${JSON.stringify(version)}`;
    throw new Error(
      `${path} ${found}, but this CDK app reads resolved manifests of version ${RESOLVED_VERSION}: ` +
        `use xtask and cdk/ of the same commit and ${HOW_TO_RESOLVE}`,
    );
  }
  return doc as Resolved;
}
