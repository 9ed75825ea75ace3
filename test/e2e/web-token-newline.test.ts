/** A WEB_TOKEN read from a file (`echo tok > f`, a Kubernetes --from-file secret) ends in a newline: the bearer without it opens the operator's view. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const OPERATOR = 'operator-token-of-some-length-0123456789';

describe('web chat: WEB_TOKEN with a trailing newline', () => {
  let web: WebBot;
  beforeAll(async () => {
    web = await startWebBot({ WEB_TOKEN: `${OPERATOR}\n`, WEB_SESSION_SECRET: 'a-session-secret-of-32-characters-or-more' });
  });
  afterAll(async () => {
    await web.close();
  });

  it('the operator bearer token (as typed, no newline) is accepted; a wrong one is still refused', async () => {
    const read = (token: string) => fetch(`${web.url}/web/conversations/ops-1`, { headers: { authorization: `Bearer ${token}` } });
    expect((await read(OPERATOR)).status).toBe(200);
    expect((await read('not-the-operator-token-0123456789')).status).toBe(401);
  });
});
