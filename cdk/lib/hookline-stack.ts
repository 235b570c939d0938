/**
 * One stage of the project: `<project>-<stage>`, with a webhook API and one pipeline per provider
 * of the manifest.
 */
import { CfnOutput, Duration, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AlarmTopic } from './alarm-topic';
import { DEFAULT_ASSETS_DIR, lambdaZip } from './assets';
import { Manifest, Provider } from './manifest';
import { ProviderPipeline } from './provider-pipeline';
import { DEFAULT_TTL, isEphemeral, outputPrefix, parseTtl, validateStageName } from './stage';
import { WebhookApi } from './webhook-api';

export interface HooklineStackProps extends StackProps {
  /** The validated manifest (`loadManifest`). */
  readonly manifest: Manifest;
  /** The stage: `prod`, `staging`, `pr-42`, ... */
  readonly stage: string;
  /**
   * Whether everything is removed with the stack, secrets and logs included.
   * @default - true for stages named `pr-*`, else false
   */
  readonly ephemeral?: boolean;
  /** The time to live tagged on an ephemeral stage (`30m`, `24h`, `7d`). @default '24h' */
  readonly ttl?: string;
  /** The folder that `cargo xtask build` wrote the zips to. @default the workspace's target/lambda */
  readonly assetsDir?: string;
  /** An email address subscribed to the alarms. @default - no subscription */
  readonly alarmEmail?: string;
}

export class HooklineStack extends Stack {
  /** Whether this stage is removed without leftovers. */
  public readonly ephemeral: boolean;
  public readonly api: WebhookApi;
  public readonly alarmTopic: AlarmTopic;
  /** The pipelines, by provider name. */
  public readonly pipelines: Record<string, ProviderPipeline> = {};

  constructor(scope: Construct, id: string, props: HooklineStackProps) {
    validateStageName(props.stage);
    const ephemeral = isEphemeral(props.stage, props.ephemeral ?? false);
    if (props.ttl !== undefined && !ephemeral) {
      throw new Error(`ttl only applies to ephemeral stages (pr-*, or --ephemeral); \`${props.stage}\` is not one`);
    }
    const ttl = ephemeral ? (props.ttl ?? DEFAULT_TTL) : undefined;
    if (ttl !== undefined) parseTtl(ttl);
    const { manifest } = props;
    if (manifest.providers.length === 0) {
      throw new Error('the manifest has no providers: add one with `cargo xtask new <name> --template <template>`');
    }
    const prefixes = new Map<string, string>();
    for (const provider of manifest.providers) {
      const other = prefixes.get(outputPrefix(provider.name));
      if (other !== undefined) {
        throw new Error(`providers \`${other}\` and \`${provider.name}\` have the same output names (${outputPrefix(provider.name)}*): rename one`);
      }
      prefixes.set(outputPrefix(provider.name), provider.name);
    }

    super(scope, id, {
      description: `hookline webhooks: stage ${props.stage} of ${manifest.project.name}${ephemeral ? ` (ephemeral, ttl ${ttl})` : ''}`,
      ...props,
    });
    this.ephemeral = ephemeral;

    Tags.of(this).add('project', manifest.project.name);
    Tags.of(this).add('stage', props.stage);
    if (ttl !== undefined) Tags.of(this).add('ttl', ttl);

    const logRetention = ephemeral ? logs.RetentionDays.ONE_WEEK : logs.RetentionDays.ONE_MONTH;
    const architecture =
      manifest.project.architecture === 'x86_64' ? lambda.Architecture.X86_64 : lambda.Architecture.ARM_64;
    const assetsDir = props.assetsDir ?? DEFAULT_ASSETS_DIR;

    this.alarmTopic = new AlarmTopic(this, 'Alarms', {
      email: props.alarmEmail,
      displayName: `hookline alarms: ${id}`,
    });
    this.api = new WebhookApi(this, 'Api', {
      ephemeral,
      accessLogRetention: logRetention,
      description: `hookline webhooks: ${id}`,
    });
    new CfnOutput(this, 'ApiEndpoint', { value: this.api.endpoint, description: 'The HTTP API endpoint' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topic.topicArn, description: 'Where the alarms notify' });

    for (const provider of manifest.providers) {
      const pipeline = new ProviderPipeline(this, provider.name, {
        ...pipelineSettings(provider),
        ingestCode: lambda.Code.fromAsset(lambdaZip(assetsDir, manifest.project.architecture, `${provider.name}-ingest`)),
        processorCode: lambda.Code.fromAsset(lambdaZip(assetsDir, manifest.project.architecture, `${provider.name}-process`)),
        architecture,
        ephemeral,
        logRetention,
        alarmTopic: this.alarmTopic.topic,
      });
      this.pipelines[provider.name] = pipeline;
      const url = this.api.addWebhookRoute(provider.route, pipeline.ingestFunction, provider.name);
      const prefix = outputPrefix(provider.name);
      new CfnOutput(this, `${prefix}WebhookUrl`, { value: url, description: `${provider.name}: the webhook URL to give the provider` });
      new CfnOutput(this, `${prefix}QueueUrl`, { value: pipeline.queue.queueUrl, description: `${provider.name}: the queue` });
      new CfnOutput(this, `${prefix}DlqUrl`, { value: pipeline.deadLetterQueue.queueUrl, description: `${provider.name}: the dead-letter queue` });
      new CfnOutput(this, `${prefix}SecretArn`, { value: pipeline.secret.secretArn, description: `${provider.name}: the signing secret` });
    }
  }
}

/** A provider of the manifest as {@link ProviderPipeline} settings. */
export function pipelineSettings(provider: Provider) {
  const s = provider.signing;
  const generic =
    s.scheme === 'generic-hmac'
      ? { header: s.header, algorithm: s.algorithm, encoding: s.encoding, prefix: s.prefix }
      : undefined;
  return {
    providerName: provider.name,
    scheme: s.scheme,
    genericHmac: generic,
    secretArn: s.secretArn,
    fifo: provider.queue.kind === 'fifo',
    batchSize: provider.queue.batchSize,
    maxBatchingWindow: Duration.seconds(provider.queue.maxBatchingWindowSecs),
    maxReceiveCount: provider.queue.maxReceiveCount,
    visibilityTimeout: Duration.seconds(provider.queue.visibilityTimeoutSecs),
    retentionPeriod: Duration.seconds(provider.queue.retentionSecs),
    maxBodyBytes: provider.ingest.maxBodyBytes,
    timestampTolerance: Duration.seconds(provider.ingest.timestampToleranceSecs),
    ingestTimeout: Duration.seconds(provider.ingest.timeoutSecs),
    ingestMemoryMb: provider.ingest.memoryMb,
    processorTimeout: Duration.seconds(provider.processor.timeoutSecs),
    processorMemoryMb: provider.processor.memoryMb,
    maxConcurrency: provider.processor.maxConcurrency,
  };
}
