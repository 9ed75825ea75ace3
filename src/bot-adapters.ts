/**
 * createBot's `adapters`, checked before use: a plain-JS caller's slip (one adapter instead of an
 * array, an `undefined` from a factory left unconfigured) gets a ConfigError saying what was given
 * and what is expected, not a TypeError from deep inside.
 */
import type { Adapter } from './adapter.js';
import { ConfigError } from './errors.js';

export function checkedAdapters(given: unknown): Adapter[] {
  if (given === undefined) return [];
  if (!Array.isArray(given)) {
    throw new ConfigError(`createBot: \`adapters\` takes an array of adapters, e.g. { adapters: [webChat()] }; it was given ${describe(given)}.`);
  }
  given.forEach((adapter: unknown, index) => {
    if (!isAdapter(adapter)) {
      throw new ConfigError(`createBot: \`adapters[${index}]\` is ${describe(adapter)}, not an adapter (an object with \`platform\`, \`path\` and \`receive()\`, as webChat() or slackAdapter(…) returns).`);
    }
  });
  const adapters = [...(given as Adapter[])];
  // Replies find their adapter by platform, and requests by path: a second one would never be reached.
  for (const field of ['platform', 'path'] as const) {
    const first = new Map<string, number>();
    adapters.forEach((adapter, index) => {
      const earlier = first.get(adapter[field]);
      if (earlier !== undefined) {
        throw new ConfigError(`createBot: \`adapters[${earlier}]\` and \`adapters[${index}]\` share the ${field} ${JSON.stringify(adapter[field])}; give each platform one adapter.`);
      }
      first.set(adapter[field], index);
    });
  }
  return adapters;
}

function isAdapter(value: unknown): value is Adapter {
  const candidate = value as Partial<Adapter> | null | undefined;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.platform === 'string' && typeof candidate.path === 'string' && typeof candidate.receive === 'function';
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (isAdapter(value)) return `one adapter (${JSON.stringify(value.platform)}) rather than an array: wrap it, [adapter]`;
  if (typeof value === 'object') return `an object with keys ${JSON.stringify(Object.keys(value).slice(0, 5))}`;
  return `${typeof value} ${JSON.stringify(value)?.slice(0, 40) ?? ''}`.trim();
}
