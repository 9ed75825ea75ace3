/** What package.json and the README promise a user of the package, against what the code needs. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const readme = readFileSync(new URL('README.md', root), 'utf8');

describe('package metadata', () => {
  it('engines.node is at least 20.12 while the CLI uses process.loadEnvFile (added in Node 20.12)', () => {
    const cli = readdirSync(new URL('cli/', root)).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(new URL(`cli/${f}`, root), 'utf8'));
    expect(cli.some((text) => text.includes('process.loadEnvFile'))).toBe(true);
    const [major = 0, minor = 0] = /^>=(\d+)(?:\.(\d+))?/.exec(pkg.engines.node)!.slice(1).map(Number);
    expect(major > 20 || (major === 20 && minor >= 12), pkg.engines.node).toBe(true);
  });

  it('the README points at the exported interfaces, not src/, and does not offer node16 to CommonJS projects', () => {
    // Booleans, so a failure does not print the whole README.
    expect(readme.includes('interfaces in `src/`')).toBe(false);
    expect(readme.includes('interfaces exported from `parley`')).toBe(true);
    expect(/`moduleResolution` `node16`, `nodenext` or `bundler`/.test(readme)).toBe(false);
    expect(readme.includes('TS1479')).toBe(true);
  });
});
