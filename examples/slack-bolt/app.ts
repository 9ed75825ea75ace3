/**
 * An existing Bolt app — with a slash command of its own — that adds parley for conversations.
 *
 *   SLACK_BOT_TOKEN=xoxb-… SLACK_SIGNING_SECRET=… OPENAI_API_KEY=… npx tsx examples/slack-bolt/app.ts
 *
 * Bolt keeps doing what it does (commands, shortcuts, actions, your listeners); parley answers
 * mentions, DMs and thread follow-ups through its queue, with retries, dedupe and rate limits.
 * Point the app's Event Subscriptions and the slash command at https://<your host>/slack/events.
 *
 * In your project, import from the package instead of the repository paths:
 *   import { createBot, loadConfig } from 'parley';
 *   import { ParleyReceiver, slackAdapter, slackConfigFromEnv, slackSdkLogger } from 'parley/adapters/slack';
 */
import { App } from '@slack/bolt';
import { ParleyReceiver, slackAdapter, slackConfigFromEnv, slackSdkLogger } from '../../adapters/slack/index.js';
import { createBot, loadConfig } from '../../src/index.js';
import { runWhenExecutedDirectly, urlOf, type RunningExample } from '../support.js';

export type { RunningExample };

/** Start the app; `port` 0 picks a free port (tests), default PORT from the environment (3000). */
export async function start(port?: number, env: Record<string, string | undefined> = process.env): Promise<RunningExample> {
  const config = loadConfig(env);
  const slack = slackConfigFromEnv(env);
  if (!slack) throw new Error('Set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (see the README) to run this example.');

  // Your Bolt app, as you have it today — except that parley's HTTP layer feeds it (ParleyReceiver)
  // so that parley verifies each request once and answers Slack within its 3 seconds. Its lines
  // (and a listener's errors) go to the bot's log as JSON lines rather than to the console.
  const app = new App({
    token: slack.botToken,
    receiver: new ParleyReceiver(),
    deferInitialization: true,
    // Bolt's default client retries for about 30 minutes (a start with Slack down would wait that
    // long); parley retries the start itself.
    clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } },
    logger: slackSdkLogger(() => bot.logger), // the bot made below (what is logged before it is dropped)
  });
  app.command('/ticket', async ({ command, ack }) => {
    await ack({ response_type: 'ephemeral', text: `Ticket opened: ${command.text}` });
  });

  const bot = createBot({ config, adapters: [slackAdapter({ ...slack, app })] });
  const server = await bot.listen(port ?? config.port, config.host);
  await bot.ready;
  const url = urlOf(server);
  bot.logger.info({ url }, `Bolt app with parley listening on ${url}${slack.path}`);
  return { url, close: async () => void (await bot.close()) };
}

// Run when executed directly, not when imported by a test.
await runWhenExecutedDirectly(import.meta.url, start);
