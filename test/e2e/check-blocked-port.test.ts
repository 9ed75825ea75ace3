import { afterEach, describe, expect, it } from 'vitest';
import { checkAi } from '../../cli/check.js';
import { loadConfig } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startWebBot, testEnv, type WebBot } from '../helpers/web-bot.js';

/** Ports the global fetch (undici) refuses outright ("bad port"); serve's client reaches them. */
const fetchBlockedPorts = [4190, 6566, 6679, 10080];

describe('an OPENAI_BASE_URL on a port the global fetch refuses', () => {
  let ai: FakeOpenAi | undefined;
  let web: WebBot | undefined;
  afterEach(async () => {
    await web?.close();
    await ai?.close();
    ai = web = undefined;
  });

  it('parley check reaches it, as serve does', async () => {
    ai = await startFakeOpenAi(undefined, { ports: fetchBlockedPorts });
    await expect(fetch(`${ai.url}/models`)).rejects.toThrow(); // the global fetch: bad port
    web = await startWebBot({ OPENAI_BASE_URL: ai.url });
    expect((await web.post('port', 'hi')).status).toBe(202);
    await web.waitFor('port', (entries) => entries.some((e) => e.role === 'assistant'));
    expect(await checkAi(loadConfig({ ...testEnv, OPENAI_BASE_URL: ai.url }))).toEqual({ ok: true, what: 'AI provider', detail: `${ai.url}: model gpt-4o-mini is available` });
  });
});
