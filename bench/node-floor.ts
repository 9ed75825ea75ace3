/**
 * A reference for the Slack ingress benchmark: what node:http alone costs for a signed event, doing
 * only what any acknowledgement must (read the body, check Slack's signature, JSON.parse, answer
 * 200), with no framework, no dedupe, no limit and no queue. Neither parley nor Bolt can ack for
 * less on this machine; the gap to it is what their own layers cost. Started by bench/slack.ts with
 * BENCH_SLACK_SIGNING_SECRET; prints `{"url":"http://127.0.0.1:PORT"}` once listening.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const signingSecret = process.env.BENCH_SLACK_SIGNING_SECRET;
if (!signingSecret) {
  console.error('bench/node-floor.ts: set BENCH_SLACK_SIGNING_SECRET');
  process.exit(2);
}

function signedBy(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(`v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (!signedBy(signingSecret, String(req.headers['x-slack-request-timestamp']), body, String(req.headers['x-slack-signature']))) {
      res.statusCode = 401;
      return void res.end();
    }
    try {
      res.statusCode = (JSON.parse(body) as { type?: unknown }).type === 'event_callback' ? 200 : 400;
    } catch {
      res.statusCode = 400;
    }
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as AddressInfo;
  console.log(JSON.stringify({ msg: 'node:http floor listening', url: `http://127.0.0.1:${address.port}` }));
});
