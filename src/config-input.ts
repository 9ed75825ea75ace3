/**
 * Typed configuration for code that embeds parley: any part of `Config`, merged over what the
 * environment says (or over the defaults alone, with `env: {}`), so an app need not go through
 * environment strings.
 */
import { loadConfig, type Config } from './config.js';

/** Any part of the configuration, nested objects included. */
export type ConfigInput = {
  [K in keyof Omit<Config, 'env'>]?: Config[K] extends Record<string, unknown> | undefined ? Partial<NonNullable<Config[K]>> : Config[K];
};

/** The configuration: `input` over the environment's (which also supplies every default). */
export function resolveConfig(input: ConfigInput | Config | undefined, env: Record<string, string | undefined>): Config {
  // A whole Config (from loadConfig: it carries `env`) is used as it is.
  if (input && 'env' in input) return input as Config;
  const base = loadConfig(env);
  if (!input) return base;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const current = merged[key];
    merged[key] = isPlainObject(value) && isPlainObject(current) ? { ...current, ...withoutUndefined(value) } : value;
  }
  return merged as unknown as Config;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
