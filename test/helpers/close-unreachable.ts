/**
 * A script as a user writes it (run by test/e2e/close-unreachable-redis.test.ts in a child
 * process): a bot whose Redis is unreachable takes one web chat message, then closes. Prints the
 * message's status, then "closed" once close() resolved; the process should then end by itself.
 */
import { webChat } from '../../adapters/web/index.js';
import { createBot } from '../../src/index.js';

const token = 'close-unreachable-token-0123456789';
const bot = createBot({
  adapters: [webChat()],
  env: { REDIS_URL: process.env.REDIS_URL!, SHUTDOWN_TIMEOUT_MS: '3000', LOG_LEVEL: 'silent', OPENAI_API_KEY: 'sk-test', WEB_TOKEN: token },
});
const res = await bot.fetch(
  new Request('http://localhost/web/messages', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ conversation: 'c1', text: 'hello?' }),
  }),
);
console.log(`status ${res.status}`);
await bot.close();
console.log('closed');
