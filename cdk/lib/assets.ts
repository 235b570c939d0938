/**
 * Where the Lambda zips are: `cargo xtask build` writes them under one folder (default the
 * workspace's `target/lambda`), at the path the resolved document gives each function
 * (`arm64/stripe-ingest/bootstrap.zip`).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ResolvedFunction } from './manifest';

/** The default assets folder, relative to cdk/: the workspace's `target/lambda`. */
export const DEFAULT_ASSETS_DIR = path.join(__dirname, '..', '..', 'target', 'lambda');

/** The zip of one function. Throws, naming the command to run, when it is missing. */
export function lambdaZip(assetsDir: string, fn: ResolvedFunction): string {
  const zip = path.join(assetsDir, fn.zip);
  if (!fs.existsSync(zip)) {
    throw new Error(
      `the Lambda package of ${fn.binary} is missing: ${zip}. ` +
        'Run `cargo xtask build` first (`cargo xtask deploy` builds by itself).',
    );
  }
  return zip;
}
