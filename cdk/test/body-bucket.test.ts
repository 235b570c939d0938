import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { BodyBucket, PUT_BODY_ACTIONS, READ_DELETE_BODY_ACTIONS } from '../lib/body-bucket';
import { ResolvedBodyBucket } from '../lib/manifest';
import { ProviderPipeline } from '../lib/provider-pipeline';
import { fakeCode, INLINE_BODIES, resolveStage, STANDARD_AND_FIFO, synthStage } from './helpers';

/** STANDARD_AND_FIFO's prod stage: `stripe` (the default body limit) uses the bucket, `orders` (256 KiB) does not. */
const { stage: STAGE, providers: [STRIPE, ORDERS] } = resolveStage(STANDARD_AND_FIFO, 'prod').resolved;

/** The logical id of a construct's CloudFormation resource. */
const idOf = (stack: Stack, c: IConstruct) => stack.getLogicalId(c.node.defaultChild as CfnElement);

function bucketStack(ephemeral?: boolean, bucket: ResolvedBodyBucket = STAGE.bodyBucket!) {
  const stack = new Stack(new App(), 'Test');
  const construct = new BodyBucket(stack, 'Bodies', { bucket, ephemeral });
  return { stack, construct, template: Template.fromStack(stack) };
}

describe('the body bucket', () => {
  test("the resolved manifest: the variable, and the standard queue's 4 days + the DLQ's 14 + 1", () => {
    expect(STAGE.bodyBucket).toEqual({ environmentVariable: 'HOOKLINE_BODY_BUCKET', expirationDays: 19 });
    expect([STRIPE.bodyKeyPrefix, ORDERS.bodyKeyPrefix]).toEqual(['stripe/', null]);
  });

  test('encrypted by S3, all public access blocked, ACLs off, unversioned, named by CloudFormation', () => {
    const { template } = bucketStack();
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      VersioningConfiguration: Match.absent(),
      BucketName: Match.absent(),
    });
  });

  test('its policy refuses every request without TLS, on the bucket and its objects', () => {
    const { stack, construct, template } = bucketStack();
    const bucket = idOf(stack, construct.bucket);
    const statements = new Capture();
    template.hasResourceProperties('AWS::S3::BucketPolicy', { Bucket: { Ref: bucket }, PolicyDocument: { Statement: statements } });
    expect(statements.asArray()).toContainEqual({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      Resource: [
        { 'Fn::GetAtt': [bucket, 'Arn'] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/*']] },
      ],
    });
  });

  test('objects expire after the days of the resolved manifest; incomplete multipart uploads after one', () => {
    for (const days of [STAGE.bodyBucket!.expirationDays, 29]) {
      const { template } = bucketStack(false, { ...STAGE.bodyBucket!, expirationDays: days });
      template.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: {
          Rules: [{ Id: 'ExpireBodies', Status: 'Enabled', ExpirationInDays: days, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }],
        },
      });
    }
  });

  test('retained with its bodies by default: no auto-delete', () => {
    const { template } = bucketStack();
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  test('deleted with an ephemeral stage, its bodies first (the auto-delete custom resource)', () => {
    const { stack, construct, template } = bucketStack(true);
    const bucket = idOf(stack, construct.bucket);
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
    template.hasResourceProperties('Custom::S3AutoDeleteObjects', { BucketName: { Ref: bucket } });
  });

  test("grants name a provider's folder: an empty prefix or one without its slash is refused", () => {
    const { stack, construct } = bucketStack();
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    for (const prefix of ['', 'shop', '*', 'stripe/*/']) {
      expect(() => construct.grantPutBodies(role, prefix)).toThrow(/must be a provider's folder, such as `stripe\/`/);
      expect(() => construct.grantReadDeleteBodies(role, prefix)).toThrow(/must be a provider's folder/);
    }
  });
});

describe('in a stage: one bucket, each function on its own provider\'s prefix with only its actions', () => {
  const { template, stack } = synthStage(STANDARD_AND_FIFO, 'prod');
  const bucket = idOf(stack, stack.bodyBucket!.bucket);
  const functions = template.findResources('AWS::Lambda::Function');
  const fnOf = (fn: IConstruct) => functions[idOf(stack, fn)];
  const stripe = stack.pipelines.stripe;
  const orders = stack.pipelines.orders;
  /** The S3 statements of a function's role (a template resource). */
  const s3Statements = (fn: { [key: string]: any }) => {
    const statements = new Capture();
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: fn.Properties.Role['Fn::GetAtt'][0] }],
      PolicyDocument: { Statement: statements },
    });
    return statements.asArray().filter((s) => JSON.stringify(s.Action).includes('s3:'));
  };
  const underStripe = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/stripe/*']] };

  test('one bucket for the stage, its name an output', () => {
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasOutput(STAGE.outputs.bodyBucketName, { Value: { Ref: bucket } });
  });

  test("the ingest role may only PutObject, and only under stripe/", () => {
    expect(PUT_BODY_ACTIONS).toEqual(['s3:PutObject']);
    expect(s3Statements(fnOf(stripe.ingestFunction))).toEqual([{ Effect: 'Allow', Action: 's3:PutObject', Resource: underStripe }]);
  });

  test('the processor role may only GetObject and DeleteObject, and only under stripe/', () => {
    expect(READ_DELETE_BODY_ACTIONS).toEqual(['s3:GetObject', 's3:DeleteObject']);
    expect(s3Statements(fnOf(stripe.processorFunction))).toEqual([
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:DeleteObject'], Resource: underStripe },
    ]);
  });

  test('both stripe functions get the variable with the bucket name', () => {
    for (const fn of [stripe.ingestFunction, stripe.processorFunction]) {
      expect(fnOf(fn).Properties.Environment.Variables[STAGE.bodyBucket!.environmentVariable]).toEqual({ Ref: bucket });
    }
  });

  test('the provider under the inline limit (orders) gets neither the variable nor any S3 permission', () => {
    for (const fn of [orders.ingestFunction, orders.processorFunction]) {
      expect(fnOf(fn).Properties.Environment.Variables).not.toHaveProperty(STAGE.bodyBucket!.environmentVariable);
      expect(s3Statements(fnOf(fn))).toEqual([]);
    }
  });

  test("no role but the pipelines' may touch the bucket (the retained stage has no auto-delete)", () => {
    const naming = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p).includes('s3:'));
    expect(naming).toHaveLength(2);
  });
});

describe('lifecycle days come from the resolved manifest', () => {
  test('a FIFO provider keeping messages 14 days: 14 + 14 + 1', () => {
    const fifo = STANDARD_AND_FIFO.replace('max_body_bytes = 262144\n', '');
    const { resolved, template } = synthStage(fifo, 'prod');
    expect(resolved.stage.bodyBucket!.expirationDays).toBe(29);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 29 })] },
    });
  });
});

describe('an ephemeral stage', () => {
  test('deletes the bucket and its bodies with the stack', () => {
    const { template } = synthStage(STANDARD_AND_FIFO, 'pr-42');
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
  });
});

describe('every body within one queue message', () => {
  test('no bucket, no variable, no S3 permission, no output', () => {
    const { resolved, template } = synthStage(INLINE_BODIES, 'prod');
    expect(resolved.stage.bodyBucket).toBeNull();
    expect(resolved.providers.map((p) => p.bodyKeyPrefix)).toEqual([null, null]);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      expect(Object.keys(fn.Properties.Environment.Variables)).not.toContain('HOOKLINE_BODY_BUCKET');
    }
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('s3:');
    expect(Object.keys(template.findOutputs('*'))).not.toContain(resolved.stage.outputs.bodyBucketName);
  });

  test('a pipeline whose document gives it a prefix refuses to be built without the bucket', () => {
    const stack = new Stack(new App(), 'Test');
    expect(
      () =>
        new ProviderPipeline(stack, 'stripe', {
          ...STRIPE,
          processor: { ...STRIPE.processor, idempotency: false },
          ingestCode: fakeCode(),
          processorCode: fakeCode(),
          stageName: STAGE.name,
          logMetrics: STAGE.monitoring.logMetrics,
        }),
    ).toThrow('stripe: the resolved manifest gives it a body key prefix and the stack gave no body bucket');
  });
});
