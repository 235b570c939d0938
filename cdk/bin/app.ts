#!/usr/bin/env node
/**
 * hookline's CDK app. It only wires: context → manifest → one stack `<project>-<stage>` → cdk-nag.
 * Run it through `cargo xtask synth|deploy|destroy --stage <stage>`.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readContext } from '../lib/app-context';
import { HooklineStack } from '../lib/hookline-stack';
import { loadManifest } from '../lib/manifest';
import { stackName } from '../lib/stage';

try {
  const app = new App();
  const ctx = readContext(app);
  const manifest = loadManifest(ctx.manifestPath);
  new HooklineStack(app, stackName(manifest.project.name, ctx.stage), {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: ctx.region ?? manifest.project.region },
    manifest,
    stage: ctx.stage,
    ephemeral: ctx.ephemeral,
    ttl: ctx.ttl,
    assetsDir: ctx.assetsDir,
    // `-c alarmEmail=` wins over the manifest's `alarm_email`.
    alarmEmail: ctx.alarmEmail ?? manifest.project.alarmEmail,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
} catch (err) {
  // A clear one-line error, not a stack trace: these are configuration problems.
  console.error(`error: ${(err as Error).message}`);
  process.exit(1);
}
