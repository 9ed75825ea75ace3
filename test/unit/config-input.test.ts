/** Typed `config` given to createBot is held to the same rules as the environment variables. */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config-input.js';
import { ConfigError, createBot, type ConfigInput } from '../../src/index.js';

function refused(config: unknown): ConfigError {
  try {
    const bot = createBot({ config: config as ConfigInput, env: { LOG_LEVEL: 'silent' }, worker: false });
    void bot.close();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('createBot({ config }) checks what it is given', () => {
  it.each([
    [{ mode: 'queued' }, 'config.mode', 'MODE'],
    [{ queue: { attempts: 0 } }, 'config.queue.attempts', 'JOB_ATTEMPTS'],
    [{ port: 'abc' }, 'config.port', 'PORT'],
    [{ redisUrl: 'foo://bar' }, 'config.redisUrl', 'REDIS_URL'],
    [{ ai: { apiKey: 'sk-secret-never-echoed', baseURL: 'not a url' } }, 'config.ai.baseURL', 'OPENAI_BASE_URL'],
    [{ trustProxy: -1 }, 'config.trustProxy', 'TRUST_PROXY'],
    [{ trustProxy: 1.5 }, 'config.trustProxy', 'TRUST_PROXY'],
  ])('%j is a ConfigError naming %s', (config, setting, variable) => {
    const error = refused(config);
    expect(error.code).toBe('parley_config_error');
    expect(error.message).toContain(setting);
    expect(error.message).toContain(variable);
    expect(error.message).not.toContain('sk-secret-never-echoed');
  });

  it('still takes good values, read as the variables are', () => {
    const config = resolveConfig({ mode: 'direct', queue: { attempts: 2 }, port: 8080, web: { allowedOrigins: ['https://a.example/'] } }, {});
    expect(config.mode).toBe('direct');
    expect(config.queue).toMatchObject({ attempts: 2, concurrency: expect.any(Number) });
    expect(config.port).toBe(8080);
    expect(config.web.allowedOrigins).toEqual(['https://a.example']);
  });

  it('takes trustProxy as true, false or a hop count, as TRUST_PROXY', () => {
    expect(resolveConfig({ trustProxy: 2 }, {}).trustProxy).toBe(2);
    expect(resolveConfig({ trustProxy: true }, {}).trustProxy).toBe(true);
    expect(resolveConfig({ trustProxy: 0 }, { TRUST_PROXY: 'true' }).trustProxy).toBe(false);
  });

  it('refuses a name that is not a setting, at the top or in a section, naming the settings beside it', () => {
    const top = refused({ redisURL: 'redis://127.0.0.1:6379' }).message;
    expect(top).toContain('config.redisURL is not a setting');
    expect(top).toMatch(/settings: .*redisUrl/);
    const nested = refused({ ai: { key: 'sk-x', modle: 'gpt-4o' } }).message;
    expect(nested).toContain('config.ai.key is not a setting');
    expect(nested).toContain('config.ai.modle is not a setting');
    expect(nested).toMatch(/settings: .*apiKey.*model|settings: .*model.*apiKey/);
    // A section given as a scalar is a slip too.
    expect(refused({ ai: 'gpt-4o' }).message).toContain('config.ai is not a setting');
  });
});
