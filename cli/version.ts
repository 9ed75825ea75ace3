/**
 * parley's version, from its package.json, found from this file as the CLI finds its other files:
 * one level up in a checkout (cli/version.ts), two once built (dist/cli/version.js, installed too).
 */
import { readFileSync } from 'node:fs';

const CANDIDATES = ['../package.json', '../../package.json'];

export function packageVersion(): string {
  for (const candidate of CANDIDATES) {
    let manifest: { name?: string; version?: string };
    try {
      manifest = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as typeof manifest;
    } catch {
      continue;
    }
    if (manifest.name === 'parley' && manifest.version) return manifest.version;
  }
  throw new Error(`parley's package.json was not found next to ${new URL('.', import.meta.url).pathname}`);
}
