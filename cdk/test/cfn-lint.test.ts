import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { buildStage } from './helpers';
import { VARIANTS } from './variants';

/**
 * cfn-lint from the project's .tools/venv (`cargo xtask test` installs it from
 * xtask/python-requirements.txt), or HOOKLINE_CFN_LINT.
 */
const CFN_LINT = process.env.HOOKLINE_CFN_LINT ?? path.join(__dirname, '..', '..', '.tools', 'venv', 'bin', 'cfn-lint');

/**
 * W3005 (a DependsOn that a GetAtt already implies) is how aws-cdk-lib orders a function after its
 * role's policy: by design, and harmless.
 */
const ACCEPTED_WARNINGS = ['W3005'];

interface Finding {
  Level: string;
  Rule: { Id: string };
  Message: string;
  Filename: string;
}

describe('cfn-lint: every synthesized template', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-cfn-lint-'));
  const templates: string[] = [];
  beforeAll(() => {
    VARIANTS.forEach((v, i) => {
      const dir = path.join(outdir, String(i));
      const app = new App({ outdir: dir });
      const { stack } = buildStage(v.toml, v.stage, v.options ?? {}, app);
      app.synth();
      templates.push(path.join(dir, stack.templateFile));
    });
  });

  test('has zero errors and no warnings but the accepted ones', () => {
    if (!fs.existsSync(CFN_LINT)) {
      throw new Error(`cfn-lint is not installed at ${CFN_LINT}: run \`cargo xtask test\` (it installs it into .tools/venv)`);
    }
    expect(templates).toHaveLength(VARIANTS.length);
    const run = spawnSync(CFN_LINT, ['--format', 'json', '--', ...templates], { encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    const findings: Finding[] = JSON.parse(run.stdout || '[]');
    const problems = findings
      .filter((f) => f.Level === 'Error' || !ACCEPTED_WARNINGS.includes(f.Rule.Id))
      .map((f) => `${f.Level} ${f.Rule.Id} ${path.basename(f.Filename)}: ${f.Message}`);
    expect(problems).toEqual([]);
    // cfn-lint's exit code: bit 2 = errors.
    expect(run.status! & 2).toBe(0);
  });

  test('does report a broken template (the lint is live)', () => {
    if (!fs.existsSync(CFN_LINT)) {
      throw new Error(`cfn-lint is not installed at ${CFN_LINT}: run \`cargo xtask test\``);
    }
    const broken = path.join(outdir, 'broken.template.json');
    const template = JSON.parse(fs.readFileSync(templates[0], 'utf8'));
    const queue = Object.values(template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>).find(
      (r) => r.Type === 'AWS::SQS::Queue',
    )!;
    queue.Properties.MessageRetentionPeriod = 'four days';
    fs.writeFileSync(broken, JSON.stringify(template));
    const run = spawnSync(CFN_LINT, ['--format', 'json', '--', broken], { encoding: 'utf8' });
    const findings: Finding[] = JSON.parse(run.stdout || '[]');
    expect(findings.some((f) => f.Level === 'Error')).toBe(true);
  });
});
