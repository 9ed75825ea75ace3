/**
 * Typed configuration for code that embeds parley: any part of `Config`, merged over what the
 * environment says (or over the defaults alone, with `env: {}`), so an app need not go through
 * environment strings. What it gives is checked by the same rules as the environment variables.
 */
import { loadConfig, type Config } from './config.js';
import { VARIABLE_OF } from './config-settings.js';
import { variables } from './config-variables.js';
import { ConfigError } from './errors.js';

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
  const checked = checkInput(input);
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(checked)) {
    if (value === undefined) continue;
    const current = merged[key];
    merged[key] = isPlainObject(value) && isPlainObject(current) ? { ...current, ...withoutUndefined(value) } : value;
  }
  const config = merged as unknown as Config;
  if (config.budget.policy === 'fallback' && !config.ai.fallback?.model) {
    throw new ConfigError('config.budget.policy "fallback" needs a cheaper model to fall back to. Fix: set config.ai.fallback (or OPENAI_FALLBACK_MODEL), or set config.budget.policy to notice or allow.');
  }
  return config;
}

/**
 * Each setting given, through its variable's schema (as the text the variable would hold), so it
 * is refused or read exactly as that variable would be; values are never echoed (secrets).
 */
function checkInput(input: Record<string, unknown>, prefix = '', problems: string[] = []): Record<string, unknown> {
  const checked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const path = prefix + key;
    checked[key] = value;
    if (value === undefined) continue;
    const name = VARIABLE_OF[path];
    if (!name) {
      if (isPlainObject(value)) checked[key] = checkInput(value, `${path}.`, problems);
      continue;
    }
    const variable = variables[name];
    const parsed = variable.schema.safeParse(asText(value));
    if (parsed.success) checked[key] = parsed.data;
    else problems.push(`config.${path} is invalid: ${parsed.error.issues.map((i) => i.message.replace(/^Invalid input: /, '')).join('; ')}. Fix: as for ${name}, ${variable.fix}.`);
  }
  if (prefix === '' && problems.length > 0) throw new ConfigError(problems.join('\n'));
  return checked;
}

function asText(value: unknown): unknown {
  if (Array.isArray(value)) return value.join(',');
  if (isPlainObject(value)) return JSON.stringify(value);
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
