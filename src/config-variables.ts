/**
 * Every environment variable parley's core reads: its schema, its default and the fix to print
 * when it is wrong. config.ts turns them into the typed Config.
 */
import { z } from 'zod';
import { parseRedisUrl, UNREADABLE } from './store/redis-connection.js';
import { hidePartOfValue } from './secret-values.js';

const NOT_WHOLE = 'expected a whole number in decimal digits';
/** A whole number written in decimal digits (`0x1824`, `1e3` and `` are not taken for one, as Number() would). */
export const integer = (min: number, max: number) =>
  z.preprocess(
    (value) => (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value),
    // Not "expected number, received string": `3000.5` and `1e3` are numbers, just not whole ones in digits.
    // The schema's own error covers only the type: a whole number out of range says so (`Too small: …`).
    z.number({ error: (issue) => (issue.code === 'invalid_type' ? NOT_WHOLE : undefined) }).int({ error: NOT_WHOLE }).min(min).max(max),
  );
/** A number written in decimal (`12`, `0.5`, `.5`): `0x10`, `1e3` and `Infinity` are not taken for one, as Number() would. */
export const decimal = z.preprocess(
  (value) => (typeof value === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)\s*$/.test(value) ? Number(value) : value),
  z.number({ error: 'expected a number in decimal digits, e.g. 20 or 0.5' }),
);
/** One of `values`, whatever its case and surrounding spaces (`MODE=Queue`, `LOG_LEVEL=INFO`), as the flags are read. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.string().trim().toLowerCase().pipe(z.enum(values));
}
export const bool = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']))
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));
/**
 * TRUST_PROXY: a boolean (`true`: the left-most X-Forwarded-For entry is the client), or how many
 * proxies stand in front (Express's hop count: the client is that many entries from the right).
 * `0` is false; `1` is one proxy.
 */
const trustProxy = z
  .string()
  .trim()
  .toLowerCase()
  .transform((value, ctx): boolean | number => {
    if (/^\d+$/.test(value)) return Number(value) === 0 ? false : Number(value);
    if (['true', 'yes', 'on'].includes(value)) return true;
    if (['false', 'no', 'off'].includes(value)) return false;
    ctx.addIssue({ code: 'custom', message: 'expected true, false or the number of proxies in front (1, 2, …)' });
    return z.NEVER;
  });
export const url = z.url({ protocol: /^https?$/ });
// The openai SDK adds /chat/completions after the base: a query there (Azure's classic ?api-version=) would swallow it.
const aiBaseUrl = url.refine((value) => !/[?#]/.test(value), 'a base without a query (?…): /chat/completions is added after it (for Azure OpenAI, https://<resource>.openai.azure.com/openai/v1)');
const redisUrl = z.string().superRefine((value, ctx) => {
  try {
    parseRedisUrl(value);
  } catch {
    // The value itself is shown (credentials hidden) by the configuration error, never here.
    const known = /^(rediss?|rediss?\+sentinel|rediss?\+cluster):\/\//.test(value);
    ctx.addIssue({ code: 'custom', message: known ? `expected ${UNREADABLE}` : 'expected redis://, rediss://, redis+sentinel:// or redis+cluster://' });
  }
});
/** DynamoDB's table name characters (the length limits are the variables' own). */
const tableName = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _, - and . only');
/**
 * Comma-separated origins (scheme://host[:port]), e.g. for CORS and frame-ancestors, as a browser
 * sends them in `Origin`: lower case, no default port, an international host in punycode.
 * Anything a browser could never send (a wildcard, a user, a path) is refused, not dropped.
 */
const origins = z.string().transform((text, ctx) => {
  const list: string[] = [];
  let from = 0;
  for (const item of text.split(',')) {
    const to = from + item.length;
    const given = item.trim().replace(/\/+$/, '');
    const problem = given ? originProblem(given) : undefined;
    // A user name or password is not repeated in the error, even one holding a comma (over two items).
    if (problem) ctx.addIssue({ code: 'custom', message: `${hidePartOfValue(text, from, to).trim().replace(/\/+$/, '')} ${problem}` });
    else if (given) list.push(new URL(given).origin);
    from = to + 1;
  }
  return list;
});

function originProblem(given: string): string | undefined {
  if (given.includes('*')) return 'has a wildcard (list each site)';
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'is not http(s)';
  if (url.username || url.password) return 'has a user name or password';
  if (url.pathname !== '/' || url.search || url.hash || /^https?:\/\/[^/]*[/?#]/i.test(given)) return 'has a path, query or fragment';
  return undefined;
}
/**
 * One secret, or several comma-separated while rotating (WEB_SESSION_SECRET, the platforms'
 * signing secrets and tokens): each must be `min`+ characters, checked one by one, since the
 * list's whole length says nothing of a short one in it. A problem names the secret by its place,
 * never its value. Kept as a string, the secrets trimmed and joined by commas.
 */
export const secretList = (min: number) =>
  z.string().transform((text, ctx) => {
    const secrets = text.split(',').map((secret) => secret.trim()).filter(Boolean);
    if (secrets.length === 0) ctx.addIssue({ code: 'custom', message: 'holds no secret' });
    secrets.forEach((secret, i) => {
      const which = secrets.length === 1 ? 'the secret' : `secret ${i + 1} of ${secrets.length}`;
      if (secret.length < min) ctx.addIssue({ code: 'custom', message: `${which} has ${secret.length} characters, expected at least ${min}` });
    });
    return secrets.join(',');
  });
/**
 * An amount of US dollars, `0` included: a budget of $0 stops AI calls from the first message, as
 * the console's `0` does (README, Budgets: the one that holds in a process that never read the
 * console's limits).
 */
const usd = decimal.pipe(z.number().min(0).finite());
const priceTable = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string(), z.object({ input: z.number().min(0), output: z.number().min(0), cachedInput: z.number().min(0).optional() })));

/** One environment variable: how to parse it, its default, and the fix to print when it is wrong. */
export interface Variable {
  schema: z.ZodType;
  default?: string;
  fix: string;
  /** A key, token, password or secret URL: its value is never echoed back, even an invalid one. */
  secret?: boolean;
  /** Free text (a prompt, a reply): quotes around it may be meant, so they are kept, not refused. */
  text?: boolean;
}

/**
 * Every variable parley reads, in README order. Names (HOST, the models) are trimmed: a stray space
 * from an env file or a shell would otherwise fail at listen time or on every AI call.
 */
export const variables = {
  PORT: { schema: integer(0, 65535), default: '3000', fix: 'set PORT to a free TCP port, e.g. PORT=3000' },
  HOST: { schema: z.string().trim().min(1), default: '127.0.0.1', fix: 'set HOST to an interface address, e.g. HOST=127.0.0.1 or HOST=0.0.0.0' },
  PUBLIC_URL: { schema: url, fix: 'set PUBLIC_URL to the https URL the platforms call, e.g. PUBLIC_URL=https://bot.example.com' },
  TRUST_PROXY: {
    schema: trustProxy,
    default: 'false',
    fix: 'set TRUST_PROXY to the number of proxies in front when they append to X-Forwarded-For (nginx $proxy_add_x_forwarded_for, AWS ALB), e.g. TRUST_PROXY=1; true when the one proxy replaces it; otherwise false',
  },
  MODE: { schema: oneOf(['queue', 'direct']), default: 'queue', fix: 'set MODE=queue (acknowledge, then answer) or MODE=direct (answer inside the request)' },
  LOG_FORMAT: { schema: oneOf(['auto', 'json', 'pretty']), default: 'auto', fix: 'set LOG_FORMAT to auto (readable lines on a terminal, JSON otherwise), json or pretty' },
  LOG_LEVEL: { schema: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), default: 'info', fix: 'set LOG_LEVEL to one of fatal, error, warn, info, debug, trace, silent' },
  REDIS_URL: { schema: redisUrl, fix: 'set REDIS_URL like redis://127.0.0.1:6379 (or redis+sentinel://host:26379/mymaster, redis+cluster://host:6379,host:6380), or unset it to keep everything in memory' },
  REDIS_CACHE_URL: { schema: redisUrl, fix: 'set REDIS_CACHE_URL to a Redis for the response cache (may evict), or unset it to use REDIS_URL' },
  REDIS_PREFIX: { schema: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'), default: 'parley', fix: 'set REDIS_PREFIX to a short name, e.g. parley' },
  DYNAMODB_TABLE_PREFIX: { schema: tableName.max(200), fix: 'set DYNAMODB_TABLE_PREFIX to a short name for the store\'s table (<prefix>-store), e.g. DYNAMODB_TABLE_PREFIX=parley, or unset it' },
  CONVERSATION_LOG_TABLE: { schema: tableName.min(3), fix: 'set CONVERSATION_LOG_TABLE to the DynamoDB table for the conversation log, e.g. ai_conversations, or unset it' },
  CONVERSATION_LOG_TTL_SECONDS: { schema: integer(1, 315_360_000), fix: 'set CONVERSATION_LOG_TTL_SECONDS to how long a DynamoDB conversation log row is kept, in seconds (e.g. 31536000 for a year), or unset it to keep every row' },
  QUEUE_LOCK_MS: { schema: integer(1000, 3_600_000), fix: 'set QUEUE_LOCK_MS to how long a dead worker holds a job before it is recovered, in milliseconds (default: AI_DEADLINE_MS + 30000)' },
  SQS_QUEUE_URL: { schema: url, fix: 'set SQS_QUEUE_URL to the FIFO queue\'s URL, e.g. https://sqs.us-east-1.amazonaws.com/123456789012/parley.fifo (its redrive queue holds the dead letters), or unset it' },
  OPENAI_API_KEY: { secret: true, schema: z.string().trim().min(1), fix: 'set OPENAI_API_KEY to your provider key, or unset it' },
  OPENAI_BASE_URL: { schema: aiBaseUrl, fix: 'set OPENAI_BASE_URL to an OpenAI-compatible API base, e.g. http://127.0.0.1:11434/v1' },
  OPENAI_MODEL: { schema: z.string().trim().min(1), default: 'gpt-4o-mini', fix: 'set OPENAI_MODEL to a model name, e.g. gpt-4o-mini' },
  OPENAI_MAX_OUTPUT_TOKENS: { schema: integer(1, 1_000_000), default: '1024', fix: 'set OPENAI_MAX_OUTPUT_TOKENS to a positive whole number, e.g. 1024' },
  SYSTEM_PROMPT: { text: true, schema: z.string(), default: 'You are a helpful, concise assistant.', fix: 'set SYSTEM_PROMPT to the instructions for the model' },
  AI_PRICES: { schema: priceTable, fix: 'set AI_PRICES to JSON of USD per million tokens, e.g. {"my-model":{"input":0.5,"output":1.5}}' },
  AI_ATTEMPTS: { schema: integer(1, 20), default: '4', fix: 'set AI_ATTEMPTS to the tries per AI call, 1 to 20' },
  AI_BACKOFF_MS: { schema: integer(0, 600_000), default: '500', fix: 'set AI_BACKOFF_MS to the first retry delay in milliseconds, e.g. 500' },
  AI_TIMEOUT_MS: { schema: integer(100, 600_000), default: '30000', fix: 'set AI_TIMEOUT_MS to the per-attempt timeout in milliseconds, e.g. 30000' },
  AI_DEADLINE_MS: { schema: integer(100, 3_600_000), default: '90000', fix: 'set AI_DEADLINE_MS to the overall AI deadline in milliseconds, e.g. 90000' },
  AI_MAX_CONCURRENT: { schema: integer(1, 10_000), default: '8', fix: 'set AI_MAX_CONCURRENT to the most AI calls at once, e.g. 8' },
  AI_BREAKER_THRESHOLD: { schema: integer(1, 1000), default: '5', fix: 'set AI_BREAKER_THRESHOLD to consecutive failures that open the circuit, e.g. 5' },
  AI_BREAKER_HALF_OPEN_MS: { schema: integer(1, 3_600_000), default: '30000', fix: 'set AI_BREAKER_HALF_OPEN_MS to the wait before probing a failed provider, e.g. 30000' },
  AI_MAX_WAIT_MS: { schema: integer(1000, 7 * 24 * 3_600_000), default: '600000', fix: 'set AI_MAX_WAIT_MS to how long a message may wait out rate limits or an outage before the apology, in milliseconds, e.g. 600000' },
  OPENAI_FALLBACK_MODEL: { schema: z.string().trim().min(1), fix: 'set OPENAI_FALLBACK_MODEL to a model that answers while the primary is down or throttling, e.g. gpt-4o-mini, or unset it' },
  OPENAI_FALLBACK_BASE_URL: { schema: aiBaseUrl, fix: 'set OPENAI_FALLBACK_BASE_URL to the fallback provider\'s OpenAI-compatible API base (default: OPENAI_BASE_URL)' },
  OPENAI_FALLBACK_API_KEY: { secret: true, schema: z.string().trim().min(1), fix: 'set OPENAI_FALLBACK_API_KEY to the fallback provider\'s key (default: OPENAI_API_KEY)' },
  AI_FALLBACK_AFTER_MS: { schema: integer(0, 3_600_000), default: '30000', fix: 'set AI_FALLBACK_AFTER_MS to how long the primary may throttle before the fallback answers, in milliseconds, e.g. 30000' },
  AI_VISION: { schema: bool, default: 'false', fix: 'set AI_VISION=true when OPENAI_MODEL reads images, so image attachments go to the model' },
  MEDIA_NOTICE: { text: true, schema: z.string().min(1), default: 'I can only read text messages for now.', fix: 'set MEDIA_NOTICE to the answer for a message with media and no text' },
  HANDOFF_REPLY: { text: true, schema: z.string().min(1), default: "I've asked a teammate to take over — they'll reply here soon.", fix: 'set HANDOFF_REPLY to what the bot says when someone asks for a person' },
  CACHE_TTL_SECONDS: { schema: integer(0, 31_536_000), default: '3600', fix: 'set CACHE_TTL_SECONDS to seconds to keep answers (0 turns the cache off)' },
  HISTORY_TURNS: { schema: integer(0, 1000), default: '20', fix: 'set HISTORY_TURNS to the earlier turns sent to the AI, e.g. 20' },
  HISTORY_TOKEN_BUDGET: { schema: integer(0, 1_000_000), default: '3000', fix: 'set HISTORY_TOKEN_BUDGET to the most history tokens sent to the AI, e.g. 3000' },
  HISTORY_TTL_SECONDS: { schema: integer(1, 31_536_000), default: '604800', fix: 'set HISTORY_TTL_SECONDS to how long a quiet conversation is remembered, e.g. 604800' },
  RATE_LIMIT_CONVERSATION_PER_MINUTE: { schema: integer(0, 1_000_000), default: '0', fix: 'set RATE_LIMIT_CONVERSATION_PER_MINUTE to messages per conversation per minute (0 = no limit)' },
  RATE_LIMIT_TENANT_PER_MINUTE: { schema: integer(0, 10_000_000), default: '0', fix: 'set RATE_LIMIT_TENANT_PER_MINUTE to messages per workspace/tenant per minute (0 = no limit)' },
  AI_CALLS_PER_MINUTE: { schema: integer(0, 10_000_000), default: '0', fix: 'set AI_CALLS_PER_MINUTE to the most AI calls per minute across all processes (0 = no limit)' },
  RATE_LIMIT_USER_PER_MINUTE: { schema: integer(0, 1_000_000), default: '20', fix: 'set RATE_LIMIT_USER_PER_MINUTE to messages per user per minute (0 = no limit)' },
  WORKER_CONCURRENCY: { schema: integer(1, 10_000), default: '8', fix: 'set WORKER_CONCURRENCY to conversations answered at once, e.g. 8' },
  QUEUE_MAX_MESSAGES: { schema: integer(0, 10_000_000), default: '10000', fix: 'set QUEUE_MAX_MESSAGES to the most messages the in-process queue holds (0 = no limit), e.g. 10000' },
  JOB_ATTEMPTS: { schema: integer(1, 100), default: '3', fix: 'set JOB_ATTEMPTS to the tries per message before it is dead-lettered, e.g. 3' },
  JOB_BACKOFF_MS: { schema: integer(0, 3_600_000), default: '2000', fix: 'set JOB_BACKOFF_MS to the first job retry delay in milliseconds, e.g. 2000' },
  DIRECT_DEADLINE_MS: { schema: integer(100, 600_000), default: '10000', fix: 'set DIRECT_DEADLINE_MS to how long direct mode waits for an answer, e.g. 10000' },
  BODY_LIMIT_BYTES: { schema: integer(1024, 100 * 1024 * 1024), default: String(1024 * 1024), fix: 'set BODY_LIMIT_BYTES to the largest webhook body in bytes, e.g. 1048576' },
  REQUEST_TIMEOUT_MS: { schema: integer(100, 600_000), default: '30000', fix: 'set REQUEST_TIMEOUT_MS to how long a request may take to arrive (its headers, then its body), in milliseconds, e.g. 30000' },
  SHUTDOWN_TIMEOUT_MS: { schema: integer(0, 600_000), default: '25000', fix: 'set SHUTDOWN_TIMEOUT_MS to how long shutdown waits for running jobs, e.g. 25000' },
  SHUTDOWN_DELAY_MS: { schema: integer(0, 600_000), default: '0', fix: 'set SHUTDOWN_DELAY_MS to how long shutdown keeps taking requests (with /readyz answering 503) before the port closes, in milliseconds, e.g. 5000; 0 closes it at once' },
  WEB_CHAT: { schema: bool, fix: 'set WEB_CHAT=true to serve the web chat, false to turn it off' },
  WEB_TOKEN: { secret: true, schema: z.string().trim().min(16), fix: 'set WEB_TOKEN to a random secret of 16+ characters, e.g. $(openssl rand -hex 24)' },
  WEB_SESSION_SECRET: {
    secret: true,
    schema: secretList(32),
    fix: 'set WEB_SESSION_SECRET to a random secret of 32+ characters that signs visitor sessions, the same in every process, e.g. $(openssl rand -hex 32); several, comma-separated, while rotating (the first signs, any verifies)',
  },
  WEB_ALLOWED_ORIGINS: { schema: origins, fix: 'set WEB_ALLOWED_ORIGINS to the sites that may embed the web chat, comma-separated origins (scheme, host and port; no wildcard, user name or path), e.g. https://www.example.com,https://shop.example.com' },
  WEB_SESSIONS_PER_IP_PER_MINUTE: { schema: integer(0, 1_000_000), default: '20', fix: 'set WEB_SESSIONS_PER_IP_PER_MINUTE to the visitor sessions one address may start per minute (0 = no limit)' },
  WEB_REQUESTS_PER_IP_PER_MINUTE: { schema: integer(0, 10_000_000), default: '120', fix: 'set WEB_REQUESTS_PER_IP_PER_MINUTE to the web chat requests one address may make per minute (0 = no limit)' },
  ADMIN_TOKEN: { secret: true, schema: z.string().trim().min(16), fix: 'set ADMIN_TOKEN to a random secret of 16+ characters to turn the operator console on at /console, e.g. $(openssl rand -hex 24), or unset it' },
  AI_BUDGET_USD_PER_DAY: { schema: usd, fix: 'set AI_BUDGET_USD_PER_DAY to the most AI spend per UTC day in US dollars, e.g. 20, or unset it' },
  AI_BUDGET_USD_PER_MONTH: { schema: usd, fix: 'set AI_BUDGET_USD_PER_MONTH to the most AI spend per UTC month in US dollars, e.g. 400, or unset it' },
  AI_BUDGET_USD_PER_TENANT_PER_DAY: { schema: usd, fix: 'set AI_BUDGET_USD_PER_TENANT_PER_DAY to the most AI spend per tenant (workspace) per UTC day in US dollars, e.g. 2, or unset it' },
  AI_BUDGET_USD_PER_TENANT_PER_MONTH: { schema: usd, fix: 'set AI_BUDGET_USD_PER_TENANT_PER_MONTH to the most AI spend per tenant (workspace) per UTC month in US dollars, e.g. 40, or unset it' },
  AI_BUDGET_POLICY: { schema: oneOf(['notice', 'fallback', 'allow']), default: 'notice', fix: 'set AI_BUDGET_POLICY to notice (a polite notice instead of the AI), fallback (OPENAI_FALLBACK_MODEL answers) or allow (an alert only)' },
  AI_BUDGET_NOTICE: { text: true, schema: z.string().min(1), default: "I've reached my usage limit for now. Please try again later.", fix: 'set AI_BUDGET_NOTICE to what the bot says instead of answering once a budget is spent' },
  ALERT_WEBHOOK_URL: { secret: true, schema: url, fix: 'set ALERT_WEBHOOK_URL to a Slack incoming webhook (or any URL taking {"text": ...} JSON), or unset it to only log alerts' },
  ALERT_DLQ_COUNT: { schema: integer(1, 1_000_000), default: '10', fix: 'set ALERT_DLQ_COUNT to the dead letters within ALERT_DLQ_MINUTES that raise an alert, e.g. 10' },
  ALERT_DLQ_MINUTES: { schema: integer(1, 1440), default: '15', fix: 'set ALERT_DLQ_MINUTES to the window in minutes for ALERT_DLQ_COUNT, e.g. 15' },
  ALERT_BREAKER_OPEN_SECONDS: { schema: integer(1, 86_400), default: '120', fix: 'set ALERT_BREAKER_OPEN_SECONDS to how long the AI circuit may stay open before an alert, e.g. 120' },
  ALERT_SIGNATURE_FAILURES_PER_MINUTE: { schema: integer(1, 10_000_000), default: '30', fix: 'set ALERT_SIGNATURE_FAILURES_PER_MINUTE to the refused webhook signatures per minute that raise an alert, e.g. 30' },
} satisfies Record<string, Variable>;
