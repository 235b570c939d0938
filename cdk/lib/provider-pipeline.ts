/**
 * One provider's pipeline: signing secret → ingest function → queue (+ DLQ) → processor function,
 * bodies too large for a message through the stage's body bucket, with the alarms that tell when
 * deliveries pile up or fail. Its settings are a provider of the
 * resolved manifest (crates/hookline-manifest checks them and fills in every default).
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PipelineAlarms } from './alarms';
import { BodyBucket } from './body-bucket';
import { IdempotencyTable } from './idempotency-table';
import { ResolvedLogMetrics, ResolvedProvider } from './manifest';

/**
 * A provider of the resolved manifest (name, route, scheme, secret, functions, queue, alarms,
 * output ids), plus what exists only in the CDK app.
 */
export interface ProviderPipelineProps extends ResolvedProvider {
  /** The stage's name (a dimension of the log metrics). */
  readonly stageName: string;
  /** The stage's log metrics (the resolved stage's `monitoring.logMetrics`). */
  readonly logMetrics: ResolvedLogMetrics;
  /** The ingest function's code (`ingest.binary`, a `bootstrap` zip). */
  readonly ingestCode: lambda.Code;
  /** The processor function's code (`processor.binary`, a `bootstrap` zip). */
  readonly processorCode: lambda.Code;
  /**
   * The functions' architecture; must match the binaries.
   * @default lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;
  /**
   * Whether removing the stack removes everything: queues, DLQ, secret (without recovery window)
   * and log groups. Otherwise those are retained.
   * @default false
   */
  readonly ephemeral?: boolean;
  /**
   * How long the functions' logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Where the alarms notify.
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The stage's idempotency table; required when the processor's `idempotency` is on.
   * @default - none: the handlers run without the store
   */
  readonly idempotencyTable?: IdempotencyTable;
  /**
   * The stage's body bucket; required when the provider has a `bodyKeyPrefix`.
   * @default - none: every body travels in its queue message
   */
  readonly bodyBucket?: BodyBucket;
  /**
   * X-Ray active tracing on both functions: ingest sends each delivery with its trace header
   * (SQS's `AWSTraceHeader`), and Lambda continues that trace in the processor.
   * @default false
   */
  readonly tracing?: boolean;
}

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
  /** The provider's alarms and the metric filters they count with. */
  public readonly alarmSet: PipelineAlarms;
  /** Every alarm of the provider ({@link PipelineAlarms}). */
  public readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ProviderPipelineProps) {
    super(scope, id);
    const { name, ingest, processor, queue } = props;
    const ephemeral = props.ephemeral ?? false;
    const removalPolicy = ephemeral ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const architecture = props.architecture ?? lambda.Architecture.ARM_64;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const fifo = queue.fifo;
    const tracing = props.tracing ? lambda.Tracing.ACTIVE : undefined;

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
      retentionPeriod: Duration.seconds(queue.dlqRetentionSecs),
      removalPolicy,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      fifo: fifo || undefined,
      // The ingest function sets the deduplication id (the provider's delivery id).
      contentBasedDeduplication: fifo ? false : undefined,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(queue.retentionSecs),
      visibilityTimeout: Duration.seconds(queue.visibilityTimeoutSecs),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: queue.maxReceiveCount },
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

    // The environment the runtime reads, as the resolved manifest gives it, plus the two values
    // that exist only once the resources do (their variable names come from the document too).
    const names = ingest.resourceEnvironment;
    const environment: Record<string, string> = {
      ...ingest.environment,
      [names.queueUrl]: this.queue.queueUrl,
      [names.signingSecretArn]: this.secret.secretArn,
    };

    this.ingestFunction = new lambda.Function(this, 'Ingest', {
      description: `hookline ${name}: verify the signature, enqueue the raw delivery, answer 200`,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler: 'bootstrap',
      code: props.ingestCode,
      architecture,
      memorySize: ingest.memoryMb,
      timeout: Duration.seconds(ingest.timeoutSecs),
      role: ingestRole,
      logGroup: ingestLogs,
      environment,
      tracing,
    });

    // ---- processor function: consume its own queue, write its own logs ----
    const processorLogs = new logs.LogGroup(this, 'ProcessorLogs', { retention: logRetention, removalPolicy });
    const processorRole = new iam.Role(this, 'ProcessorRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `hookline ${name} processor: consume its queue, write its logs`,
    });
    processorLogs.grantWrite(processorRole);
    const processorEnvironment: Record<string, string> = { ...processor.environment };
    if (processor.idempotency) {
      if (!props.idempotencyTable) {
        throw new Error(`${name}: the resolved manifest asks for the idempotency table and the stack gave none`);
      }
      props.idempotencyTable.grantRecords(processorRole);
      processorEnvironment[props.idempotencyTable.environmentVariable] = props.idempotencyTable.table.tableName;
    }
    this.processorFunction = new lambda.Function(this, 'Processor', {
      description: `hookline ${name}: process queued deliveries in batches`,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler: 'bootstrap',
      code: props.processorCode,
      architecture,
      memorySize: processor.memoryMb,
      timeout: Duration.seconds(processor.timeoutSecs),
      role: processorRole,
      logGroup: processorLogs,
      environment: processorEnvironment,
      tracing,
    });
    if (props.tracing) {
      for (const role of [ingestRole, processorRole]) {
        Validations.of(role).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'Active tracing lets the function send its trace segments: xray:PutTraceSegments and ' +
            'xray:PutTelemetryRecords support no resource-level permissions (X-Ray developer guide, ' +
            '"Identity-based policy examples"), so aws-cdk-lib grants them on "*".',
        });
      }
    }
    // ---- body bucket: bodies too large for a queue message, under the provider's prefix ----
    if (props.bodyKeyPrefix !== null) {
      if (!props.bodyBucket) {
        throw new Error(`${name}: the resolved manifest gives it a body key prefix and the stack gave no body bucket`);
      }
      props.bodyBucket.grantPutBodies(ingestRole, props.bodyKeyPrefix);
      props.bodyBucket.grantReadDeleteBodies(processorRole, props.bodyKeyPrefix);
      for (const fn of [this.ingestFunction, this.processorFunction]) {
        fn.addEnvironment(props.bodyBucket.environmentVariable, props.bodyBucket.bucket.bucketName);
      }
    }

    this.processorFunction.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: processor.batchSize,
        // 0 means no window: leave the property out, as Lambda's default.
        maxBatchingWindow: processor.maxBatchingWindowSecs > 0 ? Duration.seconds(processor.maxBatchingWindowSecs) : undefined,
        reportBatchItemFailures: true,
        maxConcurrency: processor.maxConcurrency,
      }),
    );

    // ---- alarms ----
    this.alarmSet = new PipelineAlarms(this, 'Alarms', {
      provider: name,
      stage: props.stageName,
      thresholds: props.alarms,
      logMetrics: props.logMetrics,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      ingestFunction: this.ingestFunction,
      ingestLogs,
      processorFunction: this.processorFunction,
      processorLogs,
      topic: props.alarmTopic,
    });
    this.alarms = this.alarmSet.alarms;
  }
}
