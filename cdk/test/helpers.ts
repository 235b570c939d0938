/** Shared test fixtures: manifests, placeholder Lambda zips, stacks. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { HooklineStack, HooklineStackProps } from '../lib/hookline-stack';
import { Manifest, parseManifest } from '../lib/manifest';
import { stackName } from '../lib/stage';

/** The smallest zip file: an empty archive (the tests never run the code). */
const EMPTY_ZIP = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]);

/** A folder laid out like `cargo xtask build`'s output, with placeholder zips for both architectures. */
export function fakeAssets(manifest: Manifest): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-assets-'));
  for (const arch of ['arm64', 'x86_64']) {
    for (const provider of manifest.providers) {
      for (const binary of [`${provider.name}-ingest`, `${provider.name}-process`]) {
        fs.mkdirSync(path.join(dir, arch, binary), { recursive: true });
        fs.writeFileSync(path.join(dir, arch, binary, 'bootstrap.zip'), EMPTY_ZIP);
      }
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

export interface Synth {
  readonly app: App;
  readonly stack: HooklineStack;
  readonly template: Template;
  readonly manifest: Manifest;
}

/** Builds (without synthesizing) one stage of a manifest given as TOML text, with placeholder zips. */
export function buildStage(
  toml: string,
  stage: string,
  extra: Partial<Omit<HooklineStackProps, 'manifest' | 'stage'>> = {},
  app = new App(),
): { app: App; stack: HooklineStack; manifest: Manifest } {
  const manifest = parseManifest(toml, 'hookline.toml');
  const stack = new HooklineStack(app, stackName(manifest.project.name, stage), {
    env: { region: manifest.project.region },
    manifest,
    stage,
    assetsDir: fakeAssets(manifest),
    ...extra,
  });
  return { app, stack, manifest };
}

/** Builds and synthesizes one stage (see {@link buildStage}). */
export function synthStage(
  toml: string,
  stage: string,
  extra: Partial<Omit<HooklineStackProps, 'manifest' | 'stage'>> = {},
  app = new App(),
): Synth {
  const built = buildStage(toml, stage, extra, app);
  return { ...built, template: Template.fromStack(built.stack) };
}
