/**
 * Adapters are written against public entry points only: the adapter kit, and the root entry for
 * app-level things (config). The example adapter uses the kit alone, as a third party would.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);

/** Every specifier by which a file imports parley: by path into src/, or by package name. */
function parleyImports(file: URL): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from '((?:\.\.\/)+src\/[^']+|parley(?:\/[^']*)?)'/g)].map((m) => m[1]!.replace(/^(?:\.\.\/)+/, ''));
}

const adapterFiles = readdirSync(new URL('adapters/', root), { recursive: true, encoding: 'utf8' })
  .filter((path) => path.endsWith('.ts'))
  .map((path) => new URL(`adapters/${path}`, root));

describe('adapter imports', () => {
  it('adapters import parley only by its public names, parley/adapter-kit and parley, never by path', () => {
    expect(adapterFiles.length).toBeGreaterThan(20);
    const deep = adapterFiles.flatMap((file) => parleyImports(file).filter((s) => s !== 'parley/adapter-kit' && s !== 'parley').map((s) => `${file.pathname}: ${s}`));
    expect(deep).toEqual([]);
  });

  it('the example adapter imports the adapter kit and nothing else of parley', () => {
    expect(parleyImports(new URL('examples/http-callback/adapter.ts', root))).toEqual(['parley/adapter-kit']);
  });
});
