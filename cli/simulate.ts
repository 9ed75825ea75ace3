/**
 * `parley simulate <platform> "text"`: send a correctly signed webhook to a running server —
 * the local testing story, the way `stripe trigger` does it.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Config } from '../src/index.js';
import { slackConfigFromEnv } from '../adapters/slack/index.js';
import { slackWebApi } from '../adapters/slack/sdk.js';
import { post, shownUrl } from './simulate-post.js';

export interface SimulateOptions {
  text: string;
  url?: string;
  dm?: boolean;
  retry?: number;
  user?: string;
  channel?: string;
  thread?: string;
  /** The workspace the event is from: with OAuth (many workspaces), one installed there. */
  team?: string;
}

/** Send one simulated Slack event; prints what was sent and the answer. Returns an exit code. */
export async function simulateSlack(config: Config, options: SimulateOptions): Promise<number> {
  const slack = slackConfigFromEnv(config.env);
  const secret = slack?.signingSecrets[0];
  if (!secret) {
    // Named with the token: the Slack settings are checked as a whole, so the secret alone is refused next.
    console.error('parley simulate slack: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN (the same ones the server uses; with OAuth, its SLACK_CLIENT_ID settings instead of the token) so the event can be signed.');
    return 2;
  }
  const url = options.url ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}${slack.path}`;
  const ts = `${Math.floor(Date.now() / 1000)}.${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
  const team = options.team ?? 'T0SIMULATE';
  const channel = options.channel ?? (options.dm ? 'D0SIMULATE' : 'C0SIMULATE');
  const user = options.user ?? 'U0SIMULATE';
  const bot = await botUserId(slack.botToken, slack.apiUrl);
  const event = options.dm
    ? { type: 'message', channel_type: 'im', channel, user, text: options.text, ts, event_ts: ts, ...(options.thread ? { thread_ts: options.thread } : {}) }
    : { type: 'app_mention', channel, user, text: bot ? `<@${bot}> ${options.text}` : options.text, ts, event_ts: ts, ...(options.thread ? { thread_ts: options.thread } : {}) };
  const body = JSON.stringify({
    token: 'simulated',
    team_id: team,
    api_app_id: 'A0SIMULATE',
    event,
    type: 'event_callback',
    event_id: `Ev${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    // As Slack sends it: the installation the event is for, naming the app's bot user.
    authorizations: [{ enterprise_id: null, team_id: team, user_id: bot ?? 'U0PARLEYBOT', is_bot: true, is_enterprise_install: false }],
  });
  const deliveries = 1 + (options.retry ?? 0);
  let failed = false;
  for (let n = 0; n < deliveries; n++) {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature };
    if (n > 0) Object.assign(headers, { 'x-slack-retry-num': String(n), 'x-slack-retry-reason': 'http_timeout' });
    const res = await post(url, { headers, body });
    if ('problem' in res) {
      console.error(res.problem);
      return 1;
    }
    console.log(`${n === 0 ? 'sent' : `redelivery #${n}`} ${event.type} to ${shownUrl(url)}: ${res.status} ${res.text}`);
    failed ||= !res.ok;
  }
  return failed ? 1 : 0;
}

/**
 * The bot user Slack would mention in the text, when the token's auth.test names it. Otherwise
 * (OAuth: no one token; a Slack it cannot reach) no mention is written: the server strips only its
 * own bot's, so a made-up one would reach the AI as text, where Slack's real mention never does.
 */
async function botUserId(token: string | undefined, apiUrl: string): Promise<string | undefined> {
  // With OAuth (many workspaces) there is no one bot token to ask.
  if (!token) return undefined;
  try {
    const { WebClient, LogLevel } = slackWebApi('parley simulate slack');
    // Quiet: a Slack it cannot reach only means no mention (the README says to share SLACK_API_URL).
    const client = new WebClient(token, { slackApiUrl: apiUrl, retryConfig: { retries: 0 }, timeout: 3000, logLevel: LogLevel.ERROR });
    return (await client.auth.test()).user_id || undefined;
  } catch {
    return undefined;
  }
}
