/**
 * One CloudWatch dashboard per stage: for each provider, what its functions measure in their
 * log lines (CloudWatch Embedded Metric Format; names from the resolved manifest) beside its
 * queue's and dead-letter queue's depth.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ResolvedMetrics } from './manifest';

/** A provider on the dashboard. */
export interface DashboardProvider {
  /** The provider's name (the `provider` dimension). */
  readonly name: string;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
}

export interface StageDashboardProps {
  /** The dashboard's name (the stack's name: one per stage and region). */
  readonly dashboardName: string;
  /** The stage (the `stage` dimension). */
  readonly stage: string;
  /** The namespace, dimension and metric names the functions write (the resolved stage's `monitoring.metrics`). */
  readonly metrics: ResolvedMetrics;
  readonly providers: DashboardProvider[];
  /** The graphs' period. @default Duration.minutes(1) */
  readonly period?: Duration;
}

const WIDTH = 8;
const HEIGHT = 6;

export class StageDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: StageDashboardProps) {
    super(scope, id);
    const { metrics: m, stage } = props;
    const period = props.period ?? Duration.minutes(1);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# hookline: ${props.dashboardName}\n` +
          `Per provider: what ingest received, queued and refused (by code), how long queueing and processing took, ` +
          `how long deliveries waited, and the queue and dead-letter queue depths. Metrics: namespace \`${m.namespace}\`, ` +
          `written by the functions in their logs (Embedded Metric Format).`,
        width: 3 * WIDTH,
        height: 2,
      }),
    );
    for (const p of props.providers) {
      const dimensionsMap = { [m.dimensions.provider]: p.name, [m.dimensions.stage]: stage };
      const metric = (name: string, statistic: string, label?: string) =>
        new cloudwatch.Metric({ namespace: m.namespace, metricName: name, dimensionsMap, statistic, period, label: label ?? name });
      const sum = (name: string) => metric(name, cloudwatch.Stats.SUM);
      const byCode = new cloudwatch.MathExpression({
        // One line per error code the functions reported.
        expression:
          `SEARCH('{${m.namespace},${m.dimensions.provider},${m.dimensions.stage},${m.dimensions.code}} ` +
          `MetricName="${m.names.rejected}" ${m.dimensions.provider}="${p.name}" ${m.dimensions.stage}="${stage}"', 'Sum', ${period.toSeconds()})`,
        usingMetrics: {},
        label: 'rejected by code',
        period,
      });
      this.dashboard.addWidgets(
        new cloudwatch.TextWidget({ markdown: `## ${p.name}`, width: 3 * WIDTH, height: 1 }),
      );
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: `${p.name}: ingest`,
          left: [sum(m.names.received), sum(m.names.enqueued), sum(m.names.rejected)],
          width: WIDTH,
          height: HEIGHT,
        }),
        new cloudwatch.GraphWidget({ title: `${p.name}: rejected by code`, left: [byCode], width: WIDTH, height: HEIGHT }),
        new cloudwatch.GraphWidget({
          title: `${p.name}: enqueue latency (ms)`,
          left: [metric(m.names.enqueueLatency, 'p50', 'p50'), metric(m.names.enqueueLatency, 'p99', 'p99'), metric(m.names.enqueueLatency, cloudwatch.Stats.MAXIMUM, 'max')],
          width: WIDTH,
          height: HEIGHT,
        }),
      );
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: `${p.name}: processor`,
          left: [sum(m.names.processed), sum(m.names.failed)],
          width: WIDTH,
          height: HEIGHT,
        }),
        new cloudwatch.GraphWidget({
          title: `${p.name}: processing duration (ms)`,
          left: [metric(m.names.processingDuration, 'p50', 'p50'), metric(m.names.processingDuration, 'p99', 'p99'), metric(m.names.processingDuration, cloudwatch.Stats.MAXIMUM, 'max')],
          width: WIDTH,
          height: HEIGHT,
        }),
        new cloudwatch.GraphWidget({
          title: `${p.name}: queue age at processing (ms)`,
          left: [metric(m.names.queueAge, 'p50', 'p50'), metric(m.names.queueAge, cloudwatch.Stats.MAXIMUM, 'max')],
          right: [p.queue.metricApproximateAgeOfOldestMessage({ period, statistic: cloudwatch.Stats.MAXIMUM, label: 'oldest queued (s)' })],
          width: WIDTH,
          height: HEIGHT,
        }),
      );
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: `${p.name}: queue and dead-letter queue depth`,
          left: [
            p.queue.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM, label: 'queued' }),
            p.queue.metricApproximateNumberOfMessagesNotVisible({ period, statistic: cloudwatch.Stats.MAXIMUM, label: 'in flight' }),
            p.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM, label: 'dead-letter queue' }),
          ],
          width: 3 * WIDTH,
          height: HEIGHT,
        }),
      );
    }
  }
}
