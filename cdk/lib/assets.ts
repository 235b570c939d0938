/**
 * Where the Lambda zips are: `cargo xtask build` writes `<assetsDir>/<arch>/<binary>/bootstrap.zip`
 * (default `target/lambda/arm64/stripe-ingest/bootstrap.zip`).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Architecture } from './manifest';

/** The default assets folder, relative to cdk/: the workspace's `target/lambda`. */
export const DEFAULT_ASSETS_DIR = path.join(__dirname, '..', '..', 'target', 'lambda');

/** The zip of one function binary. Throws, naming the command to run, when it is missing. */
export function lambdaZip(assetsDir: string, architecture: Architecture, binary: string): string {
  const zip = path.join(assetsDir, architecture, binary, 'bootstrap.zip');
  if (!fs.existsSync(zip)) {
    const flag = architecture === 'arm64' ? '' : ` --arch ${architecture}`;
    throw new Error(
      `the Lambda package of ${binary} (${architecture}) is missing: ${zip}. ` +
        `Run \`cargo xtask build${flag}\` first (\`cargo xtask deploy\` builds by itself).`,
    );
  }
  return zip;
}
