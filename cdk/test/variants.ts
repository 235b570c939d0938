/** The stages that the cdk-nag and cfn-lint suites synthesize: every kind of stack the app makes. */
import * as fs from 'fs';
import * as path from 'path';
import { HooklineStackProps } from '../lib/hookline-stack';
import { STANDARD_AND_FIFO, X86_EXISTING_SECRET } from './helpers';

export interface Variant {
  readonly name: string;
  readonly toml: string;
  readonly stage: string;
  readonly extra?: Partial<Omit<HooklineStackProps, 'manifest' | 'stage'>>;
}

export const VARIANTS: Variant[] = [
  { name: 'standard + FIFO, retained, alarm email', toml: STANDARD_AND_FIFO, stage: 'prod', extra: { alarmEmail: 'ops@example.com' } },
  { name: 'standard + FIFO, ephemeral (pr-*)', toml: STANDARD_AND_FIFO, stage: 'pr-42' },
  { name: 'x86_64, existing secret, large batches', toml: X86_EXISTING_SECRET, stage: 'staging' },
  { name: 'x86_64, explicitly ephemeral', toml: X86_EXISTING_SECRET, stage: 'demo', extra: { ephemeral: true, ttl: '2h' } },
  {
    name: 'an existing secret by partial ARN',
    toml: X86_EXISTING_SECRET.replace('secret:github-webhooks-AbC123', 'secret:hookline/github'),
    stage: 'prod',
  },
  {
    name: 'the repository manifest (hookline.toml)',
    toml: fs.readFileSync(path.join(__dirname, '..', '..', 'hookline.toml'), 'utf8'),
    stage: 'pr-1',
  },
];
