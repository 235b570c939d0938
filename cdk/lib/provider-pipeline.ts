/**
 * One provider's pipeline: signing secret → ingest function → queue (+ DLQ) → processor function,
 * with the alarms that tell when deliveries pile up or fail.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { isValidName, SCHEMES } from './manifest';

/** generic-hmac settings (`HOOKLINE_GENERIC_*`); unset ones take the runtime's defaults. */
export interface GenericHmacProps {
  /** @default 'x-signature' (the runtime's default) */
  readonly header?: string;
  /** `sha1`, `sha256` or `sha512`. @default 'sha256' (the runtime's default) */
  readonly algorithm?: string;
  /** `hex` or `base64`. @default 'hex' (the runtime's default) */
  readonly encoding?: string;
  /** Text before the signature, e.g. `sha256=`. @default - none */
  readonly prefix?: string;
}

export interface ProviderPipelineProps {
  /** The provider's name (`[a-z][a-z0-9-]*`): `HOOKLINE_PROVIDER` of both functions. */
  readonly providerName: string;
  /** The signature scheme (`HOOKLINE_SCHEME`): one of {@link SCHEMES}. */
  readonly scheme: string;
  /** generic-hmac settings; only with the `generic-hmac` scheme. @default - the runtime's defaults */
  readonly genericHmac?: GenericHmacProps;
  /**
   * An existing Secrets Manager secret holding the signing secret (or a JSON array of them).
   * @default - the pipeline creates a secret with a random placeholder value: deliveries are
   * rejected until `cargo xtask secret set` writes the provider's secret.
   */
  readonly secretArn?: string;
  /** The ingest function's code (`<provider>-ingest`, a `bootstrap` zip). */
  readonly ingestCode: lambda.Code;
  /** The processor function's code (`<provider>-process`, a `bootstrap` zip). */
  readonly processorCode: lambda.Code;
  /** The functions' architecture; must match the binaries. @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /** A FIFO queue (and FIFO DLQ) instead of a standard one. @default false */
  readonly fifo?: boolean;
  /** Messages per processor invocation: 1–10 for FIFO, 1–10 000 for standard. @default 10 */
  readonly batchSize?: number;
  /** Time to gather a batch (0–300 s; FIFO: none; ≥ 1 s when the batch size is over 10). @default Duration.seconds(0) */
  readonly maxBatchingWindow?: Duration;
  /** Receives before a message moves to the DLQ (1–1000). @default 5 */
  readonly maxReceiveCount?: number;
  /** The queue's visibility timeout: at least 6 × the processor timeout. @default 6 × processorTimeout */
  readonly visibilityTimeout?: Duration;
  /** How long the queue keeps a message (60 s – 14 days). @default Duration.days(4) */
  readonly retentionPeriod?: Duration;
  /** Body limit of the ingest function (`HOOKLINE_MAX_BODY_BYTES`, 1 – 1 MiB). @default 1015808 */
  readonly maxBodyBytes?: number;
  /** Allowed clock difference for signed timestamps (1 s – 1 day). @default Duration.seconds(300) */
  readonly timestampTolerance?: Duration;
  /** The ingest function's timeout (1–30 s: API Gateway waits 30 s at most). @default Duration.seconds(10) */
  readonly ingestTimeout?: Duration;
  /** The ingest function's memory (128–10 240 MB). @default 128 */
  readonly ingestMemoryMb?: number;
  /** The processor function's timeout (1–900 s). @default Duration.seconds(30) */
  readonly processorTimeout?: Duration;
  /** The processor function's memory (128–10 240 MB). @default 256 */
  readonly processorMemoryMb?: number;
  /** Most concurrent processor invocations the event source starts (2–1000). @default - no limit */
  readonly maxConcurrency?: number;
  /**
   * Whether removing the stack removes everything: queues, DLQ, secret (without recovery window)
   * and log groups. Otherwise those are retained.
   * @default false
   */
  readonly ephemeral?: boolean;
  /** How long the functions' logs are kept. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** The log filter of both functions (`HOOKLINE_LOG`). @default 'info' */
  readonly logLevel?: string;
  /** Where the alarms notify. @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Alarm when the oldest message of the queue is older than this (60 s up to the retention).
   * @default - one hour, or half the retention period when that is shorter
   */
  readonly oldestMessageAgeThreshold?: Duration;
}

/** The default body limit: what fits one SQS message with the envelope (1 MiB − 32 KiB). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024 - 32 * 1024;

/** A complete Secrets Manager ARN ends with `-` and 6 random characters. */
const COMPLETE_SECRET_ARN = /^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+-[A-Za-z0-9]{6}$/;

export class ProviderPipeline extends Construct {
  /** The secret the ingest function verifies signatures with. */
  public readonly secret: secretsmanager.ISecret;
  /** Whether the pipeline created {@link secret} (else it was given by ARN). */
  public readonly secretCreated: boolean;
  /** The queue the ingest function writes raw deliveries to. */
  public readonly queue: sqs.Queue;
  /** Where messages go after `maxReceiveCount` failed receives. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Verifies, answers handshakes and enqueues. */
  public readonly ingestFunction: lambda.Function;
  /** Consumes the queue in batches. */
  public readonly processorFunction: lambda.Function;
  /** DLQ has messages, oldest message too old, ingest errors, ingest throttles. */
  public readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ProviderPipelineProps) {
    super(scope, id);
    const name = props.providerName;
    const fail = (message: string): never => {
      throw new Error(`ProviderPipeline ${this.node.path}: ${message}`);
    };

    // ---- validation: every limit that AWS or the runtime would reject later ----
    if (!isValidName(name)) {
      fail(`providerName \`${name}\` is not a name: use [a-z][a-z0-9-]*, at most 32 characters`);
    }
    if (!(SCHEMES as readonly string[]).includes(props.scheme)) {
      fail(`scheme \`${props.scheme}\` is not one of: ${SCHEMES.join(', ')}`);
    }
    if (props.genericHmac && props.scheme !== 'generic-hmac') {
      fail(`genericHmac only applies to the generic-hmac scheme, not \`${props.scheme}\``);
    }
    const g = props.genericHmac ?? {};
    if (g.algorithm !== undefined && !['sha1', 'sha256', 'sha512'].includes(g.algorithm)) {
      fail(`genericHmac.algorithm \`${g.algorithm}\` is not one of: sha1, sha256, sha512`);
    }
    if (g.encoding !== undefined && !['hex', 'base64'].includes(g.encoding)) {
      fail(`genericHmac.encoding \`${g.encoding}\` is not one of: hex, base64`);
    }
    if (props.secretArn !== undefined && !/^arn:[a-z-]+:secretsmanager:/.test(props.secretArn)) {
      fail(`secretArn \`${props.secretArn}\` is not a Secrets Manager ARN (arn:aws:secretsmanager:...)`);
    }
    const fifo = props.fifo ?? false;
    const kind = fifo ? 'a FIFO' : 'a standard';
    const range = (what: string, value: number, min: number, max: number, unit = '') => {
      if (!Number.isInteger(value) || value < min || value > max) {
        fail(`${what} ${value}${unit} is out of range: allowed ${min}–${max}${unit}`);
      }
    };
    const batchSize = props.batchSize ?? 10;
    range(`batchSize (${kind} queue)`, batchSize, 1, fifo ? 10 : 10_000);
    const windowSecs = (props.maxBatchingWindow ?? Duration.seconds(0)).toSeconds();
    if (fifo && windowSecs !== 0) {
      fail('maxBatchingWindow must be 0 for a FIFO queue: Lambda has no batching window for FIFO queues');
    }
    range('maxBatchingWindow', windowSecs, 0, 300, ' s');
    if (batchSize > 10 && windowSecs < 1) {
      fail(`a batchSize of ${batchSize} (over 10) needs a maxBatchingWindow of at least 1 s`);
    }
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    range('maxReceiveCount', maxReceiveCount, 1, 1000);
    const processorTimeout = props.processorTimeout ?? Duration.seconds(30);
    range('processorTimeout', processorTimeout.toSeconds(), 1, 900, ' s');
    const visibilityTimeout = props.visibilityTimeout ?? Duration.seconds(6 * processorTimeout.toSeconds());
    if (visibilityTimeout.toSeconds() < 6 * processorTimeout.toSeconds()) {
      fail(
        `visibilityTimeout ${visibilityTimeout.toSeconds()} s is less than 6 × the processor timeout ` +
          `(${processorTimeout.toSeconds()} s), as AWS recommends: use at least ${6 * processorTimeout.toSeconds()} s`,
      );
    }
    range('visibilityTimeout', visibilityTimeout.toSeconds(), 0, 43_200, ' s');
    const retention = props.retentionPeriod ?? Duration.days(4);
    range('retentionPeriod', retention.toSeconds(), 60, 1_209_600, ' s');
    const maxBodyBytes = props.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    range('maxBodyBytes', maxBodyBytes, 1, 1024 * 1024);
    const tolerance = props.timestampTolerance ?? Duration.seconds(300);
    range('timestampTolerance', tolerance.toSeconds(), 1, 86_400, ' s');
    const ingestTimeout = props.ingestTimeout ?? Duration.seconds(10);
    range('ingestTimeout', ingestTimeout.toSeconds(), 1, 30, ' s');
    const ingestMemory = props.ingestMemoryMb ?? 128;
    range('ingestMemoryMb', ingestMemory, 128, 10_240);
    const processorMemory = props.processorMemoryMb ?? 256;
    range('processorMemoryMb', processorMemory, 128, 10_240);
    if (props.maxConcurrency !== undefined) {
      range('maxConcurrency', props.maxConcurrency, 2, 1000);
    }
    const ageThreshold =
      props.oldestMessageAgeThreshold ?? Duration.seconds(Math.min(3600, Math.floor(retention.toSeconds() / 2)));
    if (ageThreshold.toSeconds() < 60 || ageThreshold.toSeconds() >= retention.toSeconds()) {
      fail(
        `oldestMessageAgeThreshold ${ageThreshold.toSeconds()} s must be at least 60 s and less than ` +
          `the retention period (${retention.toSeconds()} s), or messages expire before it fires`,
      );
    }

    const ephemeral = props.ephemeral ?? false;
    const removalPolicy = ephemeral ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const architecture = props.architecture ?? lambda.Architecture.ARM_64;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const logLevel = props.logLevel ?? 'info';

    // ---- signing secret ----
    if (props.secretArn === undefined) {
      const secret = new secretsmanager.Secret(this, 'SigningSecret', {
        description:
          `Signing secret of the ${name} webhooks (hookline): the secret, or a JSON array of the ` +
          'secrets in rotation. Set it with `cargo xtask secret set`.',
        // A random placeholder: every delivery is rejected until the provider's secret is set.
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
        removalPolicy,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The webhook provider issues this signing secret; Secrets Manager cannot rotate it. Rotation is done by ' +
          'writing the new and the old secret (`cargo xtask secret set` with two values) until the provider switched.',
      });
      this.secret = secret;
      this.secretCreated = true;
    } else if (COMPLETE_SECRET_ARN.test(props.secretArn)) {
      this.secret = secretsmanager.Secret.fromSecretCompleteArn(this, 'SigningSecret', props.secretArn);
      this.secretCreated = false;
    } else {
      this.secret = secretsmanager.Secret.fromSecretPartialArn(this, 'SigningSecret', props.secretArn);
      this.secretCreated = false;
    }

    // ---- queues ----
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      fifo: fifo || undefined,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      fifo: fifo || undefined,
      // The ingest function sets the deduplication id (the provider's delivery id).
      contentBasedDeduplication: fifo ? false : undefined,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: retention,
      visibilityTimeout,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
      removalPolicy,
    });

    // ---- ingest function: send to its own queue, read its own secret, write its own logs ----
    const ingestLogs = new logs.LogGroup(this, 'IngestLogs', { retention: logRetention, removalPolicy });
    const ingestRole = new iam.Role(this, 'IngestRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `hookline ${name} ingest: send to its queue, read its signing secret, write its logs`,
    });
    ingestLogs.grantWrite(ingestRole);
    ingestRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
    );
    const secretResource = this.secretCreated || COMPLETE_SECRET_ARN.test(props.secretArn ?? '')
      ? this.secret.secretArn
      : `${props.secretArn}-??????`;
    ingestRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secretResource] }),
    );
    if (!this.secretCreated && !COMPLETE_SECRET_ARN.test(props.secretArn ?? '')) {
      Validations.of(ingestRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${props.secretArn}-??????]`,
        reason:
          'The manifest names the secret by a partial ARN (without the 6-character suffix Secrets Manager adds); ' +
          'the wildcard matches only that suffix of that one secret.',
      });
    }

    const environment: Record<string, string> = {
      HOOKLINE_PROVIDER: name,
      HOOKLINE_SCHEME: props.scheme,
      HOOKLINE_QUEUE_URL: this.queue.queueUrl,
      HOOKLINE_SIGNING_SECRET_ARN: this.secret.secretArn,
      HOOKLINE_TIMESTAMP_TOLERANCE_SECS: String(tolerance.toSeconds()),
      HOOKLINE_MAX_BODY_BYTES: String(maxBodyBytes),
      HOOKLINE_LOG: logLevel,
    };
    if (g.header !== undefined) environment.HOOKLINE_GENERIC_HEADER = g.header;
    if (g.algorithm !== undefined) environment.HOOKLINE_GENERIC_ALGORITHM = g.algorithm;
    if (g.encoding !== undefined) environment.HOOKLINE_GENERIC_ENCODING = g.encoding;
    if (g.prefix !== undefined) environment.HOOKLINE_GENERIC_PREFIX = g.prefix;

    this.ingestFunction = new lambda.Function(this, 'Ingest', {
      description: `hookline ${name}: verify the signature, enqueue the raw delivery, answer 200`,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler: 'bootstrap',
      code: props.ingestCode,
      architecture,
      memorySize: ingestMemory,
      timeout: ingestTimeout,
      role: ingestRole,
      logGroup: ingestLogs,
      environment,
    });

    // ---- processor function: consume its own queue, write its own logs ----
    const processorLogs = new logs.LogGroup(this, 'ProcessorLogs', { retention: logRetention, removalPolicy });
    const processorRole = new iam.Role(this, 'ProcessorRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `hookline ${name} processor: consume its queue, write its logs`,
    });
    processorLogs.grantWrite(processorRole);
    this.processorFunction = new lambda.Function(this, 'Processor', {
      description: `hookline ${name}: process queued deliveries in batches`,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler: 'bootstrap',
      code: props.processorCode,
      architecture,
      memorySize: processorMemory,
      timeout: processorTimeout,
      role: processorRole,
      logGroup: processorLogs,
      environment: { HOOKLINE_PROVIDER: name, HOOKLINE_LOG: logLevel },
    });
    this.processorFunction.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize,
        maxBatchingWindow: windowSecs > 0 ? Duration.seconds(windowSecs) : undefined,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    );

    // ---- alarms ----
    const alarm = (id: string, description: string, metric: cloudwatch.IMetric, threshold: number, operator: cloudwatch.ComparisonOperator) => {
      const a = new cloudwatch.Alarm(this, id, {
        alarmDescription: `hookline ${name}: ${description}`,
        metric,
        threshold,
        comparisonOperator: operator,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (props.alarmTopic) {
        a.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
      }
      return a;
    };
    const atLeast = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    this.alarms = [
      alarm(
        'DeadLetterQueueAlarm',
        'deliveries are in the dead-letter queue (see `cargo xtask dlq`)',
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        1,
        atLeast,
      ),
      alarm(
        'OldestMessageAlarm',
        `the oldest queued delivery is older than ${ageThreshold.toSeconds()} s: the processor is failing or falling behind`,
        this.queue.metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(5),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        ageThreshold.toSeconds(),
        cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      ),
      alarm(
        'IngestErrorsAlarm',
        'the ingest function failed (crash, timeout or init error such as an unreadable secret)',
        this.ingestFunction.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        1,
        atLeast,
      ),
      alarm(
        'IngestThrottlesAlarm',
        'the ingest function was throttled: deliveries were refused',
        this.ingestFunction.metricThrottles({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        1,
        atLeast,
      ),
    ];
  }
}
