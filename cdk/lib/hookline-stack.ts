/**
 * One stage of the project, from its resolved manifest: a webhook API and one pipeline per
 * provider. Names, tags, retention and output ids all come from the document.
 */
import { CfnOutput, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AlarmTopic } from './alarm-topic';
import { ApiAlarms } from './alarms';
import { StageDashboard } from './dashboard';
import { DEFAULT_ASSETS_DIR, lambdaZip } from './assets';
import { BodyBucket } from './body-bucket';
import { IdempotencyTable } from './idempotency-table';
import { Architecture, Resolved } from './manifest';
import { ProviderPipeline } from './provider-pipeline';
import { WebhookApi } from './webhook-api';

export interface HooklineStackProps extends StackProps {
  /** The stage's resolved manifest (`loadResolved`). */
  readonly resolved: Resolved;
  /** The folder that `cargo xtask build` wrote the zips to. @default the workspace's target/lambda */
  readonly assetsDir?: string;
}

/** The manifest's architectures as Lambda's. */
const ARCHITECTURES: Record<Architecture, lambda.Architecture> = {
  arm64: lambda.Architecture.ARM_64,
  x86_64: lambda.Architecture.X86_64,
};

export class HooklineStack extends Stack {
  /** Whether this stage is removed without leftovers. */
  public readonly ephemeral: boolean;
  public readonly api: WebhookApi;
  public readonly alarmTopic: AlarmTopic;
  /** The idempotency table, when a provider's handlers use it. */
  public readonly idempotencyTable?: IdempotencyTable;
  /** The body bucket, when a provider's bodies can be larger than a queue message. */
  public readonly bodyBucket?: BodyBucket;
  /** The API's 5xx alarm. */
  public readonly apiAlarms: ApiAlarms;
  /** The stage's dashboard. */
  public readonly dashboard: StageDashboard;
  /** The pipelines, by provider name. */
  public readonly pipelines: Record<string, ProviderPipeline> = {};

  constructor(scope: Construct, id: string, props: HooklineStackProps) {
    const { resolved, assetsDir = DEFAULT_ASSETS_DIR, ...stackProps } = props;
    const { stage } = resolved;
    super(scope, id, { description: stage.description, ...stackProps });
    this.ephemeral = stage.ephemeral;

    for (const [key, value] of Object.entries(stage.tags)) {
      Tags.of(this).add(key, value);
    }
    // RetentionDays' values are the numbers of days.
    const logRetention = stage.logRetentionDays as logs.RetentionDays;
    const architecture = ARCHITECTURES[resolved.project.architecture];

    this.alarmTopic = new AlarmTopic(this, 'Alarms', {
      email: stage.alarmEmail,
      displayName: `hookline alarms: ${id}`,
    });
    this.api = new WebhookApi(this, 'Api', {
      ephemeral: stage.ephemeral,
      accessLogGroupPrefix: stage.accessLogGroupPrefix,
      accessLogRetention: logRetention,
      description: `hookline webhooks: ${id}`,
    });
    this.apiAlarms = new ApiAlarms(this, 'ApiAlarms', {
      httpApi: this.api.httpApi,
      serverErrors: stage.monitoring.apiServerErrors,
      periodSecs: stage.monitoring.alarmPeriodSecs,
      topic: this.alarmTopic.topic,
    });
    new CfnOutput(this, stage.outputs.apiEndpoint, { value: this.api.endpoint, description: 'The HTTP API endpoint' });
    new CfnOutput(this, stage.outputs.alarmTopicArn, { value: this.alarmTopic.topic.topicArn, description: 'Where the alarms notify' });

    if (resolved.providers.some((p) => p.processor.idempotency)) {
      this.idempotencyTable = new IdempotencyTable(this, 'Idempotency', {
        table: stage.idempotencyTable,
        ephemeral: stage.ephemeral,
      });
    }

    if (stage.bodyBucket !== null) {
      this.bodyBucket = new BodyBucket(this, 'Bodies', { bucket: stage.bodyBucket, ephemeral: stage.ephemeral });
      new CfnOutput(this, stage.outputs.bodyBucketName, {
        value: this.bodyBucket.bucket.bucketName,
        description: 'Where bodies too large for a queue message are kept',
      });
    }

    for (const provider of resolved.providers) {
      const pipeline = new ProviderPipeline(this, provider.name, {
        ...provider,
        ingestCode: lambda.Code.fromAsset(lambdaZip(assetsDir, provider.ingest)),
        processorCode: lambda.Code.fromAsset(lambdaZip(assetsDir, provider.processor)),
        architecture,
        ephemeral: stage.ephemeral,
        logRetention,
        alarmTopic: this.alarmTopic.topic,
        idempotencyTable: this.idempotencyTable,
        bodyBucket: this.bodyBucket,
        stageName: stage.name,
        logMetrics: stage.monitoring.logMetrics,
        tracing: resolved.project.tracing,
      });
      this.pipelines[provider.name] = pipeline;
      const url = this.api.addWebhookRoute(provider.route, pipeline.ingestFunction, provider.name, provider.routeThrottle);
      const outputs = provider.outputs;
      new CfnOutput(this, outputs.webhookUrl, { value: url, description: `${provider.name}: the webhook URL to give the provider` });
      new CfnOutput(this, outputs.queueUrl, { value: pipeline.queue.queueUrl, description: `${provider.name}: the queue` });
      new CfnOutput(this, outputs.dlqUrl, { value: pipeline.deadLetterQueue.queueUrl, description: `${provider.name}: the dead-letter queue` });
      new CfnOutput(this, outputs.secretArn, { value: pipeline.secret.secretArn, description: `${provider.name}: the signing secret` });
    }
    this.dashboard = new StageDashboard(this, 'Dashboard', {
      dashboardName: stage.stackName,
      stage: stage.name,
      metrics: stage.monitoring.metrics,
      providers: resolved.providers.map((p) => ({
        name: p.name,
        queue: this.pipelines[p.name].queue,
        deadLetterQueue: this.pipelines[p.name].deadLetterQueue,
      })),
    });
  }
}
