/**
 * How tests run the parley CLI: Node's arguments for `parley <args>`. The built `dist/` when it is
 * newer than every source file (CI builds it in `npm ci`), since starting through tsx costs each
 * process about half a second of CPU and the suite starts a few hundred; otherwise (a source edited
 * since the last build) the sources through tsx, so a test never runs stale code.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const SOURCES = ['src', 'adapters', 'cli', 'aws', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];
const BUILT = join(root, 'dist/cli/main.js');

let cached: boolean | undefined;

/** The newest modification time under `path` (a file or a folder), in ms. */
function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs; // a file deleted since the build
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

/** Whether dist/ was built after the last change to the sources (checked once per test file). */
export function builtIsFresh(): boolean {
  if (cached !== undefined) return cached;
  try {
    cached = statSync(BUILT).mtimeMs > Math.max(...SOURCES.map((path) => newest(join(root, path))));
  } catch {
    cached = false; // never built
  }
  return cached;
}

/** Node's arguments that run `parley <args>` from the repository's root (the cwd the caller gives). */
export function parleyArgs(...args: string[]): string[] {
  return builtIsFresh() ? [BUILT, ...args] : ['--import', 'tsx', 'cli/main.ts', ...args];
}
