/**
 * The web chat on loopback without WEB_SESSION_SECRET signs sessions with a secret made up for the
 * process. With a shared store (several `serve` on one Redis) the other processes refuse those
 * sessions: the start-up warning says so, and shows it happening. `parley worker` serves no session
 * (only the chat's answers go out there): it says nothing of the secret; `parley serve` does.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { webChat } from '../../adapters/web/index.js';
import { createBot, loadConfig } from '../../src/index.js';
import { REDIS_URL, uniquePrefix } from '../integration/redis-helpers.js';
import { startParley } from '../helpers/processes.js';
import { until } from '../helpers/until.js';
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

describe('which processes warn of WEB_SESSION_SECRET unset', () => {
  it('parley worker does not (it serves no session); parley serve on the same store does', async () => {
    const env = { REDIS_URL, REDIS_PREFIX: uniquePrefix() };
    const worker = await startParley(['worker'], env);
    try {
      // Its adapters have started ("running" waits for them), the web chat's included.
      expect(worker.logs()).toContain('"adapters":["web"]');
      expect(worker.logs()).not.toContain('WEB_SESSION_SECRET is not set');
    } finally {
      await worker.stop();
    }
    const serve = await startParley(['serve', '--no-worker'], env);
    try {
      await until(() => serve.logs().includes('WEB_SESSION_SECRET is not set'), 'serve to warn of the session secret', 15_000);
    } finally {
      await serve.stop();
    }
  }, 60_000);
});
