/**
 * The public entry point: one HTTP API, one `POST` route per provider, throttled at the default
 * stage, with access logs.
 */
import { Aws, Fn, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type { RouteThrottle } from './manifest';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface WebhookApiProps {
  /** Steady-state requests per second across all routes (1–10 000). @default 500 */
  readonly throttlingRateLimit?: number;
  /** Burst of requests above the rate (1–5000). @default 1000 */
  readonly throttlingBurstLimit?: number;
  /**
   * The start of the access-log group's name, under `/aws/vendedlogs/` (the resolved manifest's
   * `stage.accessLogGroupPrefix` says why); the stack's id is appended.
   */
  readonly accessLogGroupPrefix: string;
  /** How long access logs are kept. @default logs.RetentionDays.ONE_MONTH */
  readonly accessLogRetention?: logs.RetentionDays;
  /** Whether removing the stack removes the access logs too (else they are retained). @default false */
  readonly ephemeral?: boolean;
  /** The API's description. @default 'hookline webhooks' */
  readonly description?: string;
}

/**
 * The fields of one access log line: who called which route, the answer and the latency.
 * Never headers or bodies: those carry signatures.
 */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  userAgent: '$context.identity.userAgent',
});

export class WebhookApi extends Construct {
  /** The HTTP API. */
  public readonly httpApi: apigwv2.HttpApi;
  /** The `$default` stage, with throttling and access logs. */
  public readonly stage: apigwv2.HttpStage;
  /** Where the access logs go. */
  public readonly accessLogs: logs.LogGroup;
  /** The routes' own throttles, by route key. */
  private readonly routeSettings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> = {};

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    const rate = props.throttlingRateLimit ?? 500;
    const burst = props.throttlingBurstLimit ?? 1000;
    if (!Number.isInteger(rate) || rate < 1 || rate > 10_000) {
      throw new Error(`WebhookApi ${this.node.path}: throttlingRateLimit ${rate} is out of range: allowed 1–10000`);
    }
    if (!Number.isInteger(burst) || burst < 1 || burst > 5000) {
      throw new Error(`WebhookApi ${this.node.path}: throttlingBurstLimit ${burst} is out of range: allowed 1–5000`);
    }

    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: props.description ?? 'hookline webhooks',
      createDefaultStage: false,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      // The stack id's UUID makes the name new for every stack: a group retained from a deleted
      // stack never collides with the next stack of the same name.
      logGroupName: `${props.accessLogGroupPrefix}-${Fn.select(2, Fn.split('/', Aws.STACK_ID))}`,
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.ephemeral ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: rate, burstLimit: burst },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: apigw.AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });
  }

  /** `https://<id>.execute-api.<region>.amazonaws.com` (the `$default` stage has no path). */
  get endpoint(): string {
    return this.httpApi.apiEndpoint;
  }

  /**
   * Routes `POST <path>` to a provider's ingest function (payload format 2.0) and returns the
   * webhook URL to give the provider. `throttle` gives the route a throttle of its own, instead
   * of the stage's.
   */
  addWebhookRoute(path: string, handler: lambda.IFunction, providerName: string, throttle?: RouteThrottle): string {
    const [route] = this.httpApi.addRoutes({
      path,
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration(`${providerName}-integration`, handler, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      }),
    });
    if (throttle !== undefined) {
      const stage = this.stage.node.defaultChild as apigwv2.CfnStage;
      this.routeSettings[`POST ${path}`] = {
        ThrottlingRateLimit: throttle.rateLimit,
        ThrottlingBurstLimit: throttle.burstLimit,
      };
      stage.routeSettings = { ...this.routeSettings };
      // The stage names the route by its key: CloudFormation must make the route first.
      stage.node.addDependency(route);
    }
    Validations.of(route).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Webhook providers cannot sign requests with IAM, Cognito or JWT: the ingest function authenticates ' +
        'every delivery by its signature (HMAC with the provider\'s secret) and rejects the rest with 401.',
    });
    return `${this.httpApi.apiEndpoint}${path}`;
  }
}
