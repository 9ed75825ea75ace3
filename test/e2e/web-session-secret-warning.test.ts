/**
 * The web chat on loopback without WEB_SESSION_SECRET signs sessions with a secret made up for the
 * process. With a shared store (several `serve` on one Redis) the other processes refuse those
 * sessions: the start-up warning says so, and shows it happening.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { webChat } from '../../adapters/web/index.js';
import { createBot, loadConfig } from '../../src/index.js';
import { REDIS_URL, uniquePrefix } from '../integration/redis-helpers.js';
import { testEnv } from '../helpers/web-bot.js';

function webBot(env: Record<string, string>) {
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(String(JSON.parse(line).msg)) });
  const config = loadConfig({ ...testEnv, HOST: '127.0.0.1', ...env });
  return { bot: createBot({ config, adapters: [webChat()], logger }), warnings };
}

const sessionWarning = (warnings: string[]) => warnings.find((w) => w.includes('WEB_SESSION_SECRET is not set'));

describe('web chat sessions without WEB_SESSION_SECRET', () => {
  it('on a shared store: two processes refuse each other\'s sessions, and the warning says to set the secret in every one', async () => {
    const prefix = uniquePrefix();
    const one = webBot({ REDIS_URL, REDIS_PREFIX: prefix });
    const two = webBot({ REDIS_URL, REDIS_PREFIX: prefix });
    try {
      await Promise.all([one.bot.start(), two.bot.start()]);
      const session = (await (await one.bot.fetch(new Request('http://127.0.0.1/web/sessions', { method: 'POST' }), { remoteAddress: '127.0.0.1' })).json()) as { token: string };
      const elsewhere = await two.bot.fetch(new Request('http://127.0.0.1/web/conversations', { headers: { authorization: `Bearer ${session.token}` } }), { remoteAddress: '127.0.0.1' });
      expect(elsewhere.status).toBe(401);
      expect(sessionWarning(one.warnings)).toContain('other processes sharing this store');
      expect(sessionWarning(one.warnings)).toContain('the same in every process');
    } finally {
      await Promise.all([one.bot.close(), two.bot.close()]);
    }
  });

  it('in memory: the warning says only that sessions end with the process', async () => {
    const { bot, warnings } = webBot({});
    try {
      await bot.start();
      expect(sessionWarning(warnings)).toContain('they end when it stops');
      expect(sessionWarning(warnings)).not.toContain('other processes');
    } finally {
      await bot.close();
    }
  });
});
