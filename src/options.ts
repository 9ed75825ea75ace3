/**
 * Checking the options a factory (slackAdapter, whatsappAdapter...) is given: a missing or bad
 * option is a ConfigError naming it, not a TypeError (or a 404) later.
 */
import type { z } from 'zod';
import { ConfigError } from './errors.js';

/**
 * `options` checked against `schema` (missing → `{}`, so a required option is named as missing).
 * `hints` say, per option, what to pass; the values given are never echoed (they may be secrets).
 */
export function parseOptions<S extends z.ZodType>(factory: string, schema: S, options: unknown, hints: Record<string, string> = {}): z.output<S> {
  const given = options ?? {};
  if (typeof given !== 'object' || Array.isArray(given)) throw new ConfigError(`${factory} takes an options object. Fix: pass ${factory}({ ... }).`);
  const parsed = schema.safeParse(given);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues
      .map((issue) => {
        const name = issue.path.join('.');
        const hint = hints[String(issue.path[0])] ?? `pass ${name}`;
        const what = name === '' ? 'the options are' : `option ${name} is`;
        return valueAt(given, issue.path) === undefined
          ? `${factory}: ${what} missing. Fix: ${hint}.`
          : `${factory}: ${what} invalid: ${issue.message.replace(/^Invalid input: /, '')}. Fix: ${hint}.`;
      })
      .join('\n'),
  );
}

/** A ConfigError for an option that is missing (or that needs another with it). */
export function optionError(factory: string, message: string): ConfigError {
  return new ConfigError(`${factory}: ${message}`);
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let at = value;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}
