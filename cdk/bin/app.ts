#!/usr/bin/env node
/**
 * hookline's CDK app. It only wires: context → resolved manifest → one stack → cdk-nag.
 * Run it through `cargo xtask synth|deploy --stage <stage>`, which resolves hookline.toml
 * for the stage and passes `-c resolved=<path>`.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readContext } from '../lib/app-context';
import { HooklineStack } from '../lib/hookline-stack';
import { loadResolved } from '../lib/manifest';

try {
  const app = new App();
  const ctx = readContext(app);
  const resolved = loadResolved(ctx.resolvedPath);
  new HooklineStack(app, resolved.stage.stackName, {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: resolved.stage.region },
    resolved,
    assetsDir: ctx.assetsDir,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
} catch (err) {
  // A clear one-line error, not a stack trace: these are configuration problems.
  console.error(`error: ${(err as Error).message}`);
  process.exit(1);
}
