/**
 * Stages: their names, which ones are ephemeral, their time to live, and the names derived from
 * them. xtask (xtask/src/cdk.rs) applies the same rules before it calls the CDK.
 */
import { isValidName } from './manifest';

/** Stages whose names match this are ephemeral (pull-request previews). */
export const EPHEMERAL_STAGE_PATTERN = /^pr-/;

/** The time to live tagged on an ephemeral stage when none is given. */
export const DEFAULT_TTL = '24h';

/** Checks a stage name: `[a-z][a-z0-9-]*`, at most 32 characters (`pr-42`, `prod`). */
export function validateStageName(stage: string): void {
  if (!isValidName(stage)) {
    throw new Error(
      `stage \`${stage}\` is not a stage name: use [a-z][a-z0-9-]*, at most 32 characters, e.g. prod or pr-42`,
    );
  }
}

/** Whether a stage is ephemeral: asked for explicitly, or named `pr-*`. */
export function isEphemeral(stage: string, requested = false): boolean {
  return requested || EPHEMERAL_STAGE_PATTERN.test(stage);
}

/** Checks a time to live such as `30m`, `24h` or `7d` and returns it in seconds. */
export function parseTtl(ttl: string): number {
  const match = /^([1-9][0-9]{0,4})([mhd])$/.exec(ttl);
  if (!match) {
    throw new Error(`ttl \`${ttl}\` is not a duration: use a number and m, h or d, e.g. 24h or 7d`);
  }
  const unit = { m: 60, h: 3600, d: 86_400 }[match[2] as 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** `<project>-<stage>`: the stack name. */
export function stackName(project: string, stage: string): string {
  return `${project}-${stage}`;
}

/**
 * The prefix of a provider's stack outputs: `billing-eu` → `BillingEu` (`BillingEuWebhookUrl`).
 * xtask computes the same to read the outputs back.
 */
export function outputPrefix(provider: string): string {
  return provider
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
