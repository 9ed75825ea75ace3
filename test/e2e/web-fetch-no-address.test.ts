/**
 * bot.fetch is handed no client address unless the app passes it, so a request from this machine
 * cannot be told apart from a visitor's: the web chat's no-setup mode on loopback (chatting without
 * a session) needs `{ remoteAddress }`, and the 401 says so.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { webChat } from '../../adapters/web/index.js';
import { createBot, loadConfig } from '../../src/index.js';
import { testEnv } from '../helpers/web-bot.js';

const message = () =>
  new Request('http://127.0.0.1/web/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 'demo', text: 'hi' }) });

describe('bot.fetch on loopback without a session', () => {
  it('without { remoteAddress } answers 401 session_required naming the missing address; with it, takes the message', async () => {
    const bot = createBot({ config: loadConfig({ ...testEnv, HOST: '127.0.0.1' }), adapters: [webChat()], logger: pino({ level: 'silent' }) });
    await bot.start();
    try {
      const refused = await bot.fetch(message());
      expect(refused.status).toBe(401);
      const { error } = (await refused.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('session_required');
      expect(error.message).toContain('without { remoteAddress }');
      expect((await bot.fetch(message(), { remoteAddress: '127.0.0.1' })).status).toBe(202);
    } finally {
      await bot.close();
    }
  });
});
