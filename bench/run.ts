/**
 * `npm run bench`: figures, not assertions. Starts real servers in child processes on loopback with
 * a fake OpenAI-compatible AI and a fake Slack Web API, and measures at 50 connections:
 *  - web chat (bench/web.ts): ingress only, then the whole pipeline with delivery accounting;
 *  - Slack ingress (bench/slack.ts): signed app_mention events against a bare Bolt App and against
 *    parley's /slack/events with the memory store and on Redis, with the ratios;
 *  - Slack end to end on Redis (bench/slack-e2e.ts): two ingress and two worker processes, an AI of
 *    500 ms, redeliveries; replies per second and delivered / lost / duplicated;
 *  - the fault matrix (bench/faults.ts): AI 429 bursts and outages, Slack 429s, Slack down at
 *    start, signed malformed payloads; answered / apologised / dead-lettered / duplicated;
 *  - AWS Lambda (bench/aws.ts): bundle sizes, the ingress handler's cold start and warm duration.
 * The Redis parts use the Redis on 127.0.0.1:6379 under a prefix of this run, deleted at the end.
 */
import { startFakeOpenAi } from '../test/fakes/openai-server.js';
import { startFakeSlack } from '../test/fakes/slack-api.js';
import { stopAllChildren } from './children.js';
import { openBenchRedis, type BenchRedis } from './redis.js';
import { benchSlack } from './slack.js';
import { benchSlackEndToEnd } from './slack-e2e.js';
import { benchWeb } from './web.js';
import { benchFaults } from './faults.js';
import { benchAws } from './aws.js';

async function main(): Promise<void> {
  let redis: BenchRedis | undefined;
  try {
    redis = await openBenchRedis();
  } catch (error) {
    console.error(`${(error as Error).message}; the Redis figures are left out`);
    process.exitCode = 1;
  }
  const ai = await startFakeOpenAi(() => ({ text: 'ok' }));
  const slack = await startFakeSlack();
  try {
    await benchWeb(ai);
    if (!(await benchSlack({ ai, slack }, redis))) {
      console.error('slack ingress: some requests were refused or failed (see the counts above); the figures are not comparable');
      process.exitCode = 1;
    }
    if (redis && !(await benchSlackEndToEnd(redis))) {
      console.error('slack end to end on Redis: an event was lost, duplicated, refused or failed (see above)');
      process.exitCode = 1;
    }
    await benchFaults();
    await benchAws();
  } finally {
    await stopAllChildren();
    await Promise.all([ai.close(), slack.close()]);
    if (redis) console.log(`  (Redis: deleted the run's ${await redis.cleanup()} keys)`);
  }
}

await main();
