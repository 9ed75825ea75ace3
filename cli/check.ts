import { APIConnectionError, APIConnectionTimeoutError, AuthenticationError } from 'openai';
import { ConfigError, ParleyError, type Adapter, type Config } from '../src/index.js';
import { splitApiKeys } from '../src/ai/keys.js';
import { openAiSdk } from '../src/ai/openai-sdk.js';
import { checkedAdapters } from '../src/bot-adapters.js';
import { misspeltMessage } from '../src/config-misspelt.js';
import { maxWaitBelowHalfOpen } from '../src/ai-wait-warning.js';
import { adaptersFromConfig, misspeltParleyVariables } from './adapters.js';
import { metricsPortError } from './worker-metrics.js';
import { workerNiceError } from './worker-nice.js';
import { checkDynamoDb, checkSqs, withoutCredentials, type CheckLine as Line } from './check-aws.js';
import { checkRedisLines } from './check-redis.js';
import { whyUnreached } from './unreached.js';
import { notFoundAtBase } from './check-base-url.js';
import { hideSecretsIn } from '../src/secret-values.js';

/** `parley check`: validate the configuration and reach what it points at. Exit 1 if anything fails. */
export async function check(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const adapters = adaptersLine(config);
  // A platform's variables are read when its adapter is built: a wrong one fails the configuration too.
  const platforms = adapters.ok === false && adapters.configError ? ["a platform's variables are not valid (see adapters below)"] : [];
  // METRICS_PORT and WORKER_NICE are read by `parley worker` only, after the rest: checked here so a worker does not refuse what check passed.
  const workerOnly = [metricsPortError(env.METRICS_PORT), workerNiceError(env.WORKER_NICE)].flatMap((error) => (error ? [error.message] : []));
  const problems = [...workerOnly, ...platforms];
  const configuration: Line = problems.length > 0 ? { ok: false, what: 'configuration', detail: problems.join('; ') } : { ok: true, what: 'configuration', detail: 'every variable is valid' };
  // A misspelt name is not read, so its setting keeps the default: a warning (the rest may be fine).
  const misspelt = misspeltParleyVariables(env).map((m): Line => ({ ok: 'warn', what: 'configuration', detail: misspeltMessage(m) }));
  // Settings valid alone that defeat each other: warnings too, as serve and worker log them.
  const shortWait = maxWaitBelowHalfOpen(config.ai);
  const lines: Line[] = [configuration, ...misspelt, ...(shortWait ? [{ ok: 'warn' as const, what: 'configuration', detail: shortWait }] : [])];
  const queue = config.sqsQueueUrl ? 'the queue on SQS' : 'the queue in memory';
  const store = config.dynamodb.tablePrefix ? 'the store on DynamoDB' : 'the store in memory';
  const local = config.sqsQueueUrl || config.dynamodb.tablePrefix ? `${queue}, ${store}` : 'in memory (set REDIS_URL to share them between processes)';
  if (!config.redisUrl) lines.push({ ok: true, what: 'store and queue', detail: local, ...unsharedStore(config) });
  lines.push(...(await checkRedisLines(config, redisShares(config))));
  lines.push(...volatileStateLines(config, adapters.built ?? []));
  // Side by side: each fails within seconds on an endpoint that never answers, not one after the other.
  const [dynamo, sqs] = await Promise.all([checkDynamoDb(config), checkSqs(config)]);
  lines.push(...dynamo, ...sqs);
  const [ai, aiFallback] = await Promise.all([checkAi(config), checkAiFallback(config)]);
  lines.push(ai, ...(aiFallback ? [aiFallback] : []));
  lines.push(adapters);
  for (const line of lines) {
    const mark = line.ok === true ? 'ok  ' : line.ok === 'warn' ? 'warn' : 'FAIL';
    console.log(`${mark}  ${line.what}: ${line.detail}`);
  }
  return lines.some((line) => line.ok === false) ? 1 : 0;
}

/** The adapters the configuration turns on; one that cannot be built (its SDK not installed...) is a FAIL line, after the others. */
function adaptersLine(config: Config): Line & { configError?: boolean; built?: Adapter[] } {
  try {
    // The checks createBot makes of them (paths taken twice, or by /healthz, /readyz, /metrics): what serve refuses, check fails.
    const built = checkedAdapters(adaptersFromConfig(config));
    const adapters = built.map((a) => a.platform);
    return { ok: adapters.length > 0 ? true : 'warn', what: 'adapters', detail: adapters.length > 0 ? adapters.join(', ') : 'none on: set a platform\'s variables or WEB_CHAT=true', built };
  } catch (error) {
    if (!(error instanceof ParleyError)) throw error;
    return { ok: false, what: 'adapters', detail: error.message, configError: error instanceof ConfigError };
  }
}

/**
 * SQS hands a message to whichever instance polls (each Lambda instance, each worker process), but
 * an in-memory store is each one's own: a warning (one process alone is fine), naming the fix.
 */
function unsharedStore(config: Config): Partial<Line> {
  if (!config.sqsQueueUrl || config.dynamodb.tablePrefix) return {};
  return {
    ok: 'warn',
    detail:
      'the queue on SQS, the store in memory: each process (each Lambda instance) keeps its own delivery claims, reply markers and attempt counts, so a reply can be posted twice. Set DYNAMODB_TABLE_PREFIX (or REDIS_URL) to share them',
  };
}

/**
 * A warning (not a failure: a one-process trial is fine) for each adapter that keeps in the store
 * what a restart must not lose (Slack's OAuth installations) while the store is in memory.
 */
function volatileStateLines(config: Config, adapters: Adapter[]): Line[] {
  if (config.redisUrl || config.dynamodb.tablePrefix) return [];
  return adapters.flatMap((adapter) =>
    adapter.lastingState ? [{ ok: 'warn' as const, what: 'store', detail: `${adapter.lastingState} are kept in memory: they will not survive a restart. Set REDIS_URL (or DYNAMODB_TABLE_PREFIX) to keep them` }] : [],
  );
}

/**
 * Reach the AI provider with each key of OPENAI_API_KEY (a comma-separated list while rotating).
 * A refused key is named by its place in the list, never by any part of it: OpenAI's 401 message
 * quotes the key's ends, so it is not printed.
 */
export async function checkAi(config: Config): Promise<Line> {
  const { apiKey, baseURL, model } = config.ai;
  return checkProvider({ fallback: false, variable: 'OPENAI_API_KEY', apiKey, baseURL, model });
}

/**
 * With OPENAI_FALLBACK_MODEL set, the fallback is reached the same way: its base URL (default
 * OPENAI_BASE_URL) with each of its keys (default OPENAI_API_KEY's), a refused one named by its
 * number under the variable that holds it. Undefined without a fallback.
 */
export async function checkAiFallback(config: Config): Promise<Line | undefined> {
  const { fallback } = config.ai;
  if (!fallback) return undefined;
  // As the bot's alerts name it: the fallback's keys are OPENAI_API_KEY's unless OPENAI_FALLBACK_API_KEY names others.
  const variable = fallback.apiKey === config.ai.apiKey ? 'OPENAI_API_KEY' : 'OPENAI_FALLBACK_API_KEY';
  return checkProvider({ fallback: true, variable, apiKey: fallback.apiKey, baseURL: fallback.baseURL, model: fallback.model });
}

interface Provider {
  fallback: boolean;
  /** The variable holding the keys: a refused key is named by its number in it. */
  variable: string;
  apiKey: string | undefined;
  baseURL: string | undefined;
  model: string;
}

async function checkProvider({ fallback, variable, apiKey, baseURL, model }: Provider): Promise<Line> {
  const what = fallback ? 'AI fallback provider' : 'AI provider';
  const keys = splitApiKeys(apiKey);
  if (keys.length === 0 && !baseURL) {
    // The primary may be left unset (replies quote the message back); a fallback model with nowhere to ask is a mistake.
    return fallback
      ? { ok: false, what, detail: `OPENAI_FALLBACK_MODEL ${model} has no provider: set OPENAI_FALLBACK_API_KEY or OPENAI_FALLBACK_BASE_URL` }
      : { ok: 'warn', what, detail: 'none configured: replies quote the message back (set OPENAI_API_KEY or OPENAI_BASE_URL)' };
  }
  // A user and password in the URL are credentials: never printed.
  const where = baseURL ? withoutCredentials(baseURL) : 'api.openai.com';
  const baseVariable = fallback ? 'OPENAI_FALLBACK_BASE_URL' : 'OPENAI_BASE_URL';
  const tries = await Promise.all((keys.length > 0 ? keys : ['not-needed']).map((key) => listModels(key, baseURL, baseVariable)));
  const named = fallback ? `${variable} ` : '';
  const refusal = (i: number) => (keys.length > 0 ? `${named}key #${i + 1} of ${keys.length} refused (401)` : `refused without a key (401): set ${variable}`);
  const refused = tries.flatMap((t, i) => (t === 'refused' ? [refusal(i)] : []));
  const models = tries.find((t): t is string[] => Array.isArray(t));
  const failed = tries.find((t): t is Error => t instanceof Error);
  const problems = [...refused, ...(failed ? [failed.message] : [])];
  if (!models) return { ok: false, what, detail: `${where}: ${problems.join('; ')}` };
  const known = models.includes(model) ? `model ${model} is available` : `reached; ${notServed(model, models, fallback)}`;
  const ok = problems.length === 0 && (models.includes(model) || models.length === 0) ? true : 'warn';
  return { ok, what, detail: [`${where}: ${known}`, ...problems].join('; ') };
}

/**
 * A model the provider does not list, with the fix: the default (gpt-4o-mini) on Ollama, vLLM or LM
 * Studio is the usual first-run case, and every reply would fail on it.
 */
function notServed(model: string, models: string[], fallback: boolean): string {
  const listed = `model ${model} is not in its list of ${models.length}`;
  if (models.length === 0) return listed;
  const some = models.slice(0, 5).join(', ') + (models.length > 5 ? ', …' : '');
  return `${listed}: set ${fallback ? 'OPENAI_FALLBACK_MODEL' : 'OPENAI_MODEL'} to one it serves (${some})`;
}

/** How long `parley check` waits for the provider's list of models. */
const AI_CHECK_TIMEOUT_MS = 10_000;

async function listModels(apiKey: string, baseURL: string | undefined, baseVariable: string): Promise<string[] | 'refused' | Error> {
  // Built as serve builds it: the same fetch reaches the same ports.
  const client = openAiSdk({ apiKey, baseURL, timeoutMs: AI_CHECK_TIMEOUT_MS });
  try {
    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    return models;
  } catch (error) {
    if (error instanceof AuthenticationError) return 'refused';
    // The SDK's "Request timed out." and "Connection error." say nothing of where or why; the socket's error (its cause) does.
    if (error instanceof APIConnectionTimeoutError) return new Error(`no answer within ${AI_CHECK_TIMEOUT_MS / 1000} s`);
    const notFound = await notFoundAtBase(error, apiKey, baseURL, baseVariable, AI_CHECK_TIMEOUT_MS);
    if (notFound) return hideSecretsIn(notFound);
    // A provider (a proxy's error page) may quote the request back, its Authorization header with it.
    return error instanceof APIConnectionError ? new Error(whyUnreached(error)) : hideSecretsIn(error as Error);
  }
}

/** What Redis holds: everything, less what DynamoDB (the store) and SQS (the queue) take over. */
function redisShares(config: Config): string {
  const parts = [config.dynamodb.tablePrefix ? undefined : 'store', config.sqsQueueUrl ? undefined : 'queue', 'limits', 'cache'].filter(Boolean);
  return `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}
