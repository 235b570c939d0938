/**
 * The app's inputs, from CDK context (`-c stage=pr-42`): what `cargo xtask synth|deploy|destroy`
 * passes. Only `stage` is required.
 */
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { DEFAULT_ASSETS_DIR } from './assets';

export interface AppContext {
  /** `-c stage=<stage>` (required). */
  readonly stage: string;
  /** `-c ephemeral=true`: remove everything on destroy even when the stage is not `pr-*`. */
  readonly ephemeral: boolean;
  /** `-c ttl=24h`: the ttl tag of an ephemeral stage. */
  readonly ttl?: string;
  /** `-c region=eu-west-1`: overrides the manifest's region. */
  readonly region?: string;
  /** `-c manifest=<path>`: default the workspace's hookline.toml. */
  readonly manifestPath: string;
  /** `-c assets=<dir>`: default the workspace's target/lambda. */
  readonly assetsDir: string;
  /** `-c alarmEmail=<address>`: subscribe an address to the alarms. */
  readonly alarmEmail?: string;
}

/** The workspace's manifest, relative to cdk/. */
export const DEFAULT_MANIFEST = path.join(__dirname, '..', '..', 'hookline.toml');

function text(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}

export function readContext(app: App): AppContext {
  const stage = text(app, 'stage');
  if (stage === undefined) {
    throw new Error('no stage: pass -c stage=<stage> (cargo xtask synth|deploy --stage <stage> does)');
  }
  const ephemeral = text(app, 'ephemeral');
  if (ephemeral !== undefined && ephemeral !== 'true' && ephemeral !== 'false') {
    throw new Error(`-c ephemeral=${ephemeral}: use true or false`);
  }
  return {
    stage,
    ephemeral: ephemeral === 'true',
    ttl: text(app, 'ttl'),
    region: text(app, 'region'),
    manifestPath: text(app, 'manifest') ?? DEFAULT_MANIFEST,
    assetsDir: text(app, 'assets') ?? DEFAULT_ASSETS_DIR,
    alarmEmail: text(app, 'alarmEmail'),
  };
}
