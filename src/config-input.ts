/**
 * Typed configuration for code that embeds parley: any part of `Config`, merged over what the
 * environment says (or over the defaults alone, with `env: {}`), so an app need not go through
 * environment strings. What it gives is checked by the same rules as the environment variables.
 */
import { buildConfig, loadConfig, parseVariables, type Config } from './config.js';
import { VARIABLE_OF, type Values } from './config-settings.js';
import { variables } from './config-variables.js';
import { ConfigError } from './errors.js';

/** Any part of the configuration, nested objects included (the AI fallback's too: its unset parts default as its variables do). */
export type ConfigInput = {
  [K in keyof Omit<Config, 'env' | 'ai'>]?: (Config[K] extends Record<string, unknown> | undefined ? Unset<NonNullable<Config[K]>> : Config[K]) | undefined;
} & { ai?: (Unset<Omit<Config['ai'], 'fallback'>> & { fallback?: Unset<NonNullable<Config['ai']['fallback']>> | undefined }) | undefined };

/** Each part optional, and `undefined` as left out (`apiKey: process.env.MY_KEY` under `exactOptionalPropertyTypes`). */
type Unset<T> = { [K in keyof T]?: T[K] | undefined };

/**
 * The configuration: `input` over the environment's (which also supplies every default). Each
 * setting given replaces its variable's value, and the Config is built from the values as
 * loadConfig builds it, so what derives from a setting (QUEUE_LOCK_MS from AI_DEADLINE_MS, the
 * fallback's base URL, key and wait, the conversation log's table) follows it either way.
 */
export function resolveConfig(input: ConfigInput | Config | undefined, env: Record<string, string | undefined>): Config {
  // A whole Config (from loadConfig: it carries `env`) is used as it is.
  if (input && 'env' in input) return input as Config;
  if (!input) return loadConfig(env);
  const fromEnv = parseVariables(env);
  const given = checkInput(input);
  const values = { ...fromEnv, ...given } as Values;
  if (given.AI_BUDGET_POLICY === 'fallback' && !values.OPENAI_FALLBACK_MODEL) {
    throw new ConfigError('config.budget.policy "fallback" needs a cheaper model to fall back to. Fix: set config.ai.fallback (or OPENAI_FALLBACK_MODEL), or set config.budget.policy to notice or allow.');
  }
  return buildConfig(values, env);
}

/**
 * Each setting given, through its variable's schema (as the text the variable would hold), so it
 * is refused or read exactly as that variable would be; values are never echoed (secrets).
 * Returns the values by variable.
 */
function checkInput(input: Record<string, unknown>, prefix = '', given: Partial<Values> = {}, problems: string[] = []): Partial<Values> {
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const path = prefix + key;
    const name = VARIABLE_OF[path];
    if (!name) {
      // A section (`ai`, `queue`) is read key by key; anything else is a slip (`redisURL`) that would be ignored.
      if (isPlainObject(value) && SECTIONS.has(path)) checkInput(value, `${path}.`, given, problems);
      else problems.push(`config.${path} is not a setting. Fix: check its spelling (settings: ${settingsNear(prefix)}).`);
      continue;
    }
    const variable = variables[name];
    const parsed = variable.schema.safeParse(asText(value));
    if (parsed.success) (given as Record<string, unknown>)[name] = parsed.data;
    else problems.push(`config.${path} is invalid: ${parsed.error.issues.map((i) => i.message.replace(/^Invalid input: /, '')).join('; ')}. Fix: as for ${name}, ${variable.fix}.`);
  }
  if (prefix === '' && problems.length > 0) throw new ConfigError(problems.join('\n'));
  return given;
}

/** The dotted paths that hold settings (`ai`, `ai.fallback`, `queue`…). */
const SECTIONS = new Set(Object.keys(VARIABLE_OF).flatMap((path) => path.split('.').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('.'))));

/** The settings beside a slip, so its message shows the right spelling. */
function settingsNear(prefix: string): string {
  return [...new Set(Object.keys(VARIABLE_OF).filter((path) => path.startsWith(prefix)).map((path) => path.slice(prefix.length).split('.')[0]))].join(', ');
}

function asText(value: unknown): unknown {
  if (Array.isArray(value)) return value.join(',');
  if (isPlainObject(value)) return JSON.stringify(value);
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
