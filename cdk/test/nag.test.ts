import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildStage } from './helpers';
import { VARIANTS } from './variants';

interface Report {
  pluginReports: { pluginName: string; violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
}

/** Synthesizes with cdk-nag's AWS Solutions pack; returns the thrown error (if any) and the report. */
function nag(build: (app: App) => void): { error?: Error; report: Report } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-nag-'));
  const app = new App({ outdir });
  build(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let error: Error | undefined;
  try {
    app.synth();
  } catch (err) {
    error = err as Error;
  }
  const file = path.join(outdir, 'validation-report.json');
  const report: Report = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : { pluginReports: [] };
  return { error, report };
}

function findings(report: Report): string[] {
  return report.pluginReports.flatMap((p) =>
    p.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`)),
  );
}

describe('cdk-nag AwsSolutionsChecks: zero unacknowledged findings', () => {
  test.each(VARIANTS.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const { error, report } = nag((app) => buildStage(v.toml, v.stage, v.options ?? {}, app));
    expect(findings(report)).toEqual([]);
    expect(error).toBeUndefined();
  });

  test('the check does fail: a queue without TLS enforcement or DLQ is reported', () => {
    const { error, report } = nag((app) => {
      const { stack } = buildStage(VARIANTS[0].toml, 'prod', {}, app);
      new sqs.Queue(stack, 'Careless', { enforceSSL: false });
    });
    expect(error?.message).toMatch(/AwsSolutions-SQS4/);
    expect(findings(report)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AwsSolutions-SQS3 at .*Careless/),
        expect.stringMatching(/^AwsSolutions-SQS4 at .*Careless/),
      ]),
    );
  });

  test('every acknowledgement carries a reason', () => {
    const app = new App();
    const acknowledgements: { id: string; reason: string }[] = [];
    for (const v of VARIANTS) {
      const { stack } = buildStage(v.toml, v.stage, v.options ?? {}, app);
      for (const node of stack.node.findAll()) {
        for (const entry of node.node.metadata) {
          if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
            // Recorded as { '<pack>::<rule>[<finding>]': reason }.
            for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
              acknowledgements.push({ id, reason });
            }
          }
        }
      }
    }
    const ids = new Set(acknowledgements.map((a) => /AwsSolutions-[A-Za-z0-9]+/.exec(a.id)?.[0] ?? a.id));
    // The acknowledged rules: no authorizer on webhook routes, no rotation of provider-issued
    // secrets, a suffix wildcard for partial secret ARNs and a provider's prefix in the body
    // bucket, and no access logs of the body bucket.
    expect([...ids].sort()).toEqual(['AwsSolutions-APIG4', 'AwsSolutions-IAM5', 'AwsSolutions-S1', 'AwsSolutions-SMG4']);
    for (const a of acknowledgements) {
      expect(a.reason.length).toBeGreaterThan(60);
    }
  });
});
