import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { readContext } from '../lib/app-context';
import { DEFAULT_ASSETS_DIR } from '../lib/assets';
import { loadResolved, RESOLVED_VERSION } from '../lib/manifest';
import { fakeAssets, REPO_MANIFEST, REPO_ROOT, resolveStage } from './helpers';

function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

describe('context', () => {
  test('-c resolved is required, and the error says how to run the app', () => {
    expect(() => readContext(new App())).toThrow(
      /^no resolved manifest: run the app through `cargo xtask synth\|deploy --stage <stage>`/,
    );
  });

  test('assets default to the workspace target/lambda', () => {
    expect(readContext(new App({ context: { resolved: '/r.json' } }))).toEqual({
      resolvedPath: '/r.json',
      assetsDir: DEFAULT_ASSETS_DIR,
    });
    expect(DEFAULT_ASSETS_DIR).toBe(path.join(REPO_ROOT, 'target', 'lambda'));
  });

  test('both keys', () => {
    expect(readContext(new App({ context: { resolved: '/r.json', assets: '/a' } }))).toEqual({
      resolvedPath: '/r.json',
      assetsDir: '/a',
    });
  });
});

describe('loadResolved', () => {
  test('reads what the resolver writes', () => {
    const { file, resolved } = resolveStage(REPO_MANIFEST, 'pr-7');
    expect(loadResolved(file)).toEqual(resolved);
    expect(resolved.version).toBe(RESOLVED_VERSION);
    expect(resolved.stage.name).toBe('pr-7');
  });

  test('refuses a missing file, naming it and the command that makes one', () => {
    expect(() => loadResolved('/nonexistent/pr-7.json')).toThrow(
      /^cannot read the resolved manifest \/nonexistent\/pr-7.json: ENOENT.*`cargo xtask resolve --stage <stage>`/,
    );
  });

  test('refuses text that is not JSON', () => {
    const file = path.join(tmp('hookline-json-'), 'pr-7.json');
    fs.writeFileSync(file, 'version = 1\n');
    expect(() => loadResolved(file)).toThrow(/ is not a resolved manifest: /);
  });

  test.each([
    ['another version', { version: RESOLVED_VERSION + 1 }, `is of version ${RESOLVED_VERSION + 1}`],
    ['no version', {}, 'has no version'],
  ])('refuses %s', (_name, doc, found) => {
    const file = path.join(tmp('hookline-version-'), 'pr-7.json');
    fs.writeFileSync(file, JSON.stringify(doc));
    expect(() => loadResolved(file)).toThrow(
      `${file} ${found}, but this CDK app reads resolved manifests of version ${RESOLVED_VERSION}`,
    );
  });
});

describe('the resolver (test helper)', () => {
  test("a bad manifest fails with the resolver's own error: file, line, field", () => {
    const toml = '[project]\nname = "x"\n[[providers]]\nname = "a"\ntemplate = "stripe"\n[providers.queue]\nkind = "fifo"\nbatch_size = 20\n';
    expect(() => resolveStage(toml, 'prod')).toThrow(
      /^error: \S*hookline\.toml:\d+: providers\.a\.queue\.batch_size: 20 is out of range: allowed 1–10/,
    );
  });
});

/** Runs bin/app.ts as the CDK CLI does (transpile-only: the types are checked by `npm test`). */
function runApp(context: Record<string, string>, outdir = tmp('hookline-app-')) {
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

/** A run that failed with exactly one line on stderr; returns that line. */
function oneLineError(run: ReturnType<typeof runApp>): string {
  expect(run.status).toBe(1);
  const lines = run.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0];
}

describe('bin/app.ts', () => {
  test('synthesizes the stack the resolved manifest names, in its region, with cdk-nag', () => {
    const { file, resolved } = resolveStage(REPO_MANIFEST, 'pr-7');
    const outdir = tmp('hookline-app-');
    const run = runApp({ resolved: file, assets: fakeAssets(resolved) }, outdir);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
    const stack = manifest.artifacts[resolved.stage.stackName];
    expect(stack.type).toBe('aws:cloudformation:stack');
    expect(stack.environment).toMatch(new RegExp(`^aws://[^/]+/${resolved.stage.region}$`));
  });

  test('fails with one clear line without -c resolved', () => {
    expect(oneLineError(runApp({}))).toMatch(/^error: no resolved manifest: run the app through `cargo xtask synth\|deploy --stage <stage>`/);
  });

  test('fails with one clear line when the resolved manifest is missing', () => {
    const missing = path.join(tmp('hookline-none-'), 'prod.json');
    expect(oneLineError(runApp({ resolved: missing }))).toMatch(
      new RegExp(`^error: cannot read the resolved manifest ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `),
    );
  });

  test('fails with one clear line on another version', () => {
    const { file } = resolveStage(REPO_MANIFEST, 'pr-7');
    const another = RESOLVED_VERSION + 1;
    const other = path.join(tmp('hookline-other-version-'), 'pr-7.json');
    fs.writeFileSync(other, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), version: another }));
    expect(oneLineError(runApp({ resolved: other }))).toBe(
      `error: ${other} is of version ${another}, but this CDK app reads resolved manifests of version ${RESOLVED_VERSION}: ` +
        'use xtask and cdk/ of the same commit and run the app through `cargo xtask synth|deploy --stage <stage>`, ' +
        'or make one with `cargo xtask resolve --stage <stage>`',
    );
  });

  test('fails with one clear line when the zips are missing', () => {
    const { file } = resolveStage(REPO_MANIFEST, 'prod');
    const line = oneLineError(runApp({ resolved: file, assets: tmp('hookline-none-') }));
    expect(line).toMatch(/^error: the Lambda package of \S+-ingest is missing: \S+bootstrap\.zip\. Run `cargo xtask build` first/);
  });
});
