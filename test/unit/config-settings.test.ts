/**
 * One map from variables to Config settings (src/config-settings.ts): every setting is in it, and
 * a value given as a variable or as typed `config` makes the same Config.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig, type ConfigInput } from '../../src/config-input.js';
import { VARIABLE_OF } from '../../src/config-settings.js';
import { loadConfig, variables, type Config } from '../../src/config.js';

/** The dotted path of every setting a Config holds (`ai.prices` is one setting, a table). */
function leaves(value: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, child]) =>
    typeof child === 'object' && child !== null && !Array.isArray(child) && prefix + key !== 'ai.prices'
      ? leaves(child as Record<string, unknown>, `${prefix}${key}.`)
      : [prefix + key],
  );
}

/** `{ a: { b: value } }` for `a.b`. */
function nested(path: string, value: unknown): ConfigInput {
  return path
    .split('.')
    .reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as ConfigInput;
}

function withoutEnv(config: Config): Omit<Config, 'env'> {
  const { env: _env, ...rest } = config;
  return rest;
}

describe('the map from variables to Config settings', () => {
  it('names the variable of every setting a Config holds, and each variable once', () => {
    // Every optional part present: a fallback model and AI prices.
    const config = loadConfig({ OPENAI_FALLBACK_MODEL: 'gpt-4o-mini', AI_PRICES: '{"m":{"input":1,"output":2}}' });
    const settings = leaves(withoutEnv(config)).sort();
    expect(Object.keys(VARIABLE_OF).sort()).toEqual(settings);
    expect(Object.values(VARIABLE_OF).sort()).toEqual(Object.keys(variables).sort());
  });

  // Each: a setting, its value as typed config, and the same value as its variable's text.
  it.each<[string, unknown, string]>([
    ['port', 8080, '8080'],
    ['trustProxy', true, 'true'],
    ['mode', 'direct', 'direct'],
    ['queue.attempts', 5, '5'],
    ['queue.backoffMs', 0, '0'],
    ['history.turns', 4, '4'],
    ['ai.attempts', 2, '2'],
    ['ai.prices', { m: { input: 0.5, output: 1.5 } }, '{"m":{"input":0.5,"output":1.5}}'],
    ['web.allowedOrigins', ['https://Shop.Example:443/', 'http://a.example:8080'], 'https://Shop.Example:443/,http://a.example:8080'],
    ['web.enabled', false, 'false'],
    ['budget.dayUsd', 2.5, '2.5'],
    ['alerts.dlqCount', 3, '3'],
  ])('%s: typed config and its variable make the same Config', (path, typed, text) => {
    const variable = VARIABLE_OF[path]!;
    expect(withoutEnv(resolveConfig(nested(path, typed), {}))).toEqual(withoutEnv(loadConfig({ [variable]: text })));
  });

  // What derives from a setting follows it whichever way it is given (typed config used to leave
  // these at what the environment alone derived).
  it.each<[string, ConfigInput, Record<string, string>, Record<string, string>]>([
    ['the queue lock follows the AI deadline', { ai: { deadlineMs: 300_000 } }, {}, { AI_DEADLINE_MS: '300000' }],
    ['the conversation log table follows the DynamoDB prefix', { dynamodb: { tablePrefix: 'shop' } }, {}, { DYNAMODB_TABLE_PREFIX: 'shop' }],
    [
      'a fallback model gets its wait, base URL and key',
      { ai: { baseURL: 'http://llm.example/v1', apiKey: 'sk-primary', fallback: { model: 'small' } } },
      {},
      { OPENAI_BASE_URL: 'http://llm.example/v1', OPENAI_API_KEY: 'sk-primary', OPENAI_FALLBACK_MODEL: 'small' },
    ],
    ['the fallback from the environment uses the typed base URL', { ai: { baseURL: 'http://llm.example/v1' } }, { OPENAI_FALLBACK_MODEL: 'small' }, { OPENAI_BASE_URL: 'http://llm.example/v1', OPENAI_FALLBACK_MODEL: 'small' }],
    ['a typed fallback model lets the environment ask for the fallback policy', { ai: { fallback: { model: 'small' } } }, { AI_BUDGET_POLICY: 'fallback' }, { AI_BUDGET_POLICY: 'fallback', OPENAI_FALLBACK_MODEL: 'small' }],
  ])('%s', (_name, typed, env, same) => {
    expect(withoutEnv(resolveConfig(typed, env))).toEqual(withoutEnv(loadConfig(same)));
  });
});
