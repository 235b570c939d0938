/**
 * The manifest's rules, defaults and limits live in crates/hookline-manifest alone; the app takes
 * their results from the resolved manifest. These checks keep them from creeping back into lib/.
 */
import * as fs from 'fs';
import * as path from 'path';

const LIB = path.join(__dirname, '..', 'lib');
const SOURCES = fs
  .readdirSync(LIB)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: f, text: fs.readFileSync(path.join(LIB, f), 'utf8') }));

/**
 * Defaults and limits of the manifest (crates/hookline-manifest/src/limits.rs) that once lived
 * here too: numbers as written (`1_209_600` counts as 1209600) and the expressions they were
 * written as. `except` names files where the same number means something else.
 */
const FORBIDDEN: { what: string; pattern: RegExp; except?: string[] }[] = [
  { what: 'the default body limit (1015808)', pattern: /\b1015808\b/ },
  { what: 'the SQS message size (1048576, 1024 * 1024)', pattern: /\b1048576\b|1024 \* 1024/ },
  { what: 'the longest visibility timeout (43200)', pattern: /\b43200\b/ },
  // webhook-api.ts: API Gateway's default account throttle quota (requests per second).
  { what: 'the largest standard batch (10000)', pattern: /\b10000\b/, except: ['webhook-api.ts'] },
  { what: 'the largest function memory (10240)', pattern: /\b10240\b/ },
  { what: 'the 14-day retention (1209600, Duration.days(14))', pattern: /\b1209600\b|Duration\.days\(14\)|14 \* 24 \* 3600/ },
  { what: 'the 4-day default retention (345600, Duration.days(4))', pattern: /\b345600\b|Duration\.days\(4\)/ },
  { what: 'the largest timestamp tolerance (86400)', pattern: /\b86400\b/ },
  { what: 'the longest processor timeout (900)', pattern: /\b900\b/ },
  { what: 'the visibility factor (6 × the processor timeout)', pattern: /\b6 \*/ },
  { what: "a FIFO queue's sends per second (300)", pattern: /\b300\b/ },
];

test('lib/ has sources to check', () => {
  expect(SOURCES.map((s) => s.file)).toEqual(expect.arrayContaining(['manifest.ts', 'provider-pipeline.ts', 'hookline-stack.ts']));
});

test('no HOOKLINE_ variable name in lib/: the names come from the resolved manifest', () => {
  const found = SOURCES.filter((s) => s.text.includes('HOOKLINE_')).map((s) => s.file);
  expect(found).toEqual([]);
});

test('no default or limit of the manifest in lib/', () => {
  const found: string[] = [];
  for (const { file, text } of SOURCES) {
    const numbers = text.replace(/(\d)_(?=\d)/g, '$1');
    for (const { what, pattern, except } of FORBIDDEN) {
      if (!except?.includes(file) && pattern.test(numbers)) found.push(`${file}: ${what}`);
    }
  }
  expect(found).toEqual([]);
});

test('the check does find them', () => {
  const numbers = 'maxBodyBytes ?? 1_015_808; retentionPeriod: Duration.days(14)'.replace(/(\d)_(?=\d)/g, '$1');
  expect(FORBIDDEN.filter((f) => f.pattern.test(numbers)).map((f) => f.what)).toHaveLength(2);
});
