/**
 * Environment → typed, validated configuration. Each variable has a schema and a fix hint, so a
 * bad value stops start-up with one line naming the variable, the problem and the fix.
 */
import type { z } from 'zod';
import { ConfigError } from './errors.js';
import { isLoopbackHost } from './http/address.js';
import { read, settings, type Values } from './config-settings.js';
import { bool, integer, secretList, url, variables, type Variable } from './config-variables.js';
import { hideValueCredentials, rememberSecrets, urlBasicCredential, urlPassword } from './secret-values.js';

export { variables, type Variable };

/** The seed's table name, for the log when DYNAMODB_TABLE_PREFIX is set and CONVERSATION_LOG_TABLE is not. */
export const DEFAULT_CONVERSATION_LOG_TABLE = 'ai_conversations';

type Env = Record<string, string | undefined>;

export interface Config {
  port: number;
  host: string;
  publicUrl?: string;
  /** `true`: the left-most X-Forwarded-For entry; a number: that many proxies in front (see TrustProxy). */
  trustProxy: boolean | number;
  mode: 'queue' | 'direct';
  logLevel: string;
  /** `auto`: readable lines on a terminal, JSON otherwise. */
  logFormat: 'auto' | 'json' | 'pretty';
  redisUrl?: string;
  redisCacheUrl?: string;
  redisPrefix: string;
  /**
   * DynamoDB (parley/aws; the CLI builds it): the store's table is `<tablePrefix>-store`; the
   * conversation log's table is named as it is, `ai_conversations` when only the prefix is set.
   */
  dynamodb: { tablePrefix?: string; conversationLogTable?: string; conversationLogTtlSeconds?: number };
  /** Lock of a running job in the Redis queue; past it a dead worker's job is recovered. */
  queueLockMs: number;
  /** The SQS FIFO queue (parley/aws): set, the CLI puts the queue there. */
  sqsQueueUrl?: string;
  ai: {
    apiKey?: string;
    baseURL?: string;
    model: string;
    maxOutputTokens: number;
    systemPrompt: string;
    prices?: Record<string, { input: number; output: number; cachedInput?: number }>;
    attempts: number;
    initialBackoffMs: number;
    attemptTimeoutMs: number;
    deadlineMs: number;
    maxConcurrent: number;
    breakerThreshold: number;
    breakerHalfOpenAfterMs: number;
    cacheTtlSeconds: number;
    /** How long a message may wait out rate limits, an open circuit or a starting adapter. */
    maxWaitMs: number;
    /** A stand-in model (and provider) for when the primary is down or throttling. */
    fallback?: { model: string; baseURL?: string; apiKey?: string; afterMs: number };
  };
  history: { turns: number; tokenBudget: number; ttlSeconds: number };
  replies: { vision: boolean; mediaNotice: string; handoffReply: string };
  limits: { userPerMinute: number; conversationPerMinute: number; tenantPerMinute: number; aiCallsPerMinute: number };
  /** `maxMessages`: the most jobs the in-process queue holds (0: no limit); the Redis queue has none. */
  queue: { concurrency: number; attempts: number; backoffMs: number; maxMessages: number };
  directDeadlineMs: number;
  bodyLimitBytes: number;
  /** How long a request may take to arrive: its headers, then its body once parley reads it (408 past it). */
  requestTimeoutMs: number;
  shutdownTimeoutMs: number;
  /**
   * How long bot.close() keeps serving, /readyz answering 503, before the port closes (so a load
   * balancer stops sending first); SHUTDOWN_TIMEOUT_MS counts from its end.
   */
  shutdownDelayMs: number;
  web: {
    enabled?: boolean;
    token?: string;
    /**
     * Signs visitor sessions; required off loopback (on loopback a per-process one is made up).
     * Several, comma-separated, while rotating: the first signs, any verifies.
     */
    sessionSecret?: string;
    /** Origins that may embed the chat (CORS and frame-ancestors). */
    allowedOrigins: string[];
    sessionsPerIpPerMinute: number;
    requestsPerIpPerMinute: number;
  };
  /** The operator console at /console: on when `adminToken` is set. */
  console: { adminToken?: string };
  /** AI spend limits per UTC day and month, overall and per tenant, and what happens past them. */
  budget: BudgetConfig;
  alerts: AlertConfig;
  /** The raw environment, for adapters that read their own variables. */
  env: Env;
}

export interface BudgetConfig {
  dayUsd?: number;
  monthUsd?: number;
  tenantDayUsd?: number;
  tenantMonthUsd?: number;
  /** At 100%: a notice instead of the AI, the fallback model, or the AI anyway (an alert only). */
  policy: 'notice' | 'fallback' | 'allow';
  notice: string;
}

export interface AlertConfig {
  /** Where alerts are posted (Slack incoming-webhook JSON); unset, they are only logged. */
  webhookUrl?: string;
  dlqCount: number;
  dlqMinutes: number;
  breakerOpenSeconds: number;
  signatureFailuresPerMinute: number;
}

export { ConfigError } from './errors.js';

/** Read and validate the configuration; throws ConfigError with one line per bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const { values, problems } = collect(variables, env);
  // Checks across variables run beside the others: one bad value must not hide another.
  const policy = fallbackPolicyProblem(values.AI_BUDGET_POLICY, values.OPENAI_FALLBACK_MODEL);
  if (policy) problems.push(policy);
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return buildConfig(values as Values, env);
}

/**
 * The Config the variables' values make: each where `settings` puts it, then what derives from
 * others (so typed config, which gives values, derives them as the environment does).
 */
export function buildConfig(values: Values, env: Env): Config {
  const s = read(settings, values);
  const { fallback, ...ai } = s.ai;
  return {
    ...s,
    dynamodb: {
      tablePrefix: s.dynamodb.tablePrefix,
      conversationLogTable: s.dynamodb.conversationLogTable ?? (s.dynamodb.tablePrefix ? DEFAULT_CONVERSATION_LOG_TABLE : undefined),
      conversationLogTtlSeconds: s.dynamodb.conversationLogTtlSeconds,
    },
    queueLockMs: s.queueLockMs ?? s.ai.deadlineMs + 30_000,
    ai: {
      ...ai,
      ...(fallback.model
        ? {
            fallback: {
              model: fallback.model,
              baseURL: fallback.baseURL ?? ai.baseURL,
              apiKey: fallback.apiKey ?? ai.apiKey,
              afterMs: fallback.afterMs,
            },
          }
        : {}),
    },
    web: { ...s.web, allowedOrigins: s.web.allowedOrigins ?? [] },
    budget: { ...s.budget, policy: fallbackPolicyNeedsModel(s.budget.policy, fallback.model) },
    env,
  };
}

function fallbackPolicyNeedsModel<P extends BudgetConfig['policy']>(policy: P, fallbackModel: string | undefined): P {
  const problem = fallbackPolicyProblem(policy, fallbackModel);
  if (problem) throw new ConfigError(problem);
  return policy;
}

function fallbackPolicyProblem(policy: unknown, fallbackModel: unknown): string | undefined {
  if (policy !== 'fallback' || fallbackModel) return undefined;
  return 'AI_BUDGET_POLICY="fallback" needs a cheaper model to fall back to. Fix: set OPENAI_FALLBACK_MODEL (e.g. gpt-4o-mini), or set AI_BUDGET_POLICY to notice or allow.';
}

/** The environment's value for every variable (its default when unset). */
export function parseVariables(env: Env): Values {
  return parseEnv(variables, env) as Values;
}

/**
 * Parse a table of variables (the core's, or an adapter's own) from the environment. Throws a
 * ConfigError with one line per bad variable: its name, the problem and the fix.
 */
export function parseEnv<T extends Record<string, Variable>>(table: T, env: Env): { [K in keyof T]: z.output<T[K]['schema']> | undefined } {
  const { values, problems } = collect(table, env);
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return values as { [K in keyof T]: z.output<T[K]['schema']> | undefined };
}

/**
 * parseEnv's collecting form, for an adapter's checks across its variables: the values that parse,
 * one line per bad variable (returned, not thrown) and the bad variables' names. A bad variable is
 * set, not missing: a check such as "X is missing" must not fire beside X's own line.
 */
export function collectEnv<T extends Record<string, Variable>>(table: T, env: Env): { values: { [K in keyof T]: z.output<T[K]['schema']> | undefined }; problems: string[]; invalid: Set<keyof T> } {
  const { values, problems, invalid } = collect(table, env);
  return { values: values as { [K in keyof T]: z.output<T[K]['schema']> | undefined }, problems, invalid: invalid as Set<keyof T> };
}

/** The values that parse, and one line per variable that does not (left out of `values`, named in `invalid`). */
export function collect(table: Record<string, Variable>, env: Env): { values: Record<string, unknown>; problems: string[]; invalid: Set<string> } {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  const invalid = new Set<string>();
  for (const [name, variable] of Object.entries(table) as [string, Variable][]) {
    const given = env[name];
    const raw = given === undefined || given.trim() === '' ? variable.default : given;
    if (raw === undefined) continue;
    // So a third party's error quoting one is logged and stored with <hidden> in its place.
    if (variable.secret ?? SECRET_NAME.test(name)) rememberSecrets(raw);
    // A URL's credentials are sent as a Basic Authorization header (an alert webhook's).
    if (raw.includes('@')) rememberSecrets(...urlPassword(raw), ...urlBasicCredential(raw));
    // `KEY="sk-…"` in a file that keeps quotes (docker --env-file): the quotes would be read as part
    // of the key, name or number, failing later (401s, refused signatures) or with a puzzling line.
    if (!variable.text && QUOTED.test(raw.trim())) {
      problems.push(`${name}=${JSON.stringify(shown(name, variable, raw))} is wrapped in quotes, which would be read as part of the value. Fix: remove the quotes (the env file or platform keeps them); ${variable.fix}.`);
      invalid.add(name);
      continue;
    }
    const parsed = variable.schema.safeParse(raw);
    if (parsed.success) values[name] = parsed.data;
    else {
      problems.push(`${name}=${JSON.stringify(shown(name, variable, raw))} is invalid: ${describe(parsed.error)}. Fix: ${variable.fix}.`);
      invalid.add(name);
    }
  }
  return { values, problems, invalid };
}

/** A whole value in matching quotes, as a file that keeps them leaves it. */
const QUOTED = /^(["'`]).*\1$/s;

/** A name that reads as a secret's: …_TOKEN, …_SECRET, …_KEY, …_PASSWORD (not …_TOKENS, a count). */
const SECRET_NAME = /(TOKEN|SECRET|KEY|KEYS|PASSWORD)$/;

/** Shared schemas for adapters' variables. */
export const schemas = { integer, bool, url, secretList };

/**
 * Never echo a secret back, even an invalid one — nor the credentials inside a URL. parley's own
 * variables say whether they are secret (OPENAI_MAX_OUTPUT_TOKENS=0 is a count worth showing); an
 * adapter's variable that does not say is taken as secret when its name ends like one.
 */
function shown(name: string, variable: Variable, raw: string): string {
  if (variable.secret ?? SECRET_NAME.test(name)) return '<hidden>';
  // A password holding an unencoded /, #, @, comma or space is refused, and hidden too.
  return hideValueCredentials(raw);
}

function describe(error: z.ZodError): string {
  return error.issues.map((issue) => issue.message.replace(/^Invalid input: /, '')).join('; ');
}

/** True when the HTTP server only listens on loopback (the web chat needs no token then). */
export function boundToLoopback(config: Pick<Config, 'host'>): boolean {
  return isLoopbackHost(config.host);
}
