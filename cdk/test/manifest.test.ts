import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadManifest, ManifestError, parseManifest } from '../lib/manifest';
import cases from './manifest-cases.json';

interface Case {
  name: string;
  toml: string;
  manifest?: unknown;
  error?: { field: string; message: string };
  parseError?: { mentions: string };
}

describe('the manifest reader agrees with the Rust reader (test/manifest-cases.json)', () => {
  test.each((cases.cases as Case[]).map((c) => [c.name, c] as const))('%s', (_name, c) => {
    if (c.manifest !== undefined) {
      expect(parseManifest(c.toml, 'hookline.toml')).toEqual(c.manifest);
      return;
    }
    let caught: unknown;
    try {
      parseManifest(c.toml, 'hookline.toml');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ManifestError);
    const err = caught as ManifestError;
    if (c.error) {
      expect({ field: err.field, message: err.detail }).toEqual(c.error);
      expect(err.message).toBe(`hookline.toml: ${c.error.field}: ${c.error.message}`);
    } else {
      expect(err.message).toContain(c.parseError!.mentions);
    }
  });

  test('the shared cases cover every kind of outcome', () => {
    const all = cases.cases as Case[];
    expect(all.filter((c) => c.manifest).length).toBeGreaterThanOrEqual(3);
    expect(all.filter((c) => c.error).length).toBeGreaterThanOrEqual(30);
    expect(all.filter((c) => c.parseError).length).toBeGreaterThanOrEqual(5);
  });
});

describe('loadManifest', () => {
  test('reads the repository manifest', () => {
    const manifest = loadManifest(path.join(__dirname, '..', '..', 'hookline.toml'));
    expect(manifest.project.name).toMatch(/^[a-z]/);
    expect(manifest.providers.length).toBeGreaterThan(0);
  });

  test('names the file and line of a TOML syntax error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-manifest-'));
    const file = path.join(dir, 'hookline.toml');
    fs.writeFileSync(file, '[project]\nname = "x"\nregion = \n');
    expect(() => loadManifest(file)).toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: `));
  });

  test('says when the file cannot be read', () => {
    expect(() => loadManifest('/nonexistent/hookline.toml')).toThrow(
      /^\/nonexistent\/hookline.toml: cannot read the manifest: /,
    );
  });
});
