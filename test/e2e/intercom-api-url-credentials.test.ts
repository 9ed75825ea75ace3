/**
 * INTERCOM_API_URL with a user and password (`http://ic:SECRET@host:port`): fetch refuses such a
 * URL and its error quoted it whole at error level. The SDK now gets the URL without them (the
 * access token is the Authorization), so the calls go through and nothing logs the password.
 */
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { intercomAdapter, intercomConfigFromEnv } from '../../adapters/intercom/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeIntercom, type FakeIntercom } from '../fakes/intercom-api.js';
import { testEnv } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

describe('INTERCOM_API_URL with credentials', () => {
  let intercom: FakeIntercom | undefined;
  let bot: Bot | undefined;
  afterEach(async () => {
    await bot?.close();
    await intercom?.close();
    bot = intercom = undefined;
  });

  it('reaches the API with the access token, and logs neither the password nor the URL with it', async () => {
    intercom = await startFakeIntercom();
    const port = new URL(intercom.url).port;
    const env = {
      ...testEnv,
      INTERCOM_ACCESS_TOKEN: 'dG9rOnBhcmxleS10ZXN0LXRva2Vu',
      INTERCOM_CLIENT_SECRET: 'test-intercom-client-secret',
      INTERCOM_API_URL: `http://ic:SECRETintercompass@127.0.0.1:${port}`,
    };
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    bot = createBot({ config: loadConfig(env), adapters: [intercomAdapter(intercomConfigFromEnv(env)!)], logger });
    const server = await bot.listen(0, '127.0.0.1');
    expect((server.address() as AddressInfo).port).toBeGreaterThan(0);
    const me = await until(() => intercom!.callsTo('me')[0], 'GET /me', 5000);
    expect(me.token).toBe('dG9rOnBhcmxleS10ZXN0LXRva2Vu');
    await bot.ready;
    const logged = lines.join('\n');
    expect(logged).not.toContain('SECRETintercompass');
    expect(logged).not.toMatch(/"level":50/);
  });
});
