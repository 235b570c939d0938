import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IConstruct } from 'constructs';
import { BodyBucket } from '../lib/body-bucket';
import { IDEMPOTENCY_ACTIONS, IdempotencyTable } from '../lib/idempotency-table';
import { ResolvedProvider } from '../lib/manifest';
import { ProviderPipeline, ProviderPipelineProps } from '../lib/provider-pipeline';
import { fakeCode, resolveStage, STANDARD_AND_FIFO } from './helpers';

/** The providers of STANDARD_AND_FIFO, resolved: `stripe` with every default, `orders` FIFO with most settings changed. */
const { providers: [STRIPE, ORDERS], stage: STAGE } = resolveStage(STANDARD_AND_FIFO, 'prod').resolved;

type Extra = Partial<Omit<ProviderPipelineProps, keyof ResolvedProvider>>;

function pipeline(provider: ResolvedProvider = STRIPE, extra: Extra = {}) {
  const stack = new Stack(new App(), 'Test', { env: { region: 'eu-west-1', account: '123456789012' } });
  const topic = new sns.Topic(stack, 'Alarms');
  const idempotency = new IdempotencyTable(stack, 'Idempotency', { table: STAGE.idempotencyTable });
  const bodies = new BodyBucket(stack, 'Bodies', { bucket: STAGE.bodyBucket! });
  const construct = new ProviderPipeline(stack, provider.name, {
    ...provider,
    ingestCode: fakeCode(),
    processorCode: fakeCode(),
    alarmTopic: topic,
    idempotencyTable: idempotency,
    bodyBucket: bodies,
    stageName: STAGE.name,
    logMetrics: STAGE.monitoring.logMetrics,
    ...extra,
  });
  /** The logical id of a construct's CloudFormation resource. */
  const id = (c: IConstruct) => stack.getLogicalId(c.node.defaultChild as CfnElement);
  return { stack, construct, id, table: id(idempotency.table), bucket: id(bodies.bucket), template: Template.fromStack(stack) };
}

describe('standard queue (the defaults, as the resolved manifest gives them)', () => {
  const { construct, id, table, bucket, template } = pipeline();
  const bodyBucketVariable = STAGE.bodyBucket!.environmentVariable;
  const underPrefix = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, `/${STRIPE.bodyKeyPrefix}*`]] };
  const queue = id(construct.queue);
  const dlq = id(construct.deadLetterQueue);
  const ingest = id(construct.ingestFunction);
  const processor = id(construct.processorFunction);
  const p = STRIPE;

  test('the queue is encrypted, with retention, visibility and receive count from the document', () => {
    expect(template.findResources('AWS::SQS::Queue')[queue].Properties).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: p.queue.retentionSecs,
      VisibilityTimeout: p.queue.visibilityTimeoutSecs,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: p.queue.maxReceiveCount },
    });
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { FifoQueue: true }, 0);
  });

  test("the DLQ is encrypted and keeps messages for the document's DLQ retention", () => {
    expect(template.findResources('AWS::SQS::Queue')[dlq].Properties).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: p.queue.dlqRetentionSecs,
    });
  });

  test('both queues refuse requests without TLS', () => {
    for (const q of [queue, dlq]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: q }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  test('retained by default: queues, DLQ, secret and log groups survive the stack', () => {
    for (const type of ['AWS::SQS::Queue', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup']) {
      const resources = Object.values(template.findResources(type));
      expect(resources.length).toBeGreaterThan(0);
      for (const resource of resources) {
        expect(resource).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      }
    }
  });

  test("the ingest function: provided.al2023, arm64, the document's settings and environment, plus the resource values and the body bucket", () => {
    const queueUrl = new Capture();
    const secretArn = new Capture();
    const names = p.ingest.resourceEnvironment;
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Architectures: ['arm64'],
      MemorySize: p.ingest.memoryMb,
      Timeout: p.ingest.timeoutSecs,
      Environment: {
        Variables: { ...p.ingest.environment, [names.queueUrl]: queueUrl, [names.signingSecretArn]: secretArn },
      },
    });
    const fn = template.findResources('AWS::Lambda::Function')[ingest].Properties;
    expect(Object.keys(fn.Environment.Variables).sort()).toEqual(
      [...Object.keys(p.ingest.environment), names.queueUrl, names.signingSecretArn, bodyBucketVariable].sort(),
    );
    expect(fn.Environment.Variables[bodyBucketVariable]).toEqual({ Ref: bucket });
    expect(queueUrl.asObject()).toEqual({ Ref: queue });
    expect(secretArn.asObject()).toEqual({ Ref: id(construct.secret) });
    // The local stack's variable is not set on AWS.
    const variables = template.findResources('AWS::Lambda::Function')[ingest].Properties.Environment.Variables;
    expect(variables).not.toHaveProperty(names.signingSecret);
  });

  test("the processor function: the document's settings and exactly its environment, plus the idempotency table and the body bucket", () => {
    const properties = template.findResources('AWS::Lambda::Function')[processor].Properties;
    expect(properties).toMatchObject({
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Architectures: ['arm64'],
      MemorySize: p.processor.memoryMb,
      Timeout: p.processor.timeoutSecs,
    });
    expect(p.processor.idempotency).toBe(true);
    expect(properties.Environment.Variables).toEqual({
      ...p.processor.environment,
      [STAGE.idempotencyTable.environmentVariable]: { Ref: table },
      [bodyBucketVariable]: { Ref: bucket },
    });
  });

  test("the event source: batch size, partial batch failures, no window and the document's concurrency limit", () => {
    expect(p.processor.maxBatchingWindowSecs).toBe(0);
    expect(p.processor.maxConcurrency).toBeGreaterThanOrEqual(2);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
      FunctionName: { Ref: processor },
      BatchSize: p.processor.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumBatchingWindowInSeconds: Match.absent(),
      ScalingConfig: { MaximumConcurrency: p.processor.maxConcurrency },
    });
  });

  test('a created secret with a random placeholder value', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
      Description: Match.stringLikeRegexp('cargo xtask secret set'),
    });
  });

  test('each function logs to its own log group with explicit retention', () => {
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
    for (const logGroup of Object.keys(template.findResources('AWS::Logs::LogGroup'))) {
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
      template.hasResourceProperties('AWS::Lambda::Function', { LoggingConfig: { LogGroup: { Ref: logGroup } } });
    }
  });

  test("the ingest role: send to its own queue, read its own secret, put bodies under its prefix, write its own logs, nothing else", () => {
    const secret = Object.keys(template.findResources('AWS::SecretsManager::Secret'))[0];
    const fn = template.findResources('AWS::Lambda::Function')[ingest].Properties;
    const statements = new Capture();
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: fn.Role['Fn::GetAtt'][0] }],
      PolicyDocument: { Statement: statements },
    });
    expect(statements.asArray()).toEqual(
      expect.arrayContaining([
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [fn.LoggingConfig.LogGroup.Ref, 'Arn'] } },
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [queue, 'Arn'] } },
        { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secret } },
        { Effect: 'Allow', Action: 's3:PutObject', Resource: underPrefix },
      ]),
    );
    expect(statements.asArray()).toHaveLength(4);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
      },
      ManagedPolicyArns: Match.absent(),
    });
  });

  test('the processor role: consume its own queue, write its own logs, use the idempotency records, get and delete bodies under its prefix, nothing else', () => {
    const fn = template.findResources('AWS::Lambda::Function')[processor].Properties;
    const statements = new Capture();
    template.hasResourceProperties('AWS::IAM::Policy', { Roles: [{ Ref: fn.Role['Fn::GetAtt'][0] }], PolicyDocument: { Statement: statements } });
    const all = statements.asArray();
    expect(all).toHaveLength(4);
    expect(all).toContainEqual({ Effect: 'Allow', Action: ['s3:GetObject', 's3:DeleteObject'], Resource: underPrefix });
    expect(all).toContainEqual({
      Effect: 'Allow',
      Action: IDEMPOTENCY_ACTIONS,
      Resource: [{ 'Fn::GetAtt': [table, 'Arn'] }],
    });
    expect(all).toEqual(
      expect.arrayContaining([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [fn.LoggingConfig.LogGroup.Ref, 'Arn'] },
        },
        {
          Effect: 'Allow',
          Action: expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']),
          Resource: { 'Fn::GetAtt': [queue, 'Arn'] },
        },
      ]),
    );
    expect(JSON.stringify(all)).not.toContain('sqs:SendMessage');
    expect(JSON.stringify(all)).not.toContain('secretsmanager');
  });

  test('alarms: DLQ visible messages, oldest message age, ingest errors and throttles, all to the topic', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 9);
    const topic = Object.keys(template.findResources('AWS::SNS::Topic'))[0];
    const actions = [{ Ref: topic }];
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: actions, EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: actions,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
      Threshold: p.alarms.oldestMessageAgeSecs,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: actions,
    });
    for (const [fn, metric, threshold] of [
      [ingest, 'Errors', p.alarms.ingestErrors],
      [ingest, 'Throttles', p.alarms.ingestThrottles],
      [processor, 'Errors', p.alarms.processorErrors],
      [processor, 'Throttles', p.alarms.processorThrottles],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn } }],
        Statistic: 'Sum',
        Period: p.alarms.periodSecs,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: actions,
      });
    }
  });

  test('log metric filters: 401s and 503 queue_unavailable on the ingest logs, failed messages on the processor logs', () => {
    const fns = template.findResources('AWS::Lambda::Function');
    const logGroupOf = (fn: string) => fns[fn].Properties.LoggingConfig.LogGroup.Ref as string;
    const m = STAGE.monitoring.logMetrics;
    template.resourceCountIs('AWS::Logs::MetricFilter', 3);
    for (const [metric, fn] of [
      [m.unauthorized, ingest],
      [m.queueUnavailable, ingest],
      [m.failedItems, processor],
    ] as const) {
      const transformations = new Capture();
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: { Ref: logGroupOf(fn) },
        FilterPattern: metric.filterPattern,
        MetricTransformations: transformations,
      });
      expect(transformations.asArray()).toEqual([
        {
          MetricNamespace: m.namespace,
          MetricName: metric.metricName,
          MetricValue: '1',
          Dimensions: Object.entries(m.dimensions).map(([Key, Value]) => ({ Key, Value })),
        },
      ]);
    }
  });

  test('alarms on the log metrics: per provider and stage, with the thresholds of the document', () => {
    const m = STAGE.monitoring.logMetrics;
    const dimensions = [
      { Name: 'provider', Value: p.name },
      { Name: 'stage', Value: STAGE.name },
    ];
    expect(Object.keys(m.dimensions)).toEqual(['provider', 'stage']);
    for (const [metric, threshold] of [
      [m.unauthorized, p.alarms.unauthorized],
      [m.queueUnavailable, p.alarms.queueUnavailable],
      [m.failedItems, p.alarms.failedItems],
    ] as const) {
      const description = new Capture();
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: m.namespace,
        MetricName: metric.metricName,
        Dimensions: dimensions,
        Statistic: 'Sum',
        Period: p.alarms.periodSecs,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmDescription: description,
      });
      expect(description.asString()).toMatch(/^hookline stripe: /);
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: m.unauthorized.metricName,
      AlarmDescription: Match.stringLikeRegexp('signing secret'),
    });
  });
});

describe('FIFO queue with most settings changed', () => {
  const p = ORDERS;
  const { template } = pipeline(p, { architecture: lambda.Architecture.X86_64 });

  test('a FIFO queue and a FIFO DLQ', () => {
    expect(p.queue.fifo).toBe(true);
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { FifoQueue: true }, 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      VisibilityTimeout: p.queue.visibilityTimeoutSecs,
      MessageRetentionPeriod: p.queue.retentionSecs,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
    });
  });

  test('the event source: batch 5, no batching window, max concurrency 4', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 5,
      MaximumBatchingWindowInSeconds: Match.absent(),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 4 },
    });
  });

  test('x86_64 functions with the settings and the generic-hmac environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['x86_64'],
      MemorySize: 256,
      Timeout: 5,
      Environment: { Variables: Match.objectLike(p.ingest.environment) },
    });
    expect(p.ingest.environment).toMatchObject({
      HOOKLINE_GENERIC_HEADER: 'x-orders-signature',
      HOOKLINE_GENERIC_PREFIX: 'v1=',
      HOOKLINE_MAX_BODY_BYTES: '262144',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['x86_64'],
      MemorySize: 512,
      Timeout: 60,
      Environment: { Variables: p.processor.environment },
    });
  });
});

describe('the document is used as it is', () => {
  test('the oldest-message alarm threshold', () => {
    const { template } = pipeline({ ...STRIPE, alarms: { ...STRIPE.alarms, oldestMessageAgeSecs: 1200, unauthorized: 42 } });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: STAGE.monitoring.logMetrics.unauthorized.metricName,
      Threshold: 42,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 1200 });
  });

  test('the environment and the names of the resource variables', () => {
    const { construct, id, template } = pipeline({
      ...STRIPE,
      ingest: {
        ...STRIPE.ingest,
        environment: { ALPHA: '1', BETA: 'two' },
        resourceEnvironment: { queueUrl: 'Q_URL', signingSecretArn: 'S_ARN', signingSecret: 'S' },
      },
      processor: { ...STRIPE.processor, environment: { GAMMA: '3' } },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { ALPHA: '1', BETA: 'two', Q_URL: { Ref: id(construct.queue) }, S_ARN: Match.anyValue() } },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { GAMMA: '3' } } });
  });

  test('a batching window and a large batch reach the event source', () => {
    const { template } = pipeline({ ...STRIPE, processor: { ...STRIPE.processor, batchSize: 500, maxBatchingWindowSecs: 20 } });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 20,
    });
  });
});

describe('ephemeral', () => {
  test('queues, DLQ, secret and log groups are deleted with the stack', () => {
    const { template } = pipeline(STRIPE, { ephemeral: true });
    for (const type of ['AWS::SQS::Queue', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup']) {
      for (const resource of Object.values(template.findResources(type))) {
        expect(resource).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
      }
    }
  });
});

describe('an existing secret', () => {
  const complete = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:stripe-signing-AbC123';

  test('by complete ARN: no secret is created and the role reads exactly that ARN', () => {
    const { template } = pipeline({ ...STRIPE, secretArn: complete });
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [STRIPE.ingest.resourceEnvironment.signingSecretArn]: complete }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: complete }]),
      },
    });
  });

  test('by partial ARN: the role reads that secret whatever its suffix', () => {
    const partial = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:stripe/signing';
    const { template } = pipeline({ ...STRIPE, secretArn: partial });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: `${partial}-??????` },
        ]),
      },
    });
  });
});

describe('X-Ray tracing', () => {
  test('off by default: no tracing config, no X-Ray permission', () => {
    const { template } = pipeline();
    template.allResourcesProperties('AWS::Lambda::Function', { TracingConfig: Match.absent() });
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('xray:');
  });

  test('on: both functions trace actively and may send their segments', () => {
    const { construct, id, template } = pipeline(STRIPE, { tracing: true });
    for (const fn of [construct.ingestFunction, construct.processorFunction]) {
      const props = template.findResources('AWS::Lambda::Function')[id(fn)].Properties;
      expect(props.TracingConfig).toEqual({ Mode: 'Active' });
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: props.Role['Fn::GetAtt'][0] }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
          ]),
        },
      });
    }
  });
});
