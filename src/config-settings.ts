/**
 * Where each environment variable lands in `Config`: the one map both ways of configuring read.
 * loadConfig builds the Config from it, and typed `config` is checked through it (a setting by
 * its variable's rule). A new variable goes in `variables` and here, and nowhere else.
 */
import type { z } from 'zod';
import { variables } from './config-variables.js';

type Variables = typeof variables;
export type VariableName = keyof Variables;

/** A variable's parsed value: never undefined when it has a default. */
export type Values = {
  [K in VariableName]: z.output<Variables[K]['schema']> | (Variables[K] extends { default: string } ? never : undefined);
};

type Tree = { readonly [key: string]: VariableName | Tree };

/** Config's shape, each setting naming its variable, in Config's order. */
export const settings = {
  port: 'PORT',
  host: 'HOST',
  publicUrl: 'PUBLIC_URL',
  trustProxy: 'TRUST_PROXY',
  mode: 'MODE',
  logLevel: 'LOG_LEVEL',
  logFormat: 'LOG_FORMAT',
  redisUrl: 'REDIS_URL',
  redisCacheUrl: 'REDIS_CACHE_URL',
  redisPrefix: 'REDIS_PREFIX',
  dynamodb: { tablePrefix: 'DYNAMODB_TABLE_PREFIX', conversationLogTable: 'CONVERSATION_LOG_TABLE', conversationLogTtlSeconds: 'CONVERSATION_LOG_TTL_SECONDS' },
  queueLockMs: 'QUEUE_LOCK_MS',
  sqsQueueUrl: 'SQS_QUEUE_URL',
  ai: {
    apiKey: 'OPENAI_API_KEY',
    baseURL: 'OPENAI_BASE_URL',
    model: 'OPENAI_MODEL',
    maxOutputTokens: 'OPENAI_MAX_OUTPUT_TOKENS',
    systemPrompt: 'SYSTEM_PROMPT',
    prices: 'AI_PRICES',
    attempts: 'AI_ATTEMPTS',
    initialBackoffMs: 'AI_BACKOFF_MS',
    attemptTimeoutMs: 'AI_TIMEOUT_MS',
    deadlineMs: 'AI_DEADLINE_MS',
    maxConcurrent: 'AI_MAX_CONCURRENT',
    breakerThreshold: 'AI_BREAKER_THRESHOLD',
    breakerHalfOpenAfterMs: 'AI_BREAKER_HALF_OPEN_MS',
    cacheTtlSeconds: 'CACHE_TTL_SECONDS',
    maxWaitMs: 'AI_MAX_WAIT_MS',
    fallback: { model: 'OPENAI_FALLBACK_MODEL', baseURL: 'OPENAI_FALLBACK_BASE_URL', apiKey: 'OPENAI_FALLBACK_API_KEY', afterMs: 'AI_FALLBACK_AFTER_MS' },
  },
  replies: { vision: 'AI_VISION', mediaNotice: 'MEDIA_NOTICE', handoffReply: 'HANDOFF_REPLY' },
  history: { turns: 'HISTORY_TURNS', tokenBudget: 'HISTORY_TOKEN_BUDGET', ttlSeconds: 'HISTORY_TTL_SECONDS' },
  limits: {
    userPerMinute: 'RATE_LIMIT_USER_PER_MINUTE',
    conversationPerMinute: 'RATE_LIMIT_CONVERSATION_PER_MINUTE',
    tenantPerMinute: 'RATE_LIMIT_TENANT_PER_MINUTE',
    aiCallsPerMinute: 'AI_CALLS_PER_MINUTE',
  },
  queue: { concurrency: 'WORKER_CONCURRENCY', attempts: 'JOB_ATTEMPTS', backoffMs: 'JOB_BACKOFF_MS', maxMessages: 'QUEUE_MAX_MESSAGES' },
  directDeadlineMs: 'DIRECT_DEADLINE_MS',
  bodyLimitBytes: 'BODY_LIMIT_BYTES',
  requestTimeoutMs: 'REQUEST_TIMEOUT_MS',
  shutdownTimeoutMs: 'SHUTDOWN_TIMEOUT_MS',
  shutdownDelayMs: 'SHUTDOWN_DELAY_MS',
  web: {
    enabled: 'WEB_CHAT',
    token: 'WEB_TOKEN',
    sessionSecret: 'WEB_SESSION_SECRET',
    allowedOrigins: 'WEB_ALLOWED_ORIGINS',
    sessionsPerIpPerMinute: 'WEB_SESSIONS_PER_IP_PER_MINUTE',
    requestsPerIpPerMinute: 'WEB_REQUESTS_PER_IP_PER_MINUTE',
  },
  console: { adminToken: 'ADMIN_TOKEN' },
  budget: {
    dayUsd: 'AI_BUDGET_USD_PER_DAY',
    monthUsd: 'AI_BUDGET_USD_PER_MONTH',
    tenantDayUsd: 'AI_BUDGET_USD_PER_TENANT_PER_DAY',
    tenantMonthUsd: 'AI_BUDGET_USD_PER_TENANT_PER_MONTH',
    policy: 'AI_BUDGET_POLICY',
    notice: 'AI_BUDGET_NOTICE',
  },
  alerts: {
    webhookUrl: 'ALERT_WEBHOOK_URL',
    dlqCount: 'ALERT_DLQ_COUNT',
    dlqMinutes: 'ALERT_DLQ_MINUTES',
    breakerOpenSeconds: 'ALERT_BREAKER_OPEN_SECONDS',
    signatureFailuresPerMinute: 'ALERT_SIGNATURE_FAILURES_PER_MINUTE',
  },
} as const satisfies Tree;

type Leaves<T> = { [K in keyof T]: T[K] extends VariableName ? T[K] : Leaves<T[K]> }[keyof T];
/** Every variable lands somewhere: a variable missing from `settings` fails to compile here. */
export type Unplaced = Exclude<VariableName, Leaves<typeof settings>>;
const _everyVariablePlaced: [Unplaced] extends [never] ? true : Unplaced = true;

/** `settings` with each variable replaced by its value. */
export type Read<T> = { -readonly [K in keyof T]: T[K] extends VariableName ? Values[T[K]] : Read<T[K]> };

/** The values, placed where `settings` puts them (every key present, undefined when unset). */
export function read<T extends Tree>(tree: T, values: Partial<Values>): Read<T> {
  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(tree)) out[key] = typeof node === 'string' ? values[node as VariableName] : read(node, values);
  return out as Read<T>;
}

/** Each setting's dotted path (`queue.attempts`) and its variable (`JOB_ATTEMPTS`). */
export const VARIABLE_OF: Readonly<Record<string, VariableName>> = Object.fromEntries(paths(settings));

function paths(tree: Tree, prefix = ''): [string, VariableName][] {
  return Object.entries(tree).flatMap(([key, node]) => (typeof node === 'string' ? [[prefix + key, node]] : paths(node, `${prefix}${key}.`)));
}
