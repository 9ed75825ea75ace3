/**
 * Adapters are written against public entry points only: the adapter kit, and the root entry for
 * app-level things (config). The example adapter uses the kit alone, as a third party would.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);

/** Every module specifier reaching into src/ from a file. */
function srcImports(file: URL): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from '((?:\.\.\/)+src\/[^']+)'/g)].map((m) => m[1]!.replace(/^(?:\.\.\/)+/, ''));
}

const adapterFiles = readdirSync(new URL('adapters/', root), { recursive: true, encoding: 'utf8' })
  .filter((path) => path.endsWith('.ts'))
  .map((path) => new URL(`adapters/${path}`, root));

describe('adapter imports', () => {
  it('adapters import src only through the adapter kit or the root entry', () => {
    expect(adapterFiles.length).toBeGreaterThan(20);
    const deep = adapterFiles.flatMap((file) => srcImports(file).filter((s) => s !== 'src/adapter-kit.js' && s !== 'src/index.js').map((s) => `${file.pathname}: ${s}`));
    expect(deep).toEqual([]);
  });

  it('the example adapter imports the adapter kit and nothing else of parley', () => {
    expect(srcImports(new URL('examples/http-callback/adapter.ts', root))).toEqual(['src/adapter-kit.js']);
  });
});
