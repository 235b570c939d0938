/**
 * The alarms of a stage: per provider, what says deliveries are refused, piling up or failing
 * (with the log metric filters some of them count), and for the stage, the API's 5xx answers.
 * Thresholds, metric names and filter patterns come from the resolved manifest.
 */
import { Duration } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LogMetric, ResolvedAlarms, ResolvedLogMetrics } from './manifest';

const AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;

/** An alarm over one period, quiet without data, notifying `topic` when given. */
function alarm(
  scope: Construct,
  id: string,
  description: string,
  metric: cloudwatch.IMetric,
  threshold: number,
  topic?: sns.ITopic,
  operator: cloudwatch.ComparisonOperator = AT_LEAST,
): cloudwatch.Alarm {
  const a = new cloudwatch.Alarm(scope, id, {
    alarmDescription: description,
    metric,
    threshold,
    comparisonOperator: operator,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  if (topic !== undefined) {
    a.addAlarmAction(new cwActions.SnsAction(topic));
  }
  return a;
}

export interface PipelineAlarmsProps {
  /** The provider's name. */
  readonly provider: string;
  /** The stage's name: a dimension of the log metrics. */
  readonly stage: string;
  /** Thresholds and period (the resolved provider's `alarms`). */
  readonly thresholds: ResolvedAlarms;
  /** The log metrics: namespace, dimensions and each filter (the resolved stage's `monitoring.logMetrics`). */
  readonly logMetrics: ResolvedLogMetrics;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly ingestFunction: lambda.IFunction;
  readonly ingestLogs: logs.ILogGroup;
  readonly processorFunction: lambda.IFunction;
  readonly processorLogs: logs.ILogGroup;
  /** Where the alarms notify. @default - alarms without actions */
  readonly topic?: sns.ITopic;
}

/**
 * A provider's alarms: deliveries in the DLQ, the oldest queued delivery too old, the ingest
 * function failing or throttled, 401s above a threshold (usually a signing secret unset or
 * rotated on one side only), 503 `queue_unavailable` (a delivery not stored), and the processor
 * failing: its errors and throttles, and messages its batches report failed.
 */
export class PipelineAlarms extends Construct {
  /** Every alarm, in the order above. */
  public readonly alarms: cloudwatch.Alarm[];
  /** The log metric filters, by what they count. */
  public readonly filters: { unauthorized: logs.MetricFilter; queueUnavailable: logs.MetricFilter; failedItems: logs.MetricFilter };

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    const { provider, thresholds: t, logMetrics, topic } = props;
    const period = Duration.seconds(t.periodSecs);
    const sum = { period, statistic: cloudwatch.Stats.SUM };
    const minutes = `${t.periodSecs / 60} min`;

    // A log metric: a filter on a function's log group, counted per provider and stage.
    const logMetric = (filterId: string, logGroup: logs.ILogGroup, m: LogMetric) => {
      const filter = new logs.MetricFilter(this, filterId, {
        logGroup,
        filterPattern: logs.FilterPattern.literal(m.filterPattern),
        metricNamespace: logMetrics.namespace,
        metricName: m.metricName,
        metricValue: '1',
        dimensions: logMetrics.dimensions,
      });
      const [providerDimension, stageDimension] = Object.keys(logMetrics.dimensions);
      const metric = new cloudwatch.Metric({
        namespace: logMetrics.namespace,
        metricName: m.metricName,
        dimensionsMap: { [providerDimension]: provider, [stageDimension]: props.stage },
        ...sum,
      });
      return { filter, metric };
    };
    const unauthorized = logMetric('UnauthorizedFilter', props.ingestLogs, logMetrics.unauthorized);
    const queueUnavailable = logMetric('QueueUnavailableFilter', props.ingestLogs, logMetrics.queueUnavailable);
    const failedItems = logMetric('FailedItemsFilter', props.processorLogs, logMetrics.failedItems);
    this.filters = { unauthorized: unauthorized.filter, queueUnavailable: queueUnavailable.filter, failedItems: failedItems.filter };

    const about = (what: string) => `hookline ${provider}: ${what}`;
    this.alarms = [
      alarm(
        this,
        'DeadLetterQueueAlarm',
        about('deliveries are in the dead-letter queue (see `cargo xtask dlq`)'),
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }),
        1,
        topic,
      ),
      alarm(
        this,
        'OldestMessageAlarm',
        about(`the oldest queued delivery is older than ${t.oldestMessageAgeSecs} s: the processor is failing or falling behind`),
        props.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
        t.oldestMessageAgeSecs,
        topic,
        cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      ),
      alarm(
        this,
        'IngestErrorsAlarm',
        about('the ingest function failed (crash, timeout or init error such as an unreadable secret)'),
        props.ingestFunction.metricErrors(sum),
        t.ingestErrors,
        topic,
      ),
      alarm(
        this,
        'IngestThrottlesAlarm',
        about('the ingest function was throttled: deliveries were refused'),
        props.ingestFunction.metricThrottles(sum),
        t.ingestThrottles,
        topic,
      ),
      alarm(
        this,
        'UnauthorizedAlarm',
        about(
          `${t.unauthorized} or more deliveries answered 401 in ${minutes}: usually the signing secret is unset, ` +
            'or was rotated at the provider but not here (`cargo xtask secret set`)',
        ),
        unauthorized.metric,
        t.unauthorized,
        topic,
      ),
      alarm(
        this,
        'QueueUnavailableAlarm',
        about('deliveries were answered 503 queue_unavailable: they were not stored (GitHub does not retry them)'),
        queueUnavailable.metric,
        t.queueUnavailable,
        topic,
      ),
      alarm(
        this,
        'ProcessorErrorsAlarm',
        about('the processor function failed (crash, timeout, init error): its whole batch is retried'),
        props.processorFunction.metricErrors(sum),
        t.processorErrors,
        topic,
      ),
      alarm(
        this,
        'ProcessorThrottlesAlarm',
        about('the processor function was throttled: the account or its reserved concurrency is exhausted'),
        props.processorFunction.metricThrottles(sum),
        t.processorThrottles,
        topic,
      ),
      alarm(
        this,
        'FailedItemsAlarm',
        about(`${t.failedItems} or more messages failed in ${minutes}: the handler returned errors; they are retried, then moved to the DLQ`),
        failedItems.metric,
        t.failedItems,
        topic,
      ),
    ];
  }
}

export interface ApiAlarmsProps {
  /** The HTTP API. */
  readonly httpApi: apigwv2.IHttpApi;
  /** Answers with a 5xx status in one period that raise the alarm. */
  readonly serverErrors: number;
  /** The period, in seconds. */
  readonly periodSecs: number;
  /** Where the alarm notifies. @default - an alarm without actions */
  readonly topic?: sns.ITopic;
}

/** The stage's API answered 5xx: ingest failed, timed out or could not queue. */
export class ApiAlarms extends Construct {
  public readonly serverErrors: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ApiAlarmsProps) {
    super(scope, id);
    this.serverErrors = alarm(
      this,
      'ServerErrorsAlarm',
      'hookline: the webhook API answered 5xx (ingest failed, timed out or could not queue): providers retry, GitHub does not',
      props.httpApi.metricServerError({ period: Duration.seconds(props.periodSecs), statistic: cloudwatch.Stats.SUM }),
      props.serverErrors,
      props.topic,
    );
  }
}
