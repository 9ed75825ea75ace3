/**
 * Environment → typed, validated configuration. Each variable has a schema and a fix hint, so a
 * bad value stops start-up with one line naming the variable, the problem and the fix.
 */
import type { z } from 'zod';
import { ConfigError } from './errors.js';
import { isLoopbackHost } from './http/address.js';
import { bool, integer, url, variables, type Variable } from './config-variables.js';

export { variables, type Variable };

/** The seed's table name, for the log when DYNAMODB_TABLE_PREFIX is set and CONVERSATION_LOG_TABLE is not. */
export const DEFAULT_CONVERSATION_LOG_TABLE = 'ai_conversations';

type Env = Record<string, string | undefined>;
type Values = { [K in keyof typeof variables]: z.output<(typeof variables)[K]['schema']> | undefined };

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
  dynamodb: { tablePrefix?: string; conversationLogTable?: string };
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
    prices?: Record<string, { input: number; output: number }>;
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
  queue: { concurrency: number; attempts: number; backoffMs: number };
  directDeadlineMs: number;
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  web: {
    enabled?: boolean;
    token?: string;
    /** Signs visitor sessions; required off loopback (on loopback a per-process one is made up). */
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
  const v = parseVariables(env);
  const req = <K extends keyof Values>(key: K) => v[key] as NonNullable<Values[K]>;
  return {
    port: req('PORT'),
    host: req('HOST'),
    publicUrl: v.PUBLIC_URL,
    trustProxy: req('TRUST_PROXY'),
    mode: req('MODE'),
    logLevel: req('LOG_LEVEL'),
    logFormat: req('LOG_FORMAT'),
    redisUrl: v.REDIS_URL,
    redisCacheUrl: v.REDIS_CACHE_URL,
    redisPrefix: req('REDIS_PREFIX'),
    dynamodb: {
      tablePrefix: v.DYNAMODB_TABLE_PREFIX,
      conversationLogTable: v.CONVERSATION_LOG_TABLE ?? (v.DYNAMODB_TABLE_PREFIX ? DEFAULT_CONVERSATION_LOG_TABLE : undefined),
    },
    queueLockMs: v.QUEUE_LOCK_MS ?? req('AI_DEADLINE_MS') + 30_000,
    sqsQueueUrl: v.SQS_QUEUE_URL,
    ai: {
      apiKey: v.OPENAI_API_KEY,
      baseURL: v.OPENAI_BASE_URL,
      model: req('OPENAI_MODEL'),
      maxOutputTokens: req('OPENAI_MAX_OUTPUT_TOKENS'),
      systemPrompt: req('SYSTEM_PROMPT'),
      prices: v.AI_PRICES,
      attempts: req('AI_ATTEMPTS'),
      initialBackoffMs: req('AI_BACKOFF_MS'),
      attemptTimeoutMs: req('AI_TIMEOUT_MS'),
      deadlineMs: req('AI_DEADLINE_MS'),
      maxConcurrent: req('AI_MAX_CONCURRENT'),
      breakerThreshold: req('AI_BREAKER_THRESHOLD'),
      breakerHalfOpenAfterMs: req('AI_BREAKER_HALF_OPEN_MS'),
      cacheTtlSeconds: req('CACHE_TTL_SECONDS'),
      maxWaitMs: req('AI_MAX_WAIT_MS'),
      ...(v.OPENAI_FALLBACK_MODEL
        ? {
            fallback: {
              model: v.OPENAI_FALLBACK_MODEL,
              baseURL: v.OPENAI_FALLBACK_BASE_URL ?? v.OPENAI_BASE_URL,
              apiKey: v.OPENAI_FALLBACK_API_KEY ?? v.OPENAI_API_KEY,
              afterMs: req('AI_FALLBACK_AFTER_MS'),
            },
          }
        : {}),
    },
    replies: { vision: req('AI_VISION'), mediaNotice: req('MEDIA_NOTICE'), handoffReply: req('HANDOFF_REPLY') },
    history: { turns: req('HISTORY_TURNS'), tokenBudget: req('HISTORY_TOKEN_BUDGET'), ttlSeconds: req('HISTORY_TTL_SECONDS') },
    limits: {
      userPerMinute: req('RATE_LIMIT_USER_PER_MINUTE'),
      conversationPerMinute: req('RATE_LIMIT_CONVERSATION_PER_MINUTE'),
      tenantPerMinute: req('RATE_LIMIT_TENANT_PER_MINUTE'),
      aiCallsPerMinute: req('AI_CALLS_PER_MINUTE'),
    },
    queue: { concurrency: req('WORKER_CONCURRENCY'), attempts: req('JOB_ATTEMPTS'), backoffMs: req('JOB_BACKOFF_MS') },
    directDeadlineMs: req('DIRECT_DEADLINE_MS'),
    bodyLimitBytes: req('BODY_LIMIT_BYTES'),
    shutdownTimeoutMs: req('SHUTDOWN_TIMEOUT_MS'),
    web: {
      enabled: v.WEB_CHAT,
      token: v.WEB_TOKEN,
      sessionSecret: v.WEB_SESSION_SECRET,
      allowedOrigins: v.WEB_ALLOWED_ORIGINS ?? [],
      sessionsPerIpPerMinute: req('WEB_SESSIONS_PER_IP_PER_MINUTE'),
      requestsPerIpPerMinute: req('WEB_REQUESTS_PER_IP_PER_MINUTE'),
    },
    console: { adminToken: v.ADMIN_TOKEN },
    budget: {
      dayUsd: v.AI_BUDGET_USD_PER_DAY,
      monthUsd: v.AI_BUDGET_USD_PER_MONTH,
      tenantDayUsd: v.AI_BUDGET_USD_PER_TENANT_PER_DAY,
      tenantMonthUsd: v.AI_BUDGET_USD_PER_TENANT_PER_MONTH,
      policy: fallbackPolicyNeedsModel(req('AI_BUDGET_POLICY'), v.OPENAI_FALLBACK_MODEL),
      notice: req('AI_BUDGET_NOTICE'),
    },
    alerts: {
      webhookUrl: v.ALERT_WEBHOOK_URL,
      dlqCount: req('ALERT_DLQ_COUNT'),
      dlqMinutes: req('ALERT_DLQ_MINUTES'),
      breakerOpenSeconds: req('ALERT_BREAKER_OPEN_SECONDS'),
      signatureFailuresPerMinute: req('ALERT_SIGNATURE_FAILURES_PER_MINUTE'),
    },
    env,
  };
}

function fallbackPolicyNeedsModel<P extends BudgetConfig['policy']>(policy: P, fallbackModel: string | undefined): P {
  if (policy === 'fallback' && !fallbackModel) {
    throw new ConfigError('AI_BUDGET_POLICY="fallback" needs a cheaper model to fall back to. Fix: set OPENAI_FALLBACK_MODEL (e.g. gpt-4o-mini), or set AI_BUDGET_POLICY to notice or allow.');
  }
  return policy;
}

function parseVariables(env: Env): Values {
  return parseEnv(variables, env) as Values;
}

/**
 * Parse a table of variables (the core's, or an adapter's own) from the environment. Throws a
 * ConfigError with one line per bad variable: its name, the problem and the fix.
 */
export function parseEnv<T extends Record<string, Variable>>(table: T, env: Env): { [K in keyof T]: z.output<T[K]['schema']> | undefined } {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, variable] of Object.entries(table) as [string, Variable][]) {
    const given = env[name];
    const raw = given === undefined || given.trim() === '' ? variable.default : given;
    if (raw === undefined) continue;
    const parsed = variable.schema.safeParse(raw);
    if (parsed.success) values[name] = parsed.data;
    else problems.push(`${name}=${JSON.stringify(shown(name, raw))} is invalid: ${describe(parsed.error)}. Fix: ${variable.fix}.`);
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return values as { [K in keyof T]: z.output<T[K]['schema']> | undefined };
}

/** Shared schemas for adapters' variables. */
export const schemas = { integer, bool, url };

/** Never echo a secret back, even an invalid one — nor the credentials inside a URL. */
function shown(name: string, raw: string): string {
  if (/KEY|TOKEN|SECRET|PASSWORD/.test(name)) return '<hidden>';
  return raw.replace(/\/\/[^/@\s]*@/g, '//<hidden>@');
}

function describe(error: z.ZodError): string {
  return error.issues.map((issue) => issue.message.replace(/^Invalid input: /, '')).join('; ');
}

/** True when the HTTP server only listens on loopback (the web chat needs no token then). */
export function boundToLoopback(config: Pick<Config, 'host'>): boolean {
  return isLoopbackHost(config.host);
}
