import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { boundToLoopback, ConfigError, loadConfig, parseEnv } from '../../src/config.js';
import { hideSecrets } from '../../src/secret-values.js';
import { metricsPort } from '../../cli/worker-metrics.js';

/** The ConfigError's message, or a failure when loadConfig did not throw. */
function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message.split('\n');
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults and parsing', () => {
  it('works with an empty environment, using the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      trustProxy: false,
      mode: 'queue',
      logLevel: 'info',
      ai: { model: 'gpt-4o-mini', maxOutputTokens: 1024, attempts: 4, cacheTtlSeconds: 3600 },
      history: { turns: 20, tokenBudget: 3000, ttlSeconds: 604800 },
      limits: { userPerMinute: 20 },
      queue: { concurrency: 8, attempts: 3, backoffMs: 2000, maxMessages: 10000 },
      bodyLimitBytes: 1024 * 1024,
      shutdownTimeoutMs: 25000,
      shutdownDelayMs: 0,
    });
    expect(config.publicUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.ai.apiKey).toBeUndefined();
    expect(config.web.enabled).toBeUndefined();
  });

  it('reads and coerces given values', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      PUBLIC_URL: 'https://bot.example.com',
      TRUST_PROXY: ' Yes ',
      MODE: 'direct',
      REDIS_URL: 'rediss://cache.example.com:6380',
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
      AI_PRICES: '{"my-model":{"input":0.5,"output":1.5}}',
      HISTORY_TURNS: '0',
      JOB_ATTEMPTS: '7',
      SHUTDOWN_DELAY_MS: ' 5000 ',
      WEB_CHAT: 'off',
      WEB_TOKEN: '0123456789abcdef',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      publicUrl: 'https://bot.example.com',
      trustProxy: true,
      mode: 'direct',
      redisUrl: 'rediss://cache.example.com:6380',
      ai: { apiKey: 'sk-test', baseURL: 'http://127.0.0.1:11434/v1', prices: { 'my-model': { input: 0.5, output: 1.5 } } },
      history: { turns: 0 },
      queue: { attempts: 7 },
      shutdownDelayMs: 5000,
      web: { enabled: false, token: '0123456789abcdef' },
    });
  });

  it.each([
    ['true', true],
    ['ON', true],
    ['false', false],
    ['0', false],
    ['no', false],
    // A number is how many proxies stand in front (Express's hop count).
    ['1', 1],
    [' 2 ', 2],
  ])('reads TRUST_PROXY=%s as %s', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toBe(expected);
  });

  it('treats an empty variable as unset', () => {
    const config = loadConfig({ PORT: '', OPENAI_API_KEY: '', MODE: '' });
    expect(config.port).toBe(3000);
    expect(config.ai.apiKey).toBeUndefined();
    expect(config.mode).toBe('queue');
  });

  it('trims secrets read from a file (`echo tok > f`, a Kubernetes --from-file secret): the trailing newline would break every use', () => {
    const config = loadConfig({
      WEB_TOKEN: 'web-token-0123456789\n',
      ADMIN_TOKEN: 'admin-token-0123456789\n',
      OPENAI_API_KEY: 'sk-key-1 \n',
      OPENAI_FALLBACK_MODEL: 'small',
      OPENAI_FALLBACK_API_KEY: '\tsk-key-2\r\n',
    });
    expect(config.web.token).toBe('web-token-0123456789');
    expect(config.console.adminToken).toBe('admin-token-0123456789');
    expect(config.ai.apiKey).toBe('sk-key-1');
    expect(config.ai.fallback?.apiKey).toBe('sk-key-2');
  });

  it('trims spaces around HOST and the model names, as it does around numbers', () => {
    // A stray space made HOST unresolvable at listen time and every AI call ask for an unknown model.
    const config = loadConfig({ HOST: ' 127.0.0.1 ', OPENAI_MODEL: 'gpt-4o ', OPENAI_FALLBACK_MODEL: ' gpt-4o-mini' });
    expect(config.host).toBe('127.0.0.1');
    expect(boundToLoopback(config)).toBe(true);
    expect(config.ai.model).toBe('gpt-4o');
    expect(config.ai.fallback?.model).toBe('gpt-4o-mini');
  });

  it('reads a choice whatever its case and surrounding spaces (MODE=Queue, LOG_LEVEL=INFO), as it reads the flags', () => {
    const config = loadConfig({ MODE: ' Direct ', LOG_LEVEL: 'INFO', LOG_FORMAT: 'Json', AI_BUDGET_POLICY: 'Allow' });
    expect([config.mode, config.logLevel, config.logFormat, config.budget.policy]).toEqual(['direct', 'info', 'json', 'allow']);
    expect(() => loadConfig({ MODE: 'queued' })).toThrow(/MODE/);
  });

  it('refuses a key, name or number wrapped in quotes (a file that keeps them), never echoing a secret', () => {
    const error = (() => {
      try {
        loadConfig({ OPENAI_API_KEY: '"sk-quoted-0123456789"', OPENAI_MODEL: "'gpt-4o'", PORT: '"3000"' });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^PORT="\\"3000\\"" is wrapped in quotes.*Fix: remove the quotes/);
    expect(lines.find((l) => l.startsWith('OPENAI_API_KEY='))).toMatch(/^OPENAI_API_KEY="<hidden>" is wrapped in quotes/);
    expect(lines.find((l) => l.startsWith('OPENAI_MODEL='))).toMatch(/wrapped in quotes/);
    expect(error.message).not.toContain('sk-quoted');
  });

  it('keeps quotes around free text (a prompt, a reply)', () => {
    const config = loadConfig({ SYSTEM_PROMPT: '"Answer in French."', MEDIA_NOTICE: "'Text only, please.'" });
    expect(config.ai.systemPrompt).toBe('"Answer in French."');
    expect(config.replies.mediaNotice).toBe("'Text only, please.'");
  });

  it('keeps the raw environment for adapters', () => {
    const env = { SLACK_SIGNING_SECRET: 'abc' };
    expect(loadConfig(env).env).toBe(env);
  });
});

describe('DynamoDB configuration', () => {
  it('puts nothing on DynamoDB by default', () => {
    expect(loadConfig({}).dynamodb).toEqual({ tablePrefix: undefined, conversationLogTable: undefined });
  });

  it('with DYNAMODB_TABLE_PREFIX the log defaults to the seed\'s ai_conversations; CONVERSATION_LOG_TABLE names it literally', () => {
    expect(loadConfig({ DYNAMODB_TABLE_PREFIX: 'parley-prod' }).dynamodb).toEqual({ tablePrefix: 'parley-prod', conversationLogTable: 'ai_conversations' });
    expect(loadConfig({ DYNAMODB_TABLE_PREFIX: 'parley-prod', CONVERSATION_LOG_TABLE: 'support.log_v2' }).dynamodb).toEqual({ tablePrefix: 'parley-prod', conversationLogTable: 'support.log_v2' });
    expect(loadConfig({ CONVERSATION_LOG_TABLE: 'ai_conversations' }).dynamodb).toEqual({ tablePrefix: undefined, conversationLogTable: 'ai_conversations' });
    // The log's rows are kept unless CONVERSATION_LOG_TTL_SECONDS says how long.
    expect(loadConfig({ CONVERSATION_LOG_TABLE: 'ai_conversations' }).dynamodb.conversationLogTtlSeconds).toBeUndefined();
    expect(loadConfig({ CONVERSATION_LOG_TABLE: 'ai_conversations', CONVERSATION_LOG_TTL_SECONDS: '31536000' }).dynamodb.conversationLogTtlSeconds).toBe(31_536_000);
    expect(() => loadConfig({ CONVERSATION_LOG_TTL_SECONDS: '0' })).toThrow(/CONVERSATION_LOG_TTL_SECONDS/);
  });
});

describe('loadConfig errors', () => {
  it('shows a count or budget whose name has TOKEN in it, and hides the flagged secrets', () => {
    const lines = problems({ OPENAI_MAX_OUTPUT_TOKENS: '0', HISTORY_TOKEN_BUDGET: 'x', OPENAI_API_KEY: ' ', WEB_TOKEN: 'short-tok', ADMIN_TOKEN: 'short-admin', WEB_SESSION_SECRET: 'short-secret', ALERT_WEBHOOK_URL: 'hooks.example/T1/B2/s3cr3t' });
    expect(lines.find((l) => l.startsWith('OPENAI_MAX_OUTPUT_TOKENS='))).toMatch(/^OPENAI_MAX_OUTPUT_TOKENS="0" is invalid/);
    expect(lines.find((l) => l.startsWith('HISTORY_TOKEN_BUDGET='))).toMatch(/^HISTORY_TOKEN_BUDGET="x" is invalid/);
    for (const name of ['WEB_TOKEN', 'ADMIN_TOKEN', 'WEB_SESSION_SECRET', 'ALERT_WEBHOOK_URL']) expect(lines.find((l) => l.startsWith(`${name}=`))).toMatch(new RegExp(`^${name}="<hidden>" is invalid`));
    expect(lines.join('\n')).not.toMatch(/short-tok|short-admin|short-secret|s3cr3t/);
  });

  it("an AI base URL with a query (Azure's classic ?api-version=) is refused, naming the base that works; without one it is taken", () => {
    const classic = 'https://res.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21';
    for (const name of ['OPENAI_BASE_URL', 'OPENAI_FALLBACK_BASE_URL']) {
      expect(problems({ [name]: classic }).find((l) => l.startsWith(`${name}=`))).toMatch(/is invalid: a base without a query .*https:\/\/<resource>\.openai\.azure\.com\/openai\/v1/);
    }
    expect(loadConfig({ OPENAI_BASE_URL: 'https://res.openai.azure.com/openai/v1' }).ai.baseURL).toBe('https://res.openai.azure.com/openai/v1');
  });

  it('WEB_SESSION_SECRET takes several secrets while rotating, each of 32+ characters, and hides every one', () => {
    const NEW = 'new-web-session-secret-0123456789abcdef';
    const OLD = 'old-web-session-secret-0123456789abcdef';
    expect(loadConfig({ WEB_SESSION_SECRET: ` ${NEW} , ${OLD} ` }).web.sessionSecret).toBe(`${NEW},${OLD}`);
    expect(hideSecrets(`echoed ${OLD} and ${NEW}`)).toBe('echoed <hidden> and <hidden>');
    const [line] = problems({ WEB_SESSION_SECRET: `${NEW},short-old-secret` });
    expect(line).toMatch(/^WEB_SESSION_SECRET="<hidden>" is invalid: secret 2 of 2 has 16 characters, expected at least 32\. Fix: .*comma-separated/);
    expect(line).not.toMatch(/short-old-secret|new-web-session/);
    expect(problems({ WEB_SESSION_SECRET: ' , ' })[0]).toMatch(/^WEB_SESSION_SECRET="<hidden>" is invalid: holds no secret/);
  });

  it('an adapter\'s variable that does not say whether it is secret is hidden when its name reads like one', () => {
    const table = { ACME_API_KEY: { schema: z.string().min(20), fix: 'set ACME_API_KEY' }, ACME_RETRIES: { schema: z.string().min(5), fix: 'set ACME_RETRIES' } };
    const message = (() => {
      try {
        parseEnv(table, { ACME_API_KEY: 'sk-short-acme', ACME_RETRIES: 'x' });
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(message).toContain('ACME_API_KEY="<hidden>" is invalid');
    expect(message).toContain('ACME_RETRIES="x" is invalid');
    expect(message).not.toContain('sk-short-acme');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '3000.5'],
    ['PORT', '0x1824'],
    ['PORT', '3e3'],
    ['AI_MAX_CONCURRENT', '0b101'],
    ['AI_BUDGET_USD_PER_DAY', '0x10'],
    ['AI_BUDGET_USD_PER_MONTH', '1e3'],
    ['AI_BUDGET_USD_PER_TENANT_PER_DAY', 'Infinity'],
    ['AI_BUDGET_USD_PER_TENANT_PER_MONTH', '0b11'],
    ['TRUST_PROXY', 'maybe'],
    ['TRUST_PROXY', 'abc'],
    ['TRUST_PROXY', '0.5'],
    ['TRUST_PROXY', '-1'],
    ['MODE', 'fast'],
    ['LOG_LEVEL', 'verbose'],
    ['PUBLIC_URL', 'ftp://bot.example.com'],
    ['PUBLIC_URL', 'not a url'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['AI_PRICES', '{not json'],
    ['AI_PRICES', '{"m":{"input":-1,"output":1}}'],
    ['JOB_ATTEMPTS', '0'],
    ['BODY_LIMIT_BYTES', '10'],
    ['SHUTDOWN_DELAY_MS', '-1'],
    ['SHUTDOWN_DELAY_MS', '5s'],
    ['SHUTDOWN_DELAY_MS', '700000'],
    ['DYNAMODB_TABLE_PREFIX', 'my prefix'],
    ['CONVERSATION_LOG_TABLE', 'ai/conversations'],
    ['CONVERSATION_LOG_TABLE', 'ab'],
    ['WEB_ALLOWED_ORIGINS', 'https://*.example.com'],
    ['WEB_ALLOWED_ORIGINS', 'https://www.example.com/shop'],
    ['WEB_ALLOWED_ORIGINS', 'https://www.example.com,www.example.com'],
  ])('rejects %s=%s with one line naming the variable, the value, the problem and the fix', (name, value) => {
    const lines = problems({ [name]: value });
    expect(lines).toHaveLength(1);
    const line = lines[0] as string;
    expect(line.startsWith(`${name}=`)).toBe(true);
    expect(line).toContain(JSON.stringify(value));
    expect(line).toMatch(/is invalid: .+\. Fix: .+/);
    // the fix names the variable so the user knows what to set
    expect(line.slice(line.indexOf('Fix:'))).toContain(name);
  });

  it('AI_BUDGET_USD_*: decimal amounts, as written', () => {
    expect(loadConfig({ AI_BUDGET_USD_PER_DAY: ' 20 ', AI_BUDGET_USD_PER_MONTH: '0.5', AI_BUDGET_USD_PER_TENANT_PER_DAY: '.25', AI_BUDGET_USD_PER_TENANT_PER_MONTH: '40.' }).budget).toMatchObject({ dayUsd: 20, monthUsd: 0.5, tenantDayUsd: 0.25, tenantMonthUsd: 40 });
  });

  it('AI_BUDGET_USD_*=0 is a budget of $0 (no AI calls, as the console\'s 0), not refused; a negative amount is', () => {
    expect(loadConfig({ AI_BUDGET_USD_PER_DAY: '0', AI_BUDGET_USD_PER_TENANT_PER_MONTH: '0.00' }).budget).toMatchObject({ dayUsd: 0, tenantMonthUsd: 0 });
    expect(problems({ AI_BUDGET_USD_PER_DAY: '-1' })).toEqual([expect.stringMatching(/^AI_BUDGET_USD_PER_DAY="-1" is invalid: /)]);
  });

  it.each(['0x2EE4', '1.2005e4', '0b101', '12005.0', '-1', '70000', 'abc'])('METRICS_PORT=%s is refused, as PORT would refuse it', (value) => {
    expect(() => metricsPort(value)).toThrow(new RegExp(`^METRICS_PORT="${value.replace(/\./g, '\\.')}" is invalid\\. Fix: `));
  });

  it('METRICS_PORT=tcp://… (a Kubernetes Service named metrics) is refused, naming where it came from', () => {
    expect(() => metricsPort('tcp://10.96.0.12:9464')).toThrow(/is invalid \(a tcp:\/\/ address is what Kubernetes sets for a Service named "metrics".*enableServiceLinks: false\)\. Fix: /);
  });

  it('METRICS_PORT: a port in decimal, or off', () => {
    expect([metricsPort(' 9465 '), metricsPort('0'), metricsPort('OFF'), metricsPort(undefined)]).toEqual([9465, 0, 'off', 9464]);
  });

  it('WEB_ALLOWED_ORIGINS: each origin as a browser sends it (lower case, no default port, an international host in punycode)', () => {
    const config = loadConfig({ WEB_ALLOWED_ORIGINS: 'https://WWW.Example.com:443/, http://shop.example:80,https://bücher.example,http://localhost:8080' });
    expect(config.web.allowedOrigins).toEqual(['https://www.example.com', 'http://shop.example', 'https://xn--bcher-kva.example', 'http://localhost:8080']);
    expect(problems({ WEB_ALLOWED_ORIGINS: 'https://*.example.com' })[0]).toMatch(/wildcard.*Fix: set WEB_ALLOWED_ORIGINS/);
    const withUser = problems({ WEB_ALLOWED_ORIGINS: 'https://user:hunter2@www.example.com' })[0];
    expect(withUser).toMatch(/user name or password.*Fix: set WEB_ALLOWED_ORIGINS/);
    expect(withUser).not.toContain('hunter2');
  });

  it.each([
    ['PORT', '3000.5', 'expected a whole number in decimal digits'],
    ['PORT', '0x1824', 'expected a whole number in decimal digits'],
    ['PORT', 'abc', 'expected a whole number in decimal digits'],
    ['CACHE_TTL_SECONDS', '1e3', 'expected a whole number in decimal digits'],
    ['AI_BUDGET_USD_PER_DAY', '0x10', 'expected a number in decimal digits, e.g. 20 or 0.5'],
  ])('%s=%s says what is wrong with the value (%s), not "expected number, received string"', (name, value, problem) => {
    const [line] = problems({ [name]: value });
    expect(line).toContain(`is invalid: ${problem}. Fix: `);
    expect(line).not.toContain('received string');
  });

  it.each([
    ['PORT', '70000', 'Too big: expected number to be <=65535'],
    ['BODY_LIMIT_BYTES', '1000', 'Too small: expected number to be >=1024'],
    ['WORKER_CONCURRENCY', '0', 'Too small: expected number to be >=1'],
  ])('%s=%s, a whole number out of range, says so (%s), not that it is no whole number', (name, value, problem) => {
    const [line] = problems({ [name]: value });
    expect(line).toContain(`is invalid: ${problem}. Fix: `);
  });

  it('reports every bad variable at once, one line each', () => {
    const lines = problems({ PORT: '-1', MODE: 'fast', LOG_LEVEL: 'loud', HISTORY_TURNS: '5' });
    expect(lines).toHaveLength(3);
    expect(lines.map((line) => line.split('=')[0])).toEqual(['PORT', 'MODE', 'LOG_LEVEL']);
  });

  it('never echoes a secret value', () => {
    const secretToken = 'tok_XYZ_short';
    const lines = problems({ WEB_TOKEN: secretToken });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('WEB_TOKEN');
    expect(lines[0]).not.toContain(secretToken);
  });

  it('never echoes the password inside an invalid REDIS_URL', () => {
    const lines = problems({ REDIS_URL: 'http://default:s3cr3t-redis-pass@redis.example.com:6379' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('REDIS_URL');
    expect(lines[0]).not.toContain('s3cr3t-redis-pass');
  });

  it('never echoes credentials inside an invalid OPENAI_BASE_URL', () => {
    const lines = problems({ OPENAI_BASE_URL: 'ftp://user:proxy-pass-123@proxy.example.com/v1' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('proxy-pass-123');
  });
});

describe('boundToLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['0.0.0.0', false],
    ['192.168.1.5', false],
    ['::', false],
  ])('%s → %s', (host, expected) => {
    expect(boundToLoopback({ host })).toBe(expected);
  });
});
