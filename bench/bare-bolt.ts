/**
 * The baseline for the Slack ingress benchmark: a bare Bolt `App` on its default HTTPReceiver
 * (POST /slack/events, Bolt's own signature check) with a no-op `app_mention` listener.
 * Started by bench/slack.ts with BENCH_SLACK_API_URL (a fake Slack, so the start-up auth.test
 * succeeds) and BENCH_SLACK_SIGNING_SECRET; prints `{"url":"http://127.0.0.1:PORT"}` once listening.
 */
import type { AddressInfo } from 'node:net';
import { App } from '@slack/bolt';

const slackApiUrl = process.env.BENCH_SLACK_API_URL;
const signingSecret = process.env.BENCH_SLACK_SIGNING_SECRET;
if (!slackApiUrl || !signingSecret) {
  console.error('bench/bare-bolt.ts: set BENCH_SLACK_API_URL and BENCH_SLACK_SIGNING_SECRET');
  process.exit(2);
}
const port = 0;
const app = new App({ token: 'xoxb-bench', signingSecret, clientOptions: { slackApiUrl }, port });
app.event('app_mention', async () => {});
const server = await app.start({ port, host: '127.0.0.1' });
const address = server.address() as AddressInfo;
console.log(JSON.stringify({ msg: 'bare Bolt listening', url: `http://127.0.0.1:${address.port}` }));
