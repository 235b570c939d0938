import { App, Stack } from 'aws-cdk-lib';
import { Capture, Template } from 'aws-cdk-lib/assertions';
import { IDEMPOTENCY_ACTIONS, IdempotencyTable } from '../lib/idempotency-table';
import { ProviderPipeline } from '../lib/provider-pipeline';
import { fakeCode, resolveStage, STANDARD_AND_FIFO, synthStage } from './helpers';

const STAGE = resolveStage(STANDARD_AND_FIFO, 'prod').resolved.stage;

function table(ephemeral?: boolean) {
  const stack = new Stack(new App(), 'Test');
  new IdempotencyTable(stack, 'Idempotency', { table: STAGE.idempotencyTable, ephemeral });
  return Template.fromStack(stack);
}

describe('the idempotency table', () => {
  test("named, keyed and expired as the resolved manifest says (the store's `id` and `expiration`), on demand, encrypted, with point-in-time recovery", () => {
    expect(STAGE.idempotencyTable).toEqual({
      tableName: 'shop-prod-idempotency',
      partitionKey: 'id',
      timeToLiveAttribute: 'expiration',
      environmentVariable: 'HOOKLINE_IDEMPOTENCY_TABLE',
    });
    table().hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'shop-prod-idempotency',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  test('retained with its records by default, deleted with an ephemeral stage', () => {
    table().hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    table(true).hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });
});

describe('in a stage: one table, used by the processors that want it and nobody else', () => {
  const { template, resolved } = synthStage(STANDARD_AND_FIFO, 'prod');
  const [stripe, orders] = resolved.providers;
  const tableId = Object.keys(template.findResources('AWS::DynamoDB::Table'));
  const functions = template.findResources('AWS::Lambda::Function');
  const byVariable = (name: string) =>
    Object.values(functions).filter((f) => f.Properties.Environment?.Variables?.[name] !== undefined);
  const policiesNaming = (action: string) =>
    Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p).includes(action));

  test('one table for the stage', () => {
    expect(tableId).toHaveLength(1);
  });

  test("stripe's processor (the default: on) gets its name and the four item actions; orders' (idempotency = false) neither", () => {
    expect(stripe.processor.idempotency).toBe(true);
    expect(orders.processor.idempotency).toBe(false);
    const users = byVariable('HOOKLINE_IDEMPOTENCY_TABLE');
    expect(users).toHaveLength(1);
    expect(users[0].Properties.Environment.Variables.HOOKLINE_IDEMPOTENCY_TTL_SECS).toBe('259200');
    const policies = policiesNaming('dynamodb:');
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.Roles).toEqual([{ Ref: users[0].Properties.Role['Fn::GetAtt'][0] }]);
    const statements = new Capture();
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: policies[0].Properties.Roles,
      PolicyDocument: { Statement: statements },
    });
    const dynamo = statements.asArray().filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(dynamo).toEqual([
      { Effect: 'Allow', Action: IDEMPOTENCY_ACTIONS, Resource: [{ 'Fn::GetAtt': [tableId[0], 'Arn'] }] },
    ]);
  });

  test('no table when no provider uses it', () => {
    const off = STANDARD_AND_FIFO.replace('template = "stripe"\n', 'template = "stripe"\n[providers.processor]\nidempotency = false\n');
    synthStage(off, 'prod').template.resourceCountIs('AWS::DynamoDB::Table', 0);
  });

  test('a pipeline whose document asks for the table refuses to be built without one', () => {
    const dev = resolveStage(STANDARD_AND_FIFO, 'dev').resolved;
    const stack = new Stack(new App(), 'Test');
    expect(
      () =>
        new ProviderPipeline(stack, 'stripe', {
          ...dev.providers[0],
          ingestCode: fakeCode(),
          processorCode: fakeCode(),
          stageName: dev.stage.name,
          logMetrics: dev.stage.monitoring.logMetrics,
        }),
    ).toThrow(/idempotency table/);
  });
});
