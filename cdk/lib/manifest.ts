/**
 * `hookline.toml`, read by the CDK app: the same defaults and the same checks as the Rust reader
 * (crates/hookline-manifest: src/lib.rs documents every field, src/validate.rs every rule), in
 * the same order, with the same field paths and messages. test/manifest-cases.json holds cases
 * that both readers must agree on (the Rust side runs them in xtask's tests).
 */
import * as fs from 'fs';
import { parse, TomlError } from 'smol-toml';

/** The signature schemes the runtime library implements (`HOOKLINE_SCHEME`). */
export const SCHEMES = ['stripe', 'github', 'slack', 'shopify', 'standard-webhooks', 'generic-hmac'] as const;

export type Architecture = 'arm64' | 'x86_64';
export type QueueKind = 'standard' | 'fifo';

/** A validated manifest with every default filled in. */
export interface Manifest {
  readonly project: Project;
  readonly providers: Provider[];
}

/** Project-wide settings. */
export interface Project {
  /** Stack prefix: stacks are named `<name>-<stage>`. */
  readonly name: string;
  /** Default AWS region (default `us-east-1`). */
  readonly region: string;
  /** Lambda architecture (default `arm64`). */
  readonly architecture: Architecture;
  /** An address subscribed to the alarms (default: none). */
  readonly alarmEmail?: string;
}

/** One provider, as `[[providers]]` describes it. */
export interface Provider {
  readonly name: string;
  readonly template: string;
  /** Default `/webhooks/<name>`. */
  readonly route: string;
  readonly signing: Signing;
  readonly ingest: Ingest;
  readonly queue: Queue;
  readonly processor: Processor;
  readonly vars: Record<string, string>;
}

export interface Signing {
  /** Default: the template's name when it is a scheme. */
  readonly scheme: string;
  /** An existing Secrets Manager secret; absent: the stack creates one. */
  readonly secretArn?: string;
  readonly header?: string;
  readonly algorithm?: string;
  readonly encoding?: string;
  readonly prefix?: string;
}

export interface Ingest {
  /** Default 1 MiB − 32 KiB (1–1 MiB). */
  readonly maxBodyBytes: number;
  /** Default 300 (1–86 400). */
  readonly timestampToleranceSecs: number;
  /** Default 10 (1–30). */
  readonly timeoutSecs: number;
  /** Default 128 (128–10 240). */
  readonly memoryMb: number;
}

export interface Queue {
  /** Default `standard`. */
  readonly kind: QueueKind;
  /** Default 10 (1–10 FIFO, 1–10 000 standard). */
  readonly batchSize: number;
  /** Default 0 (0–300; FIFO: 0 only; ≥ 1 when the batch size is over 10). */
  readonly maxBatchingWindowSecs: number;
  /** Default 5 (1–1000). */
  readonly maxReceiveCount: number;
  /** Default 6 × the processor timeout (at least that; at most 43 200). */
  readonly visibilityTimeoutSecs: number;
  /** Default 4 days (60 s – 14 days). */
  readonly retentionSecs: number;
}

export interface Processor {
  /** Default 30 (1–900). */
  readonly timeoutSecs: number;
  /** Default 256 (128–10 240). */
  readonly memoryMb: number;
  /** 2–1000; absent: no limit. */
  readonly maxConcurrency?: number;
}

/** A manifest problem: `hookline.toml: providers.stripe.queue.batch_size: 20 is out of range: allowed 1–10`. */
export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly field: string | undefined,
    readonly detail: string,
    readonly line?: number,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${field !== undefined ? `${field}: ` : ''}${detail}`);
    this.name = 'ManifestError';
  }
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024 - 32 * 1024;
const SQS_MAX_MESSAGE_BYTES = 1024 * 1024;
const FOUR_DAYS = 4 * 24 * 3600;
const FOURTEEN_DAYS = 14 * 24 * 3600;

/** Reads and validates a manifest file. */
export function loadManifest(path: string): Manifest {
  let source: string;
  try {
    source = fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new ManifestError(path, undefined, `cannot read the manifest: ${(err as Error).message}`);
  }
  return parseManifest(source, path);
}

/** Whether `name` is a valid provider, project or stage name (same rule as the Rust reader). */
export function isValidName(name: string): boolean {
  return (
    name.length <= 32 &&
    /^[a-z][a-z0-9-]*$/.test(name) &&
    !name.endsWith('-') &&
    !name.includes('--')
  );
}

type Table = Record<string, unknown>;

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Parses and validates manifest text; `file` names it in errors. */
export function parseManifest(source: string, file: string): Manifest {
  let doc: Table;
  try {
    doc = parse(source, { integersAsBigInt: true }) as Table;
  } catch (err) {
    if (err instanceof TomlError) {
      throw new ManifestError(file, undefined, err.message.split('\n')[0].trim(), err.line);
    }
    throw err;
  }
  const r = new Reader(file);
  r.keys(doc, '', ['project', 'providers']);

  if (doc.project === undefined) {
    throw r.error('project', 'the [project] table is missing (it needs at least `name`)');
  }
  const project = r.table(doc.project, 'project');
  r.keys(project, 'project', ['name', 'region', 'architecture', 'alarm_email']);
  const name = r.str(project, 'name', 'project');
  if (name === undefined) {
    throw r.error('project.name', 'missing (the stack prefix, e.g. "hookline")');
  }
  if (!isValidName(name)) {
    throw r.error('project.name', `\`${name}\` is not a name: use [a-z][a-z0-9-]*, at most 32 characters`);
  }
  const region = r.str(project, 'region', 'project') ?? 'us-east-1';
  if (!isRegion(region)) {
    throw r.error('project.region', `\`${region}\` is not an AWS region name such as eu-west-1`);
  }
  const architecture = r.choice(project, 'architecture', 'project.architecture', 'arm64', ['arm64', 'x86_64']) as Architecture;
  const alarmEmail = r.str(project, 'alarm_email', 'project');
  if (alarmEmail !== undefined && !isEmail(alarmEmail)) {
    throw r.error('project.alarm_email', `\`${alarmEmail}\` is not an email address`);
  }

  const rawProviders = doc.providers ?? [];
  if (!Array.isArray(rawProviders)) {
    throw r.error('providers', 'must be an array of tables ([[providers]])');
  }
  const providers: Provider[] = [];
  const routes = new Map<string, string>();
  rawProviders.forEach((raw, index) => {
    const provider = resolveProvider(r, index, r.table(raw, `providers[${index}]`));
    if (providers.some((p) => p.name === provider.name)) {
      throw r.error(`providers[${index}].name`, `\`${provider.name}\` is defined twice`);
    }
    const other = routes.get(provider.route);
    if (other !== undefined) {
      throw r.error(`providers.${provider.name}.route`, `\`${provider.route}\` is already the route of \`${other}\``);
    }
    routes.set(provider.route, provider.name);
    providers.push(provider);
  });
  return { project: { name, region, architecture, ...(alarmEmail === undefined ? {} : { alarmEmail }) }, providers };
}

/** `local@domain.tld` without spaces, as the Rust reader checks it. */
function isEmail(email: string): boolean {
  const at = email.indexOf('@');
  if (at <= 0 || email.indexOf('@', at + 1) !== -1 || /\s/.test(email)) {
    return false;
  }
  const domain = email.slice(at + 1);
  return domain.includes('.') && !domain.startsWith('.') && !domain.endsWith('.');
}

function isRegion(region: string): boolean {
  const parts = region.split('-');
  const last = parts[parts.length - 1];
  return (
    parts.length >= 3 &&
    parts.slice(0, -1).every((p) => /^[a-z]+$/.test(p)) &&
    /^[0-9]+$/.test(last)
  );
}

function isValidRoute(route: string): boolean {
  return (
    route.startsWith('/') &&
    route.length > 1 &&
    !route.endsWith('/') &&
    !route.includes('//') &&
    /^[A-Za-z0-9/_.-]+$/.test(route)
  );
}

function resolveProvider(r: Reader, index: number, raw: Table): Provider {
  r.keys(raw, `providers[${index}]`, ['name', 'template', 'route', 'signing', 'ingest', 'queue', 'processor', 'vars']);
  const name = r.str(raw, 'name', `providers[${index}]`);
  if (name === undefined) {
    throw r.error(`providers[${index}].name`, 'missing');
  }
  if (!isValidName(name)) {
    throw r.error(`providers[${index}].name`, `\`${name}\` is not a name: use [a-z][a-z0-9-]*, at most 32 characters`);
  }
  const at = (field: string) => `providers.${name}.${field}`;
  const prefix = `providers.${name}`;
  const sections: Record<string, Table> = {};
  for (const [section, allowed] of [
    ['signing', ['scheme', 'secret_arn', 'header', 'algorithm', 'encoding', 'prefix']],
    ['ingest', ['max_body_bytes', 'timestamp_tolerance_secs', 'timeout_secs', 'memory_mb']],
    ['queue', ['kind', 'batch_size', 'max_batching_window_secs', 'max_receive_count', 'visibility_timeout_secs', 'retention_secs']],
    ['processor', ['timeout_secs', 'memory_mb', 'max_concurrency']],
  ] as const) {
    const table = raw[section] === undefined ? {} : r.table(raw[section], at(section));
    r.keys(table, at(section), [...allowed]);
    sections[section] = table;
  }
  const vars: Record<string, string> = {};
  if (raw.vars !== undefined) {
    for (const [key, value] of Object.entries(r.table(raw.vars, at('vars')))) {
      if (typeof value !== 'string') {
        throw r.error(at(`vars.${key}`), 'must be a string');
      }
      vars[key] = value;
    }
  }

  const template = r.str(raw, 'template', prefix);
  if (template === undefined) {
    throw r.error(at('template'), 'missing (one of the folders under templates/)');
  }
  const rawRoute = r.str(raw, 'route', prefix);
  const route = rawRoute ?? `/webhooks/${name}`;
  if (rawRoute !== undefined && !isValidRoute(rawRoute)) {
    throw r.error(
      at('route'),
      `\`${rawRoute}\` is not a route: a path such as /webhooks/${name} (letters, digits, - _ . /; no trailing slash)`,
    );
  }

  const s = sections.signing;
  const sp = at('signing');
  const givenScheme = r.str(s, 'scheme', sp);
  let scheme: string;
  if (givenScheme !== undefined) {
    if (!(SCHEMES as readonly string[]).includes(givenScheme)) {
      throw r.error(at('signing.scheme'), `\`${givenScheme}\` is not one of: ${SCHEMES.join(', ')}`);
    }
    scheme = givenScheme;
  } else if ((SCHEMES as readonly string[]).includes(template)) {
    scheme = template;
  } else {
    throw r.error(
      at('signing.scheme'),
      `missing: template \`${template}\` is not a scheme name, so set one of: ${SCHEMES.join(', ')}`,
    );
  }
  const generic = {
    header: r.str(s, 'header', sp),
    algorithm: r.str(s, 'algorithm', sp),
    encoding: r.str(s, 'encoding', sp),
    prefix: r.str(s, 'prefix', sp),
  };
  const firstGeneric = (['header', 'algorithm', 'encoding', 'prefix'] as const).find((f) => generic[f] !== undefined);
  if (firstGeneric !== undefined && scheme !== 'generic-hmac') {
    throw r.error(at(`signing.${firstGeneric}`), `only applies to the generic-hmac scheme, not \`${scheme}\``);
  }
  r.choice(s, 'algorithm', at('signing.algorithm'), 'sha256', ['sha1', 'sha256', 'sha512']);
  r.choice(s, 'encoding', at('signing.encoding'), 'hex', ['hex', 'base64']);
  if (generic.header !== undefined && !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(generic.header)) {
    throw r.error(at('signing.header'), "not an HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)");
  }
  if (generic.prefix !== undefined && !/^[\x21-\x7e]*$/.test(generic.prefix)) {
    throw r.error(
      at('signing.prefix'),
      'must be visible ASCII characters (no spaces): signature headers carry nothing else',
    );
  }
  const secretArn = r.str(s, 'secret_arn', sp);
  if (secretArn !== undefined && (!secretArn.startsWith('arn:') || !secretArn.includes(':secretsmanager:'))) {
    throw r.error(at('signing.secret_arn'), 'not a Secrets Manager ARN (arn:aws:secretsmanager:...)');
  }
  const signing: Signing = {
    scheme,
    ...(secretArn !== undefined ? { secretArn } : {}),
    ...(generic.header !== undefined ? { header: generic.header } : {}),
    ...(generic.algorithm !== undefined ? { algorithm: generic.algorithm } : {}),
    ...(generic.encoding !== undefined ? { encoding: generic.encoding } : {}),
    ...(generic.prefix !== undefined ? { prefix: generic.prefix } : {}),
  };

  const i = sections.ingest;
  const ingest: Ingest = {
    maxBodyBytes: r.int(i, 'max_body_bytes', at('ingest.max_body_bytes'), DEFAULT_MAX_BODY_BYTES, 1, SQS_MAX_MESSAGE_BYTES),
    timestampToleranceSecs: r.int(i, 'timestamp_tolerance_secs', at('ingest.timestamp_tolerance_secs'), 300, 1, 86_400),
    timeoutSecs: r.int(i, 'timeout_secs', at('ingest.timeout_secs'), 10, 1, 30),
    memoryMb: r.int(i, 'memory_mb', at('ingest.memory_mb'), 128, 128, 10_240),
  };

  const p = sections.processor;
  const timeoutSecs = r.int(p, 'timeout_secs', at('processor.timeout_secs'), 30, 1, 900);
  const memoryMb = r.int(p, 'memory_mb', at('processor.memory_mb'), 256, 128, 10_240);
  const maxConcurrency =
    p.max_concurrency === undefined ? undefined : r.int(p, 'max_concurrency', at('processor.max_concurrency'), 2, 2, 1000);
  const processor: Processor = { timeoutSecs, memoryMb, ...(maxConcurrency !== undefined ? { maxConcurrency } : {}) };

  const q = sections.queue;
  const kind = r.choice(q, 'kind', at('queue.kind'), 'standard', ['standard', 'fifo']) as QueueKind;
  const fifo = kind === 'fifo';
  const batchSize = r.int(q, 'batch_size', at('queue.batch_size'), 10, 1, fifo ? 10 : 10_000);
  let window: number;
  try {
    window = r.int(q, 'max_batching_window_secs', at('queue.max_batching_window_secs'), 0, 0, fifo ? 0 : 300);
  } catch (err) {
    if (fifo && err instanceof ManifestError) {
      throw new ManifestError(err.file, err.field, `${err.detail} (Lambda has no batching window for FIFO queues)`);
    }
    throw err;
  }
  if (batchSize > 10 && window < 1) {
    throw r.error(
      at('queue.batch_size'),
      `a batch size of ${batchSize} (over 10) needs queue.max_batching_window_secs of at least 1`,
    );
  }
  const minVisibility = 6 * timeoutSecs;
  const visibility = r.int(q, 'visibility_timeout_secs', at('queue.visibility_timeout_secs'), Math.min(minVisibility, 43_200), 0, 43_200);
  if (visibility < minVisibility) {
    throw r.error(
      at('queue.visibility_timeout_secs'),
      `${visibility} s is less than 6 × the processor timeout (${timeoutSecs} s), as AWS recommends: use at least ${minVisibility}`,
    );
  }
  const queue: Queue = {
    kind,
    batchSize,
    maxBatchingWindowSecs: window,
    visibilityTimeoutSecs: visibility,
    maxReceiveCount: r.int(q, 'max_receive_count', at('queue.max_receive_count'), 5, 1, 1000),
    retentionSecs: r.int(q, 'retention_secs', at('queue.retention_secs'), FOUR_DAYS, 60, FOURTEEN_DAYS),
  };

  return { name, template, route, signing, ingest, queue, processor, vars };
}

/** Typed access to the parsed TOML, with errors in the manifest's own words. */
class Reader {
  constructor(private readonly file: string) {}

  error(field: string, message: string): ManifestError {
    return new ManifestError(this.file, field, message);
  }

  /** Rejects keys the manifest does not define, as the Rust reader does (`deny_unknown_fields`). */
  keys(table: Table, where: string, allowed: string[]): void {
    for (const key of Object.keys(table)) {
      if (!allowed.includes(key)) {
        throw this.error(
          where === '' ? key : `${where}.${key}`,
          `unknown field \`${key}\`, expected one of ${allowed.map((a) => `\`${a}\``).join(', ')}`,
        );
      }
    }
  }

  table(value: unknown, field: string): Table {
    if (!isTable(value)) {
      throw this.error(field, 'must be a table');
    }
    return value;
  }

  str(table: Table, key: string, where: string): string | undefined {
    const value = table[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      throw this.error(`${where}.${key}`, `invalid type: expected a string, found ${typeName(value)}`);
    }
    return value;
  }

  /** An integer field: its default when absent, else checked against `min..=max`. */
  int(table: Table, key: string, field: string, fallback: number, min: number, max: number): number {
    const value = table[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'bigint') {
      throw this.error(field, `invalid type: expected an integer, found ${typeName(value)}`);
    }
    if (value < BigInt(min) || value > BigInt(max)) {
      throw this.error(field, `${value} is out of range: allowed ${min}–${max}`);
    }
    return Number(value);
  }

  /** A string field restricted to `allowed`. */
  choice(table: Table, key: string, field: string, fallback: string, allowed: string[]): string {
    const value = table[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'string') {
      throw this.error(field, `invalid type: expected a string, found ${typeName(value)}`);
    }
    if (!allowed.includes(value)) {
      throw this.error(field, `\`${value}\` is not one of: ${allowed.join(', ')}`);
    }
    return value;
  }
}

function typeName(value: unknown): string {
  if (typeof value === 'bigint') return 'an integer';
  if (typeof value === 'number') return 'a float';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'string') return 'a string';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date';
  return 'a table';
}
