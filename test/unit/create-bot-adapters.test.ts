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
});
