import { Capture, Template } from 'aws-cdk-lib/assertions';
import { STANDARD_AND_FIFO, synthStage } from './helpers';

/**
 * The dashboard's body as JSON: CloudFormation joins it from text and references (queue names,
 * the region), which stand here as `<ref>`.
 */
function body(template: Template): { widgets: Widget[] } {
  const capture = new Capture();
  template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardBody: capture });
  const parts = capture.asObject()['Fn::Join'][1] as unknown[];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : '<ref>')).join(''));
}

interface Widget {
  type: string;
  properties: { title?: string; markdown?: string; metrics?: unknown[][] };
}

describe('the stage dashboard', () => {
  const { template, resolved } = synthStage(STANDARD_AND_FIFO, 'prod');
  const m = resolved.stage.monitoring.metrics;
  const widgets = body(template).widgets;
  const graphs = widgets.filter((w) => w.type === 'metric');
  /** Every metric line of a provider's graphs, as [namespace, name, dimension, value, ...]. */
  const metricsOf = (provider: string) =>
    graphs.filter((w) => w.properties.title?.startsWith(`${provider}: `)).flatMap((w) => w.properties.metrics ?? []);

  test('one per stage, named after the stack', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: resolved.stage.stackName });
  });

  test("shows every metric the functions write, per provider and stage, with the resolved manifest's names", () => {
    expect(m.namespace).toBe('hookline');
    for (const provider of ['stripe', 'orders']) {
      const lines = metricsOf(provider);
      for (const name of Object.values(m.names)) {
        expect(lines).toEqual(
          expect.arrayContaining([
            expect.arrayContaining([m.namespace, name, m.dimensions.provider, provider, m.dimensions.stage, 'prod']),
          ]),
        );
      }
    }
  });

  test('the rejections by code come from a search over the code dimension', () => {
    const byCode = graphs.find((w) => w.properties.title === 'stripe: rejected by code')!;
    const expression = JSON.stringify(byCode.properties.metrics);
    expect(expression).toContain(`SEARCH('{${m.namespace},${m.dimensions.provider},${m.dimensions.stage},${m.dimensions.code}}`);
    expect(expression).toContain(`MetricName=\\"${m.names.rejected}\\" ${m.dimensions.provider}=\\"stripe\\" ${m.dimensions.stage}=\\"prod\\"`);
  });

  test("beside each provider's queue and dead-letter queue depths and age", () => {
    for (const provider of ['stripe', 'orders']) {
      const sqs = metricsOf(provider).filter((line) => line[0] === 'AWS/SQS').map((line) => line[1]);
      expect(sqs).toEqual(
        expect.arrayContaining([
          'ApproximateNumberOfMessagesVisible',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateAgeOfOldestMessage',
        ]),
      );
      // The queue's and the DLQ's visible messages: two lines.
      expect(sqs.filter((n) => n === 'ApproximateNumberOfMessagesVisible')).toHaveLength(2);
    }
  });
});
