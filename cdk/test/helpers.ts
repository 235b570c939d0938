/**
 * Shared test fixtures: stages resolved from TOML text by the Rust resolver, placeholder Lambda
 * zips, stacks.
 *
 * The resolver is `$HOOKLINE_XTASK resolve` (`cargo xtask test` sets HOOKLINE_XTASK to the xtask
 * binary), else `cargo run --quiet -p xtask -- resolve` from the repository root.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { HooklineStack } from '../lib/hookline-stack';
import { loadResolved, Resolved } from '../lib/manifest';

/** The repository root. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The smallest zip file: an empty archive (the tests never run the code). */
const EMPTY_ZIP = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]);

/** How a stage is deployed beyond the manifest: `cargo xtask resolve`'s options. */
export interface StageOptions {
  /** `--ephemeral` */
  readonly ephemeral?: boolean;
  /** `--ttl 2h` */
  readonly ttl?: string;
  /** `--alarm-email a@b.c` */
  readonly alarmEmail?: string;
}

/** A stage resolved from TOML text: the document and the file it was written to. */
export interface ResolvedStage {
  readonly resolved: Resolved;
  /** The document, written as `cargo xtask synth` writes it (for `-c resolved=`). */
  readonly file: string;
}

const cache = new Map<string, ResolvedStage>();

/**
 * Resolves a manifest given as TOML text for a stage with the Rust resolver. Throws the
 * resolver's own error (`error: <file>:<line>: <field>: <message>`) when it refuses.
 */
export function resolveStage(toml: string, stage: string, options: StageOptions = {}): ResolvedStage {
  const key = JSON.stringify([toml, stage, options]);
  const cached = cache.get(key);
  if (cached !== undefined) return cached;

  // TMPDIR is the run's own folder (test/global-setup.js).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-resolve-'));
  const manifest = path.join(dir, 'hookline.toml');
  fs.writeFileSync(manifest, toml);
  const args = ['resolve', '--stage', stage];
  if (options.ephemeral) args.push('--ephemeral');
  if (options.ttl !== undefined) args.push('--ttl', options.ttl);
  if (options.alarmEmail !== undefined) args.push('--alarm-email', options.alarmEmail);

  // The region comes from the manifest, not from whoever runs the tests.
  const env: NodeJS.ProcessEnv = { ...process.env, HOOKLINE_MANIFEST: manifest };
  delete env.AWS_REGION;
  delete env.AWS_DEFAULT_REGION;
  delete env.AWS_PROFILE;
  const xtask = process.env.HOOKLINE_XTASK;
  const [command, commandArgs] =
    xtask !== undefined && xtask !== ''
      ? [xtask, args]
      : ['cargo', ['run', '--quiet', '-p', 'xtask', '--', ...args]];
  const run = spawnSync(command, commandArgs, { cwd: REPO_ROOT, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error !== undefined) {
    throw new Error(`cannot run the resolver (${command}): ${run.error.message}`);
  }
  if (run.status !== 0) {
    throw new Error(run.stderr.trim() || `${command} ${commandArgs.join(' ')} exited with ${run.status}`);
  }
  const file = path.join(dir, `${stage}.json`);
  fs.writeFileSync(file, run.stdout);
  const result = { resolved: loadResolved(file), file };
  cache.set(key, result);
  return result;
}

/** A folder laid out like `cargo xtask build`'s output, with a placeholder zip for every function. */
export function fakeAssets(resolved: Resolved): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-assets-'));
  for (const provider of resolved.providers) {
    for (const fn of [provider.ingest, provider.processor]) {
      const zip = path.join(dir, fn.zip);
      fs.mkdirSync(path.dirname(zip), { recursive: true });
      fs.writeFileSync(zip, EMPTY_ZIP);
    }
  }
  return dir;
}

/** A placeholder Lambda code asset for construct-level tests. */
export function fakeCode(): lambda.Code {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-code-'));
  const zip = path.join(dir, 'bootstrap.zip');
  fs.writeFileSync(zip, EMPTY_ZIP);
  return lambda.Code.fromAsset(zip);
}

/** Two providers: a standard one with defaults and a FIFO one with most settings changed. */
export const STANDARD_AND_FIFO = `
[project]
name = "shop"
region = "eu-west-1"

[[providers]]
name = "stripe"
template = "stripe"

[[providers]]
name = "orders"
template = "generic-hmac"
route = "/hooks/orders"
[providers.signing]
header = "x-orders-signature"
algorithm = "sha512"
encoding = "base64"
prefix = "v1="
[providers.ingest]
max_body_bytes = 262144
timestamp_tolerance_secs = 120
timeout_secs = 5
memory_mb = 256
[providers.queue]
kind = "fifo"
batch_size = 5
max_receive_count = 3
retention_secs = 1209600
[providers.processor]
timeout_secs = 60
memory_mb = 512
max_concurrency = 4
idempotency = false
`;

/** One x86_64 provider that uses an existing secret. */
export const X86_EXISTING_SECRET = `
[project]
name = "acme"
architecture = "x86_64"

[[providers]]
name = "github"
template = "github"
[providers.signing]
secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:github-webhooks-AbC123"
[providers.queue]
batch_size = 100
max_batching_window_secs = 5
visibility_timeout_secs = 600
`;

/**
 * STANDARD_AND_FIFO with every body limit within one queue message: no provider uses a body
 * bucket, so the stage has none (1000000 is under the inline limit, the FIFO provider's already is).
 */
export const INLINE_BODIES = STANDARD_AND_FIFO.replace(
  'template = "stripe"\n',
  'template = "stripe"\n[providers.ingest]\nmax_body_bytes = 1000000\n',
);

/** STANDARD_AND_FIFO with X-Ray tracing on. */
export const TRACED = STANDARD_AND_FIFO.replace('region = "eu-west-1"\n', 'region = "eu-west-1"\ntracing = true\n');

/** The repository's own manifest. */
export const REPO_MANIFEST = fs.readFileSync(path.join(REPO_ROOT, 'hookline.toml'), 'utf8');

export interface Built {
  readonly app: App;
  readonly stack: HooklineStack;
  readonly resolved: Resolved;
}

export interface Synth extends Built {
  readonly template: Template;
}

/**
 * Builds (without synthesizing) one stage of a manifest given as TOML text, as bin/app.ts does:
 * resolved by the Rust resolver, with placeholder zips.
 */
export function buildStage(toml: string, stage: string, options: StageOptions = {}, app = new App()): Built {
  const { resolved } = resolveStage(toml, stage, options);
  const stack = new HooklineStack(app, resolved.stage.stackName, {
    env: { region: resolved.stage.region },
    resolved,
    assetsDir: fakeAssets(resolved),
  });
  return { app, stack, resolved };
}

/** Builds and synthesizes one stage (see {@link buildStage}). */
export function synthStage(toml: string, stage: string, options: StageOptions = {}, app = new App()): Synth {
  const built = buildStage(toml, stage, options, app);
  return { ...built, template: Template.fromStack(built.stack) };
}
