import { App, Duration, Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ProviderPipeline, ProviderPipelineProps } from '../lib/provider-pipeline';
import { fakeCode } from './helpers';

function pipeline(props: Partial<ProviderPipelineProps> = {}) {
  const stack = new Stack(new App(), 'Test', { env: { region: 'eu-west-1', account: '123456789012' } });
  const topic = new sns.Topic(stack, 'Alarms');
  const construct = new ProviderPipeline(stack, 'stripe', {
    providerName: 'stripe',
    scheme: 'stripe',
    ingestCode: fakeCode(),
    processorCode: fakeCode(),
    alarmTopic: topic,
    ...props,
  });
  return { stack, construct, template: Template.fromStack(stack) };
}

/** The logical id of the only resource of `type` whose properties match `props`. */
function idOf(template: Template, type: string, props: object = {}): string {
  const filter = Object.keys(props).length === 0 ? undefined : { Properties: Match.objectLike(props) };
  const found = Object.keys(template.findResources(type, filter));
  expect(found).toHaveLength(1);
  return found[0];
}

describe('standard queue (defaults)', () => {
  const { template } = pipeline();

  test('the queue is encrypted, has the default retention and 6 × the processor timeout of visibility', () => {
    const dlq = idOf(template, 'AWS::SQS::Queue', { MessageRetentionPeriod: 1_209_600 });
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 345_600,
      VisibilityTimeout: 180,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 5 },
    });
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { FifoQueue: true }, 0);
  });

  test('the DLQ is encrypted and keeps messages 14 days', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
      RedrivePolicy: Match.absent(),
    });
  });

  test('both queues refuse requests without TLS', () => {
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(2);
    for (const queue of queues) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queue }],
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

  test('the ingest function: provided.al2023, arm64, its settings and the environment the runtime reads', () => {
    const queueUrl = new Capture();
    const secretArn = new Capture();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Architectures: ['arm64'],
      MemorySize: 128,
      Timeout: 10,
      Environment: {
        Variables: {
          HOOKLINE_PROVIDER: 'stripe',
          HOOKLINE_SCHEME: 'stripe',
          HOOKLINE_QUEUE_URL: queueUrl,
          HOOKLINE_SIGNING_SECRET_ARN: secretArn,
          HOOKLINE_TIMESTAMP_TOLERANCE_SECS: '300',
          HOOKLINE_MAX_BODY_BYTES: '1015808',
          HOOKLINE_LOG: 'info',
        },
      },
    });
    const queue = idOf(template, 'AWS::SQS::Queue', { VisibilityTimeout: 180 });
    expect(queueUrl.asObject()).toEqual({ Ref: queue });
    expect(secretArn.asObject()).toEqual({ Ref: idOf(template, 'AWS::SecretsManager::Secret') });
  });

  test('no generic-hmac variables for another scheme', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ HOOKLINE_SCHEME: 'stripe' }) } },
    }))[0];
    expect(Object.keys(fn.Properties.Environment.Variables).filter((k) => k.startsWith('HOOKLINE_GENERIC'))).toEqual([]);
  });

  test('the processor function: its settings, only HOOKLINE_PROVIDER and HOOKLINE_LOG', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 30,
      Environment: { Variables: { HOOKLINE_PROVIDER: 'stripe', HOOKLINE_LOG: 'info' } },
    });
  });

  test('the event source: batch size, partial batch failures, no window and no concurrency limit by default', () => {
    const queue = idOf(template, 'AWS::SQS::Queue', { VisibilityTimeout: 180 });
    const processor = idOf(template, 'AWS::Lambda::Function', { Timeout: 30 });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
      FunctionName: { Ref: processor },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumBatchingWindowInSeconds: Match.absent(),
      ScalingConfig: Match.absent(),
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
    for (const id of Object.keys(template.findResources('AWS::Logs::LogGroup'))) {
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
      template.hasResourceProperties('AWS::Lambda::Function', { LoggingConfig: { LogGroup: { Ref: id } } });
    }
  });

  test('the ingest role: send to its own queue, read its own secret, write its own logs, nothing else', () => {
    const queue = idOf(template, 'AWS::SQS::Queue', { VisibilityTimeout: 180 });
    const secret = idOf(template, 'AWS::SecretsManager::Secret');
    const ingestFn = idOf(template, 'AWS::Lambda::Function', { Timeout: 10 });
    const ingestLogs = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((f) => f.Properties)
      .find((p) => p.Timeout === 10).LoggingConfig.LogGroup.Ref;
    const role = template.findResources('AWS::Lambda::Function')[ingestFn].Properties.Role['Fn::GetAtt'][0];
    const statements = new Capture();
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: role }],
      PolicyDocument: { Statement: statements },
    });
    expect(statements.asArray()).toEqual(
      expect.arrayContaining([
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [ingestLogs, 'Arn'] } },
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [queue, 'Arn'] } },
        { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secret } },
      ]),
    );
    expect(statements.asArray()).toHaveLength(3);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
      },
      ManagedPolicyArns: Match.absent(),
    });
  });

  test('the processor role: consume its own queue, write its own logs, nothing else', () => {
    const queue = idOf(template, 'AWS::SQS::Queue', { VisibilityTimeout: 180 });
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) => f.Properties.Timeout === 30)!;
    const role = fn.Properties.Role['Fn::GetAtt'][0];
    const statements = new Capture();
    template.hasResourceProperties('AWS::IAM::Policy', { Roles: [{ Ref: role }], PolicyDocument: { Statement: statements } });
    const all = statements.asArray();
    expect(all).toHaveLength(2);
    expect(all).toEqual(
      expect.arrayContaining([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [fn.Properties.LoggingConfig.LogGroup.Ref, 'Arn'] },
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
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    const topic = idOf(template, 'AWS::SNS::Topic');
    const dlq = idOf(template, 'AWS::SQS::Queue', { MessageRetentionPeriod: 1_209_600 });
    const queue = idOf(template, 'AWS::SQS::Queue', { VisibilityTimeout: 180 });
    const ingest = idOf(template, 'AWS::Lambda::Function', { Timeout: 10 });
    const actions = [{ Ref: topic }];
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
      Threshold: 3600,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: actions,
    });
    for (const metric of ['Errors', 'Throttles']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: ingest } }],
        Statistic: 'Sum',
        Threshold: 1,
        AlarmActions: actions,
      });
    }
  });
});

describe('FIFO queue with every setting', () => {
  const { template } = pipeline({
    providerName: 'orders',
    scheme: 'generic-hmac',
    genericHmac: { header: 'x-orders-signature', algorithm: 'sha512', encoding: 'base64', prefix: 'v1=' },
    fifo: true,
    batchSize: 5,
    maxReceiveCount: 3,
    retentionPeriod: Duration.days(14),
    processorTimeout: Duration.seconds(60),
    processorMemoryMb: 512,
    maxConcurrency: 4,
    ingestTimeout: Duration.seconds(5),
    ingestMemoryMb: 256,
    maxBodyBytes: 262_144,
    timestampTolerance: Duration.seconds(120),
    architecture: lambda.Architecture.X86_64,
    oldestMessageAgeThreshold: Duration.minutes(20),
    logLevel: 'debug',
  });

  test('a FIFO queue and a FIFO DLQ', () => {
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { FifoQueue: true }, 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      VisibilityTimeout: 360,
      MessageRetentionPeriod: 1_209_600,
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
          HOOKLINE_LOG: 'debug',
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['x86_64'],
      MemorySize: 512,
      Timeout: 60,
    });
  });

  test('the oldest-message alarm uses the given threshold', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 1200,
    });
  });
});

describe('standard queue with large batches', () => {
  test('a batching window and the batch size reach the event source', () => {
    const { template } = pipeline({ batchSize: 500, maxBatchingWindow: Duration.seconds(20) });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 20,
    });
  });
});

describe('ephemeral', () => {
  test('queues, DLQ, secret and log groups are deleted with the stack', () => {
    const { template } = pipeline({ ephemeral: true });
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
    const { template } = pipeline({ secretArn: complete });
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ HOOKLINE_SIGNING_SECRET_ARN: complete }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: complete }]),
      },
    });
  });

  test('by partial ARN: the role reads that secret whatever its suffix', () => {
    const partial = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:stripe/signing';
    const { template } = pipeline({ secretArn: partial });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: `${partial}-??????` },
        ]),
      },
    });
  });
});

describe('constructor validation', () => {
  test.each<[string, Partial<ProviderPipelineProps>, RegExp]>([
    ['bad provider name', { providerName: 'Stripe' }, /providerName `Stripe` is not a name/],
    ['unknown scheme', { scheme: 'paypal' }, /scheme `paypal` is not one of/],
    ['generic settings on another scheme', { genericHmac: { header: 'x' } }, /genericHmac only applies to the generic-hmac scheme/],
    ['bad generic algorithm', { scheme: 'generic-hmac', genericHmac: { algorithm: 'md5' } }, /algorithm `md5`/],
    ['bad secret ARN', { secretArn: 'arn:aws:ssm:eu-west-1:1:parameter/x' }, /not a Secrets Manager ARN/],
    ['FIFO batch over 10', { fifo: true, batchSize: 11 }, /batchSize \(a FIFO queue\) 11 is out of range: allowed 1–10/],
    ['standard batch over 10000', { batchSize: 10_001, maxBatchingWindow: Duration.seconds(1) }, /allowed 1–10000/],
    ['FIFO with a batching window', { fifo: true, maxBatchingWindow: Duration.seconds(1) }, /must be 0 for a FIFO queue/],
    ['batch over 10 without a window', { batchSize: 11 }, /a batchSize of 11 \(over 10\) needs a maxBatchingWindow of at least 1 s/],
    ['window over 300 s', { maxBatchingWindow: Duration.seconds(301) }, /maxBatchingWindow 301 s is out of range/],
    ['visibility under 6 × the processor timeout', { processorTimeout: Duration.seconds(60), visibilityTimeout: Duration.seconds(300) }, /less than 6 × the processor timeout \(60 s\)/],
    ['retention under a minute', { retentionPeriod: Duration.seconds(59) }, /retentionPeriod 59 s is out of range/],
    ['max receive count 0', { maxReceiveCount: 0 }, /maxReceiveCount 0 is out of range/],
    ['max concurrency 1', { maxConcurrency: 1 }, /maxConcurrency 1 is out of range: allowed 2–1000/],
    ['ingest timeout over 30 s', { ingestTimeout: Duration.seconds(31) }, /ingestTimeout 31 s is out of range/],
    ['processor memory under 128', { processorMemoryMb: 64 }, /processorMemoryMb 64 is out of range/],
    ['body limit over 1 MiB', { maxBodyBytes: 2_000_000 }, /maxBodyBytes 2000000 is out of range/],
    ['age alarm beyond the retention', { retentionPeriod: Duration.minutes(10), oldestMessageAgeThreshold: Duration.minutes(10) }, /less than the retention period/],
  ])('%s', (_name, props, message) => {
    expect(() => pipeline(props)).toThrow(message);
  });

  test('errors name the construct', () => {
    expect(() => pipeline({ batchSize: 0 })).toThrow(/^ProviderPipeline Test\/stripe: /);
  });
});
