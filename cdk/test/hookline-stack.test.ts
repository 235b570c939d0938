import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { HooklineStack } from '../lib/hookline-stack';
import { resolveStage, STANDARD_AND_FIFO, synthStage, TRACED, X86_EXISTING_SECRET } from './helpers';

/**
 * The tags of the first resource of a type that carries any: aws-cdk-lib's own custom resource
 * handlers (the body bucket's auto-delete in an ephemeral stage) are not taggable by Tags.of, and
 * get the stack's tags from CloudFormation when deployed.
 */
function tagsOf(template: Template, type: string): Record<string, string> {
  const resource = Object.values(template.findResources(type)).find((r) => r.Properties.Tags !== undefined)!;
  const tags = resource.Properties.Tags as { Key: string; Value: string }[] | Record<string, string>;
  return Array.isArray(tags) ? Object.fromEntries(tags.map((t) => [t.Key, t.Value])) : tags;
}

describe('a retained stage (prod) with a standard and a FIFO provider', () => {
  const { stack, template, resolved } = synthStage(STANDARD_AND_FIFO, 'prod', { alarmEmail: 'ops@example.com' });

  test('is named, described and placed as the resolved manifest says, and not ephemeral', () => {
    expect(stack.stackName).toBe('shop-prod');
    expect(stack.stackName).toBe(resolved.stage.stackName);
    expect(stack.region).toBe('eu-west-1');
    expect(stack.templateOptions.description).toBe(resolved.stage.description);
    expect(stack.ephemeral).toBe(false);
  });

  test('carries every tag of the resolved manifest: project and stage, and no expiry', () => {
    expect(resolved.stage.tags).toEqual({ 'hookline:project': 'shop', 'hookline:stage': 'prod' });
    for (const type of ['AWS::SQS::Queue', 'AWS::Lambda::Function', 'AWS::SecretsManager::Secret']) {
      const tags = tagsOf(template, type);
      expect(tags).toMatchObject(resolved.stage.tags);
      expect(tags).not.toHaveProperty('hookline:expires-at');
    }
  });

  test('one pipeline per provider: 4 queues (2 FIFO), 4 functions, 2 created secrets, 9 alarms each and the API alarm', () => {
    template.resourceCountIs('AWS::SQS::Queue', 4);
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { FifoQueue: true }, 2);
    template.resourceCountIs('AWS::Lambda::Function', 4);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2 * 9 + 1);
    template.resourceCountIs('AWS::Logs::MetricFilter', 2 * 3);
  });

  test('one POST route per provider on one HTTP API', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /webhooks/stripe' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /hooks/orders' });
  });

  test("the FIFO provider's route is throttled to what its queue takes, as the resolved manifest says", () => {
    const [stripe, orders] = resolved.providers;
    expect(stripe.routeThrottle).toBeUndefined();
    expect(orders.routeThrottle).toEqual({ rateLimit: 300, burstLimit: 300 });
    expect(orders.queue.groupBy).toBe('provider');
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: {
        'POST /hooks/orders': { ThrottlingRateLimit: orders.routeThrottle!.rateLimit, ThrottlingBurstLimit: orders.routeThrottle!.burstLimit },
      },
    });
  });

  test('the manifest settings reach the FIFO pipeline', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      VisibilityTimeout: 360,
      MessageRetentionPeriod: 1_209_600,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 5, ScalingConfig: { MaximumConcurrency: 4 } });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'],
      Timeout: 5,
      MemorySize: 256,
      Environment: {
        Variables: Match.objectLike({
          HOOKLINE_PROVIDER: 'orders',
          HOOKLINE_SCHEME: 'generic-hmac',
          HOOKLINE_GENERIC_HEADER: 'x-orders-signature',
          HOOKLINE_GENERIC_ALGORITHM: 'sha512',
          HOOKLINE_GENERIC_ENCODING: 'base64',
          HOOKLINE_GENERIC_PREFIX: 'v1=',
          HOOKLINE_MAX_BODY_BYTES: '262144',
          HOOKLINE_TIMESTAMP_TOLERANCE_SECS: '120',
        }),
      },
    });
  });

  test('queues, DLQs, secrets and logs are retained; logs kept as long as the resolved manifest says (a month)', () => {
    for (const type of ['AWS::SQS::Queue', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup']) {
      for (const resource of Object.values(template.findResources(type))) {
        expect(resource.DeletionPolicy).toBe('Retain');
      }
    }
    expect(resolved.stage.logRetentionDays).toBe(30);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('the API access logs are under /aws/vendedlogs/, named after the stack and its id', () => {
    expect(resolved.stage.accessLogGroupPrefix).toBe('/aws/vendedlogs/hookline/shop-prod/api-access');
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: {
        'Fn::Join': ['', ['/aws/vendedlogs/hookline/shop-prod/api-access-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }]],
      },
    });
  });

  test("the API's 5xx alarm: every answer with a 5xx status, as the resolved manifest says", () => {
    const api = Object.keys(template.findResources('AWS::ApiGatewayV2::Api'))[0];
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: api } }],
      Statistic: 'Sum',
      Period: resolved.stage.monitoring.alarmPeriodSecs,
      Threshold: resolved.stage.monitoring.apiServerErrors,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  test('the log metric filters count per provider and stage of this stack', () => {
    const m = resolved.stage.monitoring.logMetrics;
    for (const provider of ['stripe', 'orders']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: m.unauthorized.metricName,
        Dimensions: [
          { Name: 'provider', Value: provider },
          { Name: 'stage', Value: 'prod' },
        ],
      });
    }
  });

  test('the alarm topic is encrypted with a key of its own, which CloudWatch may use and which goes with the stack', () => {
    const key = new Capture();
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } });
    const keys = template.findResources('AWS::KMS::Key');
    expect(keys[key.asString()]).toMatchObject({ DeletionPolicy: 'Delete', Properties: { EnableKeyRotation: true, PendingWindowInDays: 7 } });
    expect(keys[key.asString()].Properties.KeyPolicy.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        }),
      ]),
    );
  });

  test('alarms go to one SNS topic with the email subscription', () => {
    const topic = Object.keys(template.findResources('AWS::SNS::Topic'))[0];
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topic } });
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: topic }] });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('outputs: webhook URL, queue URL, DLQ URL and secret ARN per provider, the body bucket, with the ids the resolved manifest names', () => {
    const outputs = template.findOutputs('*');
    const ids = [
      resolved.stage.outputs.apiEndpoint,
      resolved.stage.outputs.alarmTopicArn,
      resolved.stage.outputs.bodyBucketName,
      ...resolved.providers.flatMap((p) => [p.outputs.webhookUrl, p.outputs.queueUrl, p.outputs.dlqUrl, p.outputs.secretArn]),
    ];
    expect(Object.keys(outputs).sort()).toEqual([...ids].sort());
    expect(resolved.providers.map((p) => p.outputs.webhookUrl)).toEqual(['StripeWebhookUrl', 'OrdersWebhookUrl']);
    const url = new Capture();
    template.hasOutput('OrdersWebhookUrl', { Value: url });
    expect(JSON.stringify(url.asObject())).toContain('/hooks/orders');
    const queues = template.findResources('AWS::SQS::Queue', { Properties: { FifoQueue: true, RedrivePolicy: Match.anyValue() } });
    template.hasOutput('OrdersQueueUrl', { Value: { Ref: Object.keys(queues)[0] } });
    expect(outputs).toHaveProperty('ApiEndpoint');
    expect(outputs).toHaveProperty('AlarmTopicArn');
    expect(outputs).toHaveProperty('BodyBucketName');
  });
});

describe('an ephemeral stage (pr-42)', () => {
  const { stack, template, resolved } = synthStage(STANDARD_AND_FIFO, 'pr-42');

  test('is ephemeral by its name, tagged with its expiry and pull request, and says so in its description', () => {
    expect(stack.ephemeral).toBe(true);
    expect(resolved.stage.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(tagsOf(template, 'AWS::SQS::Queue')).toMatchObject({
      'hookline:project': 'shop',
      'hookline:stage': 'pr-42',
      'hookline:expires-at': resolved.stage.expiresAt,
      'hookline:pr': '42',
    });
    expect(stack.templateOptions.description).toBe(resolved.stage.description);
    expect(resolved.stage.description).toMatch(/ephemeral, ttl 24h/);
  });

  test('every stateful resource is deleted with the stack, secrets without recovery window', () => {
    for (const type of ['AWS::SQS::Queue', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup']) {
      const resources = Object.values(template.findResources(type));
      expect(resources.length).toBeGreaterThan(0);
      for (const resource of resources) {
        expect(resource.DeletionPolicy).toBe('Delete');
      }
    }
    // No resource at all is retained.
    const retained = Object.entries(template.toJSON().Resources as Record<string, { DeletionPolicy?: string }>)
      .filter(([, r]) => r.DeletionPolicy === 'Retain' || r.DeletionPolicy === 'Snapshot')
      .map(([id]) => id);
    expect(retained).toEqual([]);
  });

  test('logs are kept a week', () => {
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  test('no email subscription unless asked', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('an explicitly ephemeral stage', () => {
  test('--ephemeral on any name, with its own ttl', () => {
    const { stack, template } = synthStage(STANDARD_AND_FIFO, 'demo', { ephemeral: true, ttl: '7d' });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    expect(stack.ephemeral).toBe(true);
    expect(tagsOf(template, 'AWS::Lambda::Function')).toHaveProperty('hookline:expires-at');
    expect(tagsOf(template, 'AWS::Lambda::Function')).toMatchObject({ 'hookline:stage': 'demo' });
    template.hasResource('AWS::SQS::Queue', { DeletionPolicy: 'Delete' });
  });
});

describe('x86_64 and an existing secret', () => {
  const { template } = synthStage(X86_EXISTING_SECRET, 'staging');
  const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:github-webhooks-AbC123';

  test('every function is x86_64', () => {
    template.allResourcesProperties('AWS::Lambda::Function', { Architectures: ['x86_64'] });
  });

  test('no secret is created; the output and the environment name the existing one', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.hasOutput('GithubSecretArn', { Value: arn });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ HOOKLINE_SIGNING_SECRET_ARN: arn }) },
    });
  });

  test('a large batch with a batching window', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 100, MaximumBatchingWindowInSeconds: 5 });
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 600 });
  });
});

describe('the stack refuses', () => {
  test('a missing Lambda zip, naming the command that builds it', () => {
    const { resolved } = resolveStage(X86_EXISTING_SECRET, 'prod');
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-empty-'));
    expect(() => new HooklineStack(new App(), 'acme-prod', { resolved, assetsDir: empty })).toThrow(
      /^the Lambda package of github-ingest is missing: .*x86_64\/github-ingest\/bootstrap\.zip\. Run `cargo xtask build` first/,
    );
  });
});

describe('[project] tracing = true', () => {
  test('every function traces actively, as the resolved manifest says', () => {
    const { template, resolved } = synthStage(TRACED, 'prod');
    expect(resolved.project.tracing).toBe(true);
    template.resourceCountIs('AWS::Lambda::Function', 4);
    template.allResourcesProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
  });

  test('and none without it', () => {
    const { template, resolved } = synthStage(STANDARD_AND_FIFO, 'prod');
    expect(resolved.project.tracing).toBe(false);
    template.allResourcesProperties('AWS::Lambda::Function', { TracingConfig: Match.absent() });
  });
});
