import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { DEFAULT_MANIFEST, readContext } from '../lib/app-context';
import { DEFAULT_ASSETS_DIR } from '../lib/assets';
import { parseManifest } from '../lib/manifest';
import { isEphemeral, parseTtl, stackName, validateStageName } from '../lib/stage';
import { fakeAssets } from './helpers';

describe('context', () => {
  test('stage is required', () => {
    expect(() => readContext(new App())).toThrow(/no stage: pass -c stage=<stage>/);
  });

  test('defaults: the workspace manifest and target/lambda', () => {
    const ctx = readContext(new App({ context: { stage: 'prod' } }));
    expect(ctx).toEqual({
      stage: 'prod',
      ephemeral: false,
      ttl: undefined,
      region: undefined,
      manifestPath: DEFAULT_MANIFEST,
      assetsDir: DEFAULT_ASSETS_DIR,
      alarmEmail: undefined,
    });
    expect(DEFAULT_MANIFEST).toBe(path.resolve(__dirname, '..', '..', 'hookline.toml'));
    expect(DEFAULT_ASSETS_DIR).toBe(path.resolve(__dirname, '..', '..', 'target', 'lambda'));
  });

  test('every key', () => {
    const ctx = readContext(
      new App({
        context: { stage: 'demo', ephemeral: 'true', ttl: '2h', region: 'eu-central-1', manifest: '/m.toml', assets: '/a', alarmEmail: 'a@b.io' },
      }),
    );
    expect(ctx).toMatchObject({ stage: 'demo', ephemeral: true, ttl: '2h', region: 'eu-central-1', manifestPath: '/m.toml', assetsDir: '/a', alarmEmail: 'a@b.io' });
  });

  test('ephemeral must be true or false', () => {
    expect(() => readContext(new App({ context: { stage: 'x', ephemeral: 'yes' } }))).toThrow(/-c ephemeral=yes: use true or false/);
  });
});

describe('stages', () => {
  test('pr-* stages are ephemeral, others only when asked', () => {
    expect(isEphemeral('pr-42')).toBe(true);
    expect(isEphemeral('prod')).toBe(false);
    expect(isEphemeral('prod', true)).toBe(true);
    expect(isEphemeral('preview')).toBe(false);
  });

  test('ttl', () => {
    expect(parseTtl('30m')).toBe(1800);
    expect(parseTtl('24h')).toBe(86_400);
    expect(parseTtl('7d')).toBe(604_800);
    for (const bad of ['0h', '24', 'h', '1.5h', '24 h', '1w']) {
      expect(() => parseTtl(bad)).toThrow(/is not a duration/);
    }
  });

  test('names', () => {
    expect(stackName('hookline', 'pr-42')).toBe('hookline-pr-42');
    expect(() => validateStageName('pr_42')).toThrow(/stage `pr_42` is not a stage name/);
    expect(() => validateStageName('a'.repeat(33))).toThrow(/is not a stage name/);
    expect(() => validateStageName('prod')).not.toThrow();
  });
});

/** Runs bin/app.ts as the CDK CLI does (transpile-only: the types are checked by `npm test`). */
function runApp(context: Record<string, string>) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-app-'));
  return spawnSync(
    process.execPath,
    [require.resolve('ts-node/dist/bin.js'), '--transpile-only', path.join(__dirname, '..', 'bin', 'app.ts')],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify(context),
      },
    },
  );
}

describe('bin/app.ts', () => {
  test('synthesizes <project>-<stage> from the manifest, with cdk-nag', () => {
    const manifestText = fs.readFileSync(DEFAULT_MANIFEST, 'utf8');
    const assets = fakeAssets(parseManifest(manifestText, 'hookline.toml'));
    const run = runApp({ stage: 'pr-7', assets });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  test('fails with one clear line when the zips are missing', () => {
    const run = runApp({ stage: 'prod', assets: fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-none-')) });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^error: the Lambda package of \S+-ingest \((arm64|x86_64)\) is missing: .* Run `cargo xtask build/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('fails with one clear line on a manifest error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-bad-'));
    const manifest = path.join(dir, 'hookline.toml');
    fs.writeFileSync(manifest, '[project]\nname = "x"\n[[providers]]\nname = "a"\ntemplate = "stripe"\n[providers.queue]\nkind = "fifo"\nbatch_size = 20\n');
    const run = runApp({ stage: 'prod', manifest });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe(`error: ${manifest}: providers.a.queue.batch_size: 20 is out of range: allowed 1–10`);
  });
});
