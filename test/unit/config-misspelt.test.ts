/** Environment variables that look like a misspelling of one of parley's are named, with the closest name. */
import { describe, expect, it } from 'vitest';
import { editDistance, misspeltMessage, misspeltVariables } from '../../src/config-misspelt.js';
import { misspeltParleyVariables } from '../../cli/adapters.js';
import { variables } from '../../src/config-variables.js';

const known = Object.keys(variables);

describe('misspeltVariables', () => {
  it.each([
    ['AI_BUDGET_USD_DAY', 'AI_BUDGET_USD_PER_DAY'], // a word left out
    ['AI_BUDGET_PER_DAY_USD', 'AI_BUDGET_USD_PER_DAY'], // the words in another order
    ['AI_BUDGET_DAILY', 'AI_BUDGET_POLICY'], // a prefix only parley uses: the closest of its names
    ['WEB_CHAT_ENABLED', 'WEB_CHAT'],
    ['OPENAI_FALLBACK_KEY', 'OPENAI_FALLBACK_API_KEY'],
    ['OPENAI_API_KY', 'OPENAI_API_KEY'], // a letter left out
    ['OPEANI_MODEL', 'OPENAI_MODEL'], // two letters swapped
    ['OPENAI_KEY', 'OPENAI_API_KEY'],
    ['LOGLEVEL', 'LOG_LEVEL'],
    ['REDIS_URI', 'REDIS_URL'],
    ['RATE_LIMIT_USER_PER_MINUT', 'RATE_LIMIT_USER_PER_MINUTE'],
    ['ALERT_SIGNATURE_FAILURE_PER_MINUTES', 'ALERT_SIGNATURE_FAILURES_PER_MINUTE'], // three edits in a long name
    ['openai_api_key', 'OPENAI_API_KEY'], // lower case is not read
  ])('%s: did you mean %s?', (name, suggestion) => {
    expect(misspeltVariables({ [name]: 'x' }, known)).toEqual([{ name, suggestion }]);
  });

  it("leaves alone parley's own names, other software's and the usual environment", () => {
    const env = Object.fromEntries(
      [
        ...known,
        ...['PATH', 'HOME', 'USER', 'SHELL', 'PWD', 'TERM', 'LANG', 'TZ', 'HOSTNAME', 'CI', 'DEBUG', 'NODE_ENV', 'NODE_OPTIONS', 'npm_config_cache', 'http_proxy', 'HTTPS_PROXY'],
        ...['OPENAI_ORG_ID', 'OPENAI_PROJECT_ID', 'OPENAI_ORGANIZATION', 'OPENAI_API_BASE', 'OPENAI_API_VERSION', 'ANTHROPIC_API_KEY', 'AZURE_OPENAI_API_KEY'],
        ...['SLACK_LOG_LEVEL', 'SLACK_TOKEN', 'SLACK_API_TOKEN', 'SLACK_WEBHOOK_URL', 'TWILIO_API_KEY', 'INTERCOM_APP_ID', 'DYNAMODB_TABLE'],
        ...['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_ENDPOINT_URL_SQS', 'AWS_LAMBDA_FUNCTION_NAME', 'GITHUB_TOKEN'],
        // Kubernetes' service variables, and generic names other software reads (one word short of parley's, the first left out).
        ...['REDIS_PORT', 'REDIS_HOST', 'REDIS_PASSWORD', 'REDIS_SERVICE_HOST', 'KUBERNETES_PORT', 'WEB_PORT', 'PARLEY_SERVICE_HOST'],
        ...['API_KEY', 'BASE_URL', 'API_URL', 'SESSION_SECRET', 'CLIENT_ID', 'ACCESS_TOKEN', 'AUTH_TOKEN', 'MODEL', 'PROXY', 'DATABASE_URL'],
      ].map((name) => [name, 'x']),
    );
    expect(misspeltVariables(env, known)).toEqual([]);
  });

  it("leaves alone the variables Kubernetes makes for a Service named like parley's (web-chat, slack-events)", () => {
    const links = ['WEB_CHAT', 'SLACK_EVENTS', 'METRIC'].flatMap((s) => [`${s}_SERVICE_HOST`, `${s}_SERVICE_PORT`, `${s}_SERVICE_PORT_HTTP`, `${s}_PORT`, `${s}_PORT_3000_TCP`, `${s}_PORT_3000_TCP_ADDR`, `${s}_PORT_3000_TCP_PORT`, `${s}_PORT_3000_TCP_PROTO`]);
    expect(misspeltParleyVariables(Object.fromEntries(links.map((name) => [name, 'tcp://10.0.0.7:3000'])))).toEqual([]);
    // Without its Service's _SERVICE_HOST beside it, a name is judged as any other.
    expect(misspeltParleyVariables({ METRIC_PORT: '9464', WEB_CHAT_SERVICE_HOST: '10.0.0.7' })).toEqual([{ name: 'METRIC_PORT', suggestion: 'METRICS_PORT' }]);
  });

  it("another word in a word's place is another variable, not a slip", () => {
    const env = { METRICS_HOST: 'x', SQS_QUEUE_ARN: 'x', MEDIA_URL: 'x', REDIS_TTL: 'x', REDIS_CACHE_TTL: 'x', INTERCOM_API_KEY: 'x', TWILIO_WHATSAPP_TO: 'x', SLACK_EVENTS_PORT: 'x' };
    expect(misspeltParleyVariables(env)).toEqual([]);
  });

  it('a four-letter name matches only exactly: HOME is not HOST, MODEL is not MODE', () => {
    expect(misspeltVariables({ HOME: '/root', MODEL: 'x', PORTS: '1', NODE: 'x' }, known)).toEqual([]);
  });

  it('takes the names it is given: a platform variable misspelt is named with the right one', () => {
    expect(misspeltParleyVariables({ SLACK_SIGNING_SECRT: 'x', TWILIO_AUTH_TOKEN: 'x', METRIC_PORT: '9464', SLACK_BOT_TOKEN: 'x' })).toEqual([
      { name: 'SLACK_SIGNING_SECRT', suggestion: 'SLACK_SIGNING_SECRET' },
      { name: 'METRIC_PORT', suggestion: 'METRICS_PORT' },
    ]);
  });

  it('an unset variable (undefined) is not named', () => {
    expect(misspeltVariables({ AI_BUDGET_USD_DAY: undefined }, known)).toEqual([]);
  });

  it('names the variable and the suggestion, never the value', () => {
    const secret = 'sk-live-do-not-print-me';
    const found = misspeltVariables({ OPENAI_API_KY: secret }, known);
    const message = misspeltMessage(found[0]!);
    expect(message).toBe('OPENAI_API_KY is not a parley variable, so it is ignored: did you mean OPENAI_API_KEY?');
    expect(JSON.stringify(found) + message).not.toContain(secret);
  });

  it('counts a swap of two neighbours as one edit', () => {
    expect(editDistance('OPEANI', 'OPENAI')).toBe(1);
    expect(editDistance('KITTEN', 'SITTING')).toBe(3);
    // Bounded: past `atMost` it answers atMost + 1 without finishing; within it, the distance itself.
    expect(editDistance('KITTEN', 'SITTING', 1)).toBe(2);
    expect(editDistance('OPEANI', 'OPENAI', 2)).toBe(1);
    expect(editDistance('', 'ABC')).toBe(3);
  });
});
