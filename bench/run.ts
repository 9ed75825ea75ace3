/**
 * `npm run bench`: figures, not assertions. Starts real servers in child processes on loopback with
 * a fake, instant OpenAI-compatible AI and a fake Slack Web API, and measures at 50 connections:
 *  - web chat (bench/web.ts): ingress only, then the whole pipeline with delivery accounting;
 *  - Slack ingress (bench/slack.ts): signed app_mention events against a bare Bolt App and against
 *    parley's /slack/events, with the ratio.
 */
import { startFakeOpenAi } from '../test/fakes/openai-server.js';
import { startFakeSlack } from '../test/fakes/slack-api.js';
import { stopAllChildren } from './children.js';
import { benchSlack } from './slack.js';
import { benchWeb } from './web.js';

async function main(): Promise<void> {
  const ai = await startFakeOpenAi(() => ({ text: 'ok' }));
  const slack = await startFakeSlack();
  try {
    await benchWeb(ai);
    if (!(await benchSlack({ ai, slack }))) {
      console.error('slack ingress: some requests were refused or failed (see the counts above); the figures are not comparable');
      process.exitCode = 1;
    }
  } finally {
    await stopAllChildren();
    await Promise.all([ai.close(), slack.close()]);
  }
}

await main();
