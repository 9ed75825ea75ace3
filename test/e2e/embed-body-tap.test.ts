/**
 * parley in an Express app whose own middleware in front listens to the body and passes the
 * request on at once (a byte count, a hash, a request log): the body already flows when parley
 * gets the request, from the next tick, so parley must listen to it at once rather than with the
 * other requests of its loop turn (src/http/together.ts), or it loses the first chunks (a 500
 * body_already_parsed, or a signature that no longer matches). Real servers on loopback; Slack
 * and the AI are fakes.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPRESS_BOT_SIGNING_SECRET, startExpressBot, type ExpressBot } from '../helpers/express-bot.js';
import { appMention, postSlack, signSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

let app: ExpressBot;
/** The body bytes the app's own middleware saw. */
let tappedBytes = 0;

beforeAll(async () => {
  app = await startExpressBot({
    mount(express, bot) {
      // The app's own: counts each request's body bytes, and passes the request on without waiting for them.
      express.use((req, _res, next) => {
        req.on('data', (chunk: Buffer) => void (tappedBytes += chunk.byteLength));
        next();
      });
      express.use(bot.middleware);
    },
  });
});
afterAll(() => app?.close());

describe('an app middleware in front that listens to the body and passes the request on at once', () => {
  it('leaves parley the whole signed body: the event is taken and answered once', async () => {
    const event = appMention({ text: 'tapped mention' });
    const res = await postSlack(`${app.base}/slack/events`, event);
    expect(res.status).toBe(200);
    // The app's middleware still sees every byte too.
    expect(tappedBytes).toBe(Buffer.byteLength(JSON.stringify(event)));
    await until(() => app.postsOf('tapped mention').length === 1, 'the answer on Slack');
  });

  it('leaves parley the whole body when its rest arrives after the request began', async () => {
    const raw = JSON.stringify(appMention({ text: 'tapped in two parts' }));
    const headers = Object.entries({ host: `127.0.0.1:${app.port}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(raw)), ...signSlack(EXPRESS_BOT_SIGNING_SECRET, raw) })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    const socket = connect(app.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += String(chunk)));
    socket.write(`POST /slack/events HTTP/1.1\r\n${headers}\r\n${raw.slice(0, 40)}`);
    // The start of the body is read (and flows to the app's listener) before the rest is sent.
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.end(raw.slice(40));
    await until(() => answer.includes('\r\n\r\n') || socket.destroyed, 'an answer');
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    await until(() => app.postsOf('tapped in two parts').length === 1, 'the answer on Slack');
    socket.destroy();
  });
});
