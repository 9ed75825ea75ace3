/**
 * createBot's `adapters` as a plain-JS caller may get them wrong: a ConfigError (a ParleyError with
 * a code) saying what was given and what is expected, not a TypeError from inside createBot.
 */
import { describe, expect, it } from 'vitest';
import { webChat } from '../../adapters/web/index.js';
import { ConfigError, createBot, ParleyError } from '../../src/index.js';

function refused(adapters: unknown): ConfigError {
  try {
    const bot = createBot({ adapters: adapters as never, env: { LOG_LEVEL: 'silent' } });
    void bot.close();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(ParleyError);
    expect((error as ConfigError).code).toBe('parley_config_error');
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('createBot({ adapters }) checks what it is given', () => {
  it('one adapter instead of an array: says an array is expected, and what was given', () => {
    const { message } = refused(webChat());
    expect(message).toContain('`adapters` takes an array of adapters');
    expect(message).toContain('one adapter ("web")');
  });

  it.each([
    { label: '[undefined]', adapters: [undefined], expected: '`adapters[0]` is undefined' },
    { label: '[webChat(), null]', adapters: [webChat(), null], expected: '`adapters[1]` is null' },
    { label: "[{ name: 'web' }]", adapters: [{ name: 'web' }], expected: '`adapters[0]` is an object with keys ["name"]' },
  ])('$label: names the entry and what it is', ({ adapters, expected }) => {
    const { message } = refused(adapters);
    expect(message).toContain(expected);
    expect(message).toContain('not an adapter');
  });

  it('two adapters for one platform: names both (replies find their adapter by platform, so one would never answer)', () => {
    const { message } = refused([webChat(), webChat()]);
    expect(message).toContain('`adapters[0]` and `adapters[1]` share the platform "web"');
  });

  it('still takes an array of adapters, or none', async () => {
    for (const adapters of [[webChat()], [], undefined]) await createBot({ adapters, env: { LOG_LEVEL: 'silent' } }).close();
  });

  it('refuses an option name that is not one of createBot\'s (adapter for adapters), listing them', () => {
    let thrown: unknown;
    try {
      createBot({ adapter: [webChat()], env: { LOG_LEVEL: 'silent' } } as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(/createBot: "adapter" is not an option.*adapters/);
  });

  it.each([
    ['a route path without its slash', { routes: { metrics: 'metrics' } }, /routes\.metrics must be a path starting with \//],
    ['a route that is not a path', { routes: { health: 'yes' } }, /routes\.health must be a path/],
    ['a route on the path of another (its default)', { routes: { metrics: '/healthz' } }, /routes\.health and routes\.metrics are both \/healthz/],
    ['true for a route', { routes: { health: true as never } }, /routes\.health must be a path starting with \/ \(e\.g\. "\/healthz"\) or false/],
    ['a route parley does not have', { routes: { status: '/status' } as never }, /routes\.status is not a route/],
  ])('refuses %s with a ConfigError', (_name, options, message) => {
    expect(() => createBot({ ...options, env: { LOG_LEVEL: 'silent' } } as never)).toThrow(message);
  });

  it.each([
    ['console', console, /`logger` takes a pino logger \(it has no child, isLevelEnabled\)/],
    ["a Bolt-style logger (debug, info, warn, error, setLevel…)", { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel() {}, setName() {} }, /takes a pino logger \(it has no child, isLevelEnabled\); it was given an object with keys/],
    ['a string', 'debug', /takes a pino logger .*it was given string "debug"/],
  ])('refuses %s as `logger` with a ConfigError naming what is missing, not a TypeError', (_name, logger, message) => {
    expect(() => createBot({ logger: logger as never, env: { LOG_LEVEL: 'silent' } })).toThrow(ConfigError);
    expect(() => createBot({ logger: logger as never, env: { LOG_LEVEL: 'silent' } })).toThrow(message);
  });

  it('takes a pino logger and a child of one', async () => {
    const { pino } = await import('pino');
    for (const logger of [pino({ level: 'silent' }), pino({ level: 'silent' }).child({ app: 'mine' })]) await createBot({ logger, env: {} }).close({ delayMs: 0 });
  });

  it.each([
    ['a path not from the root', { path: 'mine' }, /has the path "mine"; it must start with \//],
    ['maxChars of 1', { maxChars: 1 }, /has maxChars 1; it must be an integer of at least 2/],
    ['maxChars below zero', { maxChars: -5 }, /has maxChars -5/],
    ['maxChars that is not a number', { maxChars: Number.NaN }, /has maxChars NaN/],
  ])('refuses an adapter with %s', (_name, fields, message) => {
    const adapter = { ...webChat(), ...fields };
    expect(() => createBot({ adapters: [adapter], env: { LOG_LEVEL: 'silent' } })).toThrow(message);
  });

  it.each([
    ['the health route', {}, '/healthz', /\("web"\) has the path \/healthz, which is routes\.health/],
    ['the metrics route where it was moved', { routes: { metrics: '/internal/metrics' } }, '/internal/metrics', /which is routes\.metrics/],
    ["a route moved onto one of the adapter's own routes (the web chat's page at /)", { routes: { health: '/' } }, '/web/messages', /\("web"\) has the path \/, which is routes\.health/],
  ])('refuses an adapter on the path of %s (the route is looked up first, so the webhook would never be reached)', (_name, options, path, message) => {
    expect(() => createBot({ ...options, adapters: [{ ...webChat({ page: true }), path }], env: { LOG_LEVEL: 'silent' } })).toThrow(message);
  });

  it.each([
    ['the web chat\'s POST /web/sessions', '/web/sessions', 'POST /web/sessions'],
    ['a path below a POST prefix route', '/hooks/twilio', 'POST /hooks/'],
  ])('refuses a webhook on %s (one of the two would never be reached)', (_name, path, served) => {
    const withPrefix = { ...webChat(), routes: [...(webChat().routes ?? []), { method: 'POST' as const, path: '/hooks/', handle: async () => ({ status: 200 }) }] };
    const twilio = { ...webChat(), platform: 'whatsapp', path, routes: [] };
    const message = `("whatsapp") has the path ${path}, where \`adapters[0]\` ("web") serves ${served}: its webhooks would never reach it`;
    expect(() => createBot({ adapters: [withPrefix, twilio], env: { LOG_LEVEL: 'silent' } })).toThrow(message);
    // Whichever comes first: the router would take the other's requests.
    expect(() => createBot({ adapters: [twilio, withPrefix], env: { LOG_LEVEL: 'silent' } })).toThrow(`("whatsapp") has the path ${path}, where \`adapters[1]\` ("web") serves ${served}`);
  });

  it('takes a webhook on a path another adapter serves only GET or OPTIONS on (the web chat\'s page at /)', async () => {
    await createBot({ adapters: [webChat({ page: true }), { ...webChat(), platform: 'whatsapp', path: '/', routes: [] }], env: { LOG_LEVEL: 'silent' } }).close();
  });

  it('takes routes turned off or moved, and adapters with sound paths and sizes', async () => {
    await createBot({ routes: { health: false, metrics: '/internal/metrics' }, adapters: [{ ...webChat(), maxChars: 2 }], env: { LOG_LEVEL: 'silent' } }).close();
    // A route turned off or moved frees its path for an adapter.
    await createBot({ routes: { health: false, metrics: '/internal/metrics' }, adapters: [{ ...webChat(), path: '/healthz' }, { ...webChat(), platform: 'web2', path: '/metrics' }], env: { LOG_LEVEL: 'silent' } }).close();
  });
});
