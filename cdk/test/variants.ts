/** The stages that the cdk-nag and cfn-lint suites synthesize: every kind of stack the app makes (all but the last with a body bucket). */
import { INLINE_BODIES, REPO_MANIFEST, STANDARD_AND_FIFO, StageOptions, TRACED, X86_EXISTING_SECRET } from './helpers';

export interface Variant {
  readonly name: string;
  readonly toml: string;
  readonly stage: string;
  readonly options?: StageOptions;
}

export const VARIANTS: Variant[] = [
  { name: 'standard + FIFO, retained, alarm email', toml: STANDARD_AND_FIFO, stage: 'prod', options: { alarmEmail: 'ops@example.com' } },
  { name: 'standard + FIFO, ephemeral (pr-*)', toml: STANDARD_AND_FIFO, stage: 'pr-42' },
  { name: 'x86_64, existing secret, large batches', toml: X86_EXISTING_SECRET, stage: 'staging' },
  { name: 'x86_64, explicitly ephemeral', toml: X86_EXISTING_SECRET, stage: 'demo', options: { ephemeral: true, ttl: '2h' } },
  {
    name: 'an existing secret by partial ARN',
    toml: X86_EXISTING_SECRET.replace('secret:github-webhooks-AbC123', 'secret:hookline/github'),
    stage: 'prod',
  },
  { name: 'the repository manifest (hookline.toml)', toml: REPO_MANIFEST, stage: 'pr-1' },
  { name: 'X-Ray tracing on', toml: TRACED, stage: 'traced' },
  { name: 'every body within a queue message: no body bucket', toml: INLINE_BODIES, stage: 'inline' },
];
