import { App, Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { WebhookApi, WebhookApiProps } from '../lib/webhook-api';
import { fakeCode } from './helpers';

const PREFIX = '/aws/vendedlogs/hookline/test/api-access';

function api(props: Partial<WebhookApiProps> = {}) {
  const stack = new Stack(new App(), 'Test');
  const construct = new WebhookApi(stack, 'Api', { accessLogGroupPrefix: PREFIX, ...props });
  const handler = (id: string) =>
    new lambda.Function(stack, id, { runtime: lambda.Runtime.PROVIDED_AL2023, handler: 'bootstrap', code: fakeCode() });
  return { stack, construct, handler };
}

describe('WebhookApi', () => {
  test('one POST route per provider, each to its own function with payload format 2.0', () => {
    const { stack, construct, handler } = api();
    const stripeUrl = construct.addWebhookRoute('/webhooks/stripe', handler('Stripe'), 'stripe');
    construct.addWebhookRoute('/hooks/github', handler('Github'), 'github');
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 2);
    for (const [route, fn] of [['POST /webhooks/stripe', 'Stripe'], ['POST /hooks/github', 'Github']]) {
      const target = new Capture();
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: route, Target: target, AuthorizationType: 'NONE' });
      const integration = (target.asObject()['Fn::Join'][1] as unknown[])[1] as { Ref: string };
      const fnId = Object.keys(template.findResources('AWS::Lambda::Function')).find((id) => id.startsWith(fn))!;
      expect(template.findResources('AWS::ApiGatewayV2::Integration')[integration.Ref].Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [fnId, 'Arn'] },
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      });
    }
    const url = stack.resolve(stripeUrl)['Fn::Join'][1] as unknown[];
    const apiId = Object.keys(template.findResources('AWS::ApiGatewayV2::Api'))[0];
    expect(url).toEqual([{ 'Fn::GetAtt': [apiId, 'ApiEndpoint'] }, '/webhooks/stripe']);
  });

  test('the $default stage deploys automatically, is throttled and writes JSON access logs', () => {
    const { stack } = api();
    const template = Template.fromStack(stack);
    const destination = new Capture();
    const format = new Capture();
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
      AccessLogSettings: { DestinationArn: destination, Format: format },
    });
    const logGroup = Object.keys(template.findResources('AWS::Logs::LogGroup'))[0];
    expect(destination.asObject()).toEqual({ 'Fn::GetAtt': [logGroup, 'Arn'] });
    const fields = JSON.parse(format.asString());
    expect(fields).toMatchObject({ requestId: '$context.requestId', status: '$context.status', routeKey: '$context.routeKey' });
    expect(format.asString()).not.toMatch(/header|body/i);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
  });

  test('the access-log group is the given prefix and the stack id: a new name for every stack', () => {
    const { stack } = api();
    Template.fromStack(stack).hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: {
        'Fn::Join': ['', [`${PREFIX}-`, { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }]],
      },
    });
  });

  test('throttling, retention and removal follow the props', () => {
    const { stack } = api({ throttlingRateLimit: 50, throttlingBurstLimit: 100, ephemeral: true, accessLogRetention: 7 });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete', Properties: { RetentionInDays: 7 } });
  });

  test.each<[string, Partial<WebhookApiProps>, RegExp]>([
    ['rate 0', { throttlingRateLimit: 0 }, /throttlingRateLimit 0 is out of range: allowed 1–10000/],
    ['fractional rate', { throttlingRateLimit: 1.5 }, /throttlingRateLimit 1.5 is out of range/],
    ['burst over 5000', { throttlingBurstLimit: 5001 }, /throttlingBurstLimit 5001 is out of range: allowed 1–5000/],
  ])('rejects %s', (_name, props, message) => {
    expect(() => api(props)).toThrow(message);
  });
  test("a route's own throttle: in the stage's route settings, made after the route", () => {
    const { stack, construct, handler } = api();
    construct.addWebhookRoute('/webhooks/stripe', handler('Stripe'), 'stripe');
    construct.addWebhookRoute('/hooks/orders', handler('Orders'), 'orders', { rateLimit: 300, burstLimit: 300 });
    construct.addWebhookRoute('/hooks/other', handler('Other'), 'other', { rateLimit: 20, burstLimit: 40 });
    const template = Template.fromStack(stack);
    const settings = new Capture();
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
      RouteSettings: settings,
    });
    expect(settings.asObject()).toEqual({
      'POST /hooks/orders': { ThrottlingRateLimit: 300, ThrottlingBurstLimit: 300 },
      'POST /hooks/other': { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
    });
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    const routeId = (key: string) => Object.keys(routes).find((id) => routes[id].Properties.RouteKey === key)!;
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0];
    expect(stage.DependsOn).toEqual(expect.arrayContaining([routeId('POST /hooks/orders'), routeId('POST /hooks/other')]));
    expect(stage.DependsOn).not.toContain(routeId('POST /webhooks/stripe'));
  });

  test('without a route throttle the stage has no route settings', () => {
    const { stack, construct, handler } = api();
    construct.addWebhookRoute('/webhooks/stripe', handler('Stripe'), 'stripe');
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGatewayV2::Stage', { RouteSettings: Match.absent() });
  });
});
