/**
 * Typed configuration for code that embeds parley: any part of `Config`, merged over what the
 * environment says (or over the defaults alone, with `env: {}`), so an app need not go through
 * environment strings. What it gives is checked by the same rules as the environment variables.
 */
import { loadConfig, type Config } from './config.js';
import { variables } from './config-variables.js';
import { ConfigError } from './errors.js';

/** Any part of the configuration, nested objects included. */
export type ConfigInput = {
  [K in keyof Omit<Config, 'env'>]?: Config[K] extends Record<string, unknown> | undefined ? Partial<NonNullable<Config[K]>> : Config[K];
};

/** Each setting of `Config` and the variable whose rule (schema and fix) it shares. */
const VARIABLE_OF: Record<string, keyof typeof variables> = {
  port: 'PORT', host: 'HOST', publicUrl: 'PUBLIC_URL', trustProxy: 'TRUST_PROXY', mode: 'MODE', logLevel: 'LOG_LEVEL', logFormat: 'LOG_FORMAT',
  redisUrl: 'REDIS_URL', redisCacheUrl: 'REDIS_CACHE_URL', redisPrefix: 'REDIS_PREFIX',
  'dynamodb.tablePrefix': 'DYNAMODB_TABLE_PREFIX', 'dynamodb.conversationLogTable': 'CONVERSATION_LOG_TABLE', queueLockMs: 'QUEUE_LOCK_MS', sqsQueueUrl: 'SQS_QUEUE_URL',
  'ai.apiKey': 'OPENAI_API_KEY', 'ai.baseURL': 'OPENAI_BASE_URL', 'ai.model': 'OPENAI_MODEL', 'ai.maxOutputTokens': 'OPENAI_MAX_OUTPUT_TOKENS', 'ai.systemPrompt': 'SYSTEM_PROMPT',
  'ai.prices': 'AI_PRICES', 'ai.attempts': 'AI_ATTEMPTS', 'ai.initialBackoffMs': 'AI_BACKOFF_MS', 'ai.attemptTimeoutMs': 'AI_TIMEOUT_MS', 'ai.deadlineMs': 'AI_DEADLINE_MS',
  'ai.maxConcurrent': 'AI_MAX_CONCURRENT', 'ai.breakerThreshold': 'AI_BREAKER_THRESHOLD', 'ai.breakerHalfOpenAfterMs': 'AI_BREAKER_HALF_OPEN_MS', 'ai.cacheTtlSeconds': 'CACHE_TTL_SECONDS',
  'ai.maxWaitMs': 'AI_MAX_WAIT_MS', 'ai.fallback.model': 'OPENAI_FALLBACK_MODEL', 'ai.fallback.baseURL': 'OPENAI_FALLBACK_BASE_URL', 'ai.fallback.apiKey': 'OPENAI_FALLBACK_API_KEY', 'ai.fallback.afterMs': 'AI_FALLBACK_AFTER_MS',
  'history.turns': 'HISTORY_TURNS', 'history.tokenBudget': 'HISTORY_TOKEN_BUDGET', 'history.ttlSeconds': 'HISTORY_TTL_SECONDS',
  'replies.vision': 'AI_VISION', 'replies.mediaNotice': 'MEDIA_NOTICE', 'replies.handoffReply': 'HANDOFF_REPLY',
  'limits.userPerMinute': 'RATE_LIMIT_USER_PER_MINUTE', 'limits.conversationPerMinute': 'RATE_LIMIT_CONVERSATION_PER_MINUTE', 'limits.tenantPerMinute': 'RATE_LIMIT_TENANT_PER_MINUTE', 'limits.aiCallsPerMinute': 'AI_CALLS_PER_MINUTE',
  'queue.concurrency': 'WORKER_CONCURRENCY', 'queue.attempts': 'JOB_ATTEMPTS', 'queue.backoffMs': 'JOB_BACKOFF_MS',
  directDeadlineMs: 'DIRECT_DEADLINE_MS', bodyLimitBytes: 'BODY_LIMIT_BYTES', shutdownTimeoutMs: 'SHUTDOWN_TIMEOUT_MS',
  'web.enabled': 'WEB_CHAT', 'web.token': 'WEB_TOKEN', 'web.sessionSecret': 'WEB_SESSION_SECRET', 'web.allowedOrigins': 'WEB_ALLOWED_ORIGINS',
  'web.sessionsPerIpPerMinute': 'WEB_SESSIONS_PER_IP_PER_MINUTE', 'web.requestsPerIpPerMinute': 'WEB_REQUESTS_PER_IP_PER_MINUTE', 'console.adminToken': 'ADMIN_TOKEN',
  'budget.dayUsd': 'AI_BUDGET_USD_PER_DAY', 'budget.monthUsd': 'AI_BUDGET_USD_PER_MONTH', 'budget.tenantDayUsd': 'AI_BUDGET_USD_PER_TENANT_PER_DAY',
  'budget.tenantMonthUsd': 'AI_BUDGET_USD_PER_TENANT_PER_MONTH', 'budget.policy': 'AI_BUDGET_POLICY', 'budget.notice': 'AI_BUDGET_NOTICE',
  'alerts.webhookUrl': 'ALERT_WEBHOOK_URL', 'alerts.dlqCount': 'ALERT_DLQ_COUNT', 'alerts.dlqMinutes': 'ALERT_DLQ_MINUTES',
  'alerts.breakerOpenSeconds': 'ALERT_BREAKER_OPEN_SECONDS', 'alerts.signatureFailuresPerMinute': 'ALERT_SIGNATURE_FAILURES_PER_MINUTE',
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
