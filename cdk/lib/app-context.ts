/**
 * The app's inputs, from CDK context: what `cargo xtask synth|deploy` passes.
 * `-c resolved=<path>` (required) is the resolved manifest of the stage, `-c assets=<dir>` where
 * `cargo xtask build` put the zips. Everything else is in the resolved document.
 */
import { App } from 'aws-cdk-lib';
import { DEFAULT_ASSETS_DIR } from './assets';

export interface AppContext {
  /** `-c resolved=<path>`: the stage's resolved manifest (`target/hookline/<stage>.json`). */
  readonly resolvedPath: string;
  /** `-c assets=<dir>`: default the workspace's target/lambda. */
  readonly assetsDir: string;
}

function text(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}

export function readContext(app: App): AppContext {
  const resolvedPath = text(app, 'resolved');
  if (resolvedPath === undefined) {
    throw new Error(
      'no resolved manifest: run the app through `cargo xtask synth|deploy --stage <stage>` ' +
        '(it passes -c resolved=<path of target/hookline/<stage>.json>)',
    );
  }
  return { resolvedPath, assetsDir: text(app, 'assets') ?? DEFAULT_ASSETS_DIR };
}
