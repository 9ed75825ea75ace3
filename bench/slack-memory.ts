/**
 * End to end in memory mode: one `parley serve` process (the worker in it, memory store and
 * queue) taking Slack's webhooks and answering through a fake AI of 500 ms and a fake Slack Web
 * API. The worker's concurrency is 64, so its ceiling, 128 replies/s, is that of the Redis bench.
 * The same phases as on Redis (bench/e2e-phases.ts): full load with redeliveries and ordered
 * conversations, then paced at half the ceiling for the reply overhead.
 */
import { parleyEnv, startChild, waitUntilReady } from './children.js';
import { Ledger, trackedFakes } from './e2e-ledger.js';
import { AI_LATENCY_MS, fullLoadPhase, pacedPhase, warmUpPhase, type Deployment } from './e2e-phases.js';
import { BOT_TOKEN, SIGNING_SECRET } from './slack-load.js';
import { closeRawPools } from './raw-http.js';

const WORKER_CONCURRENCY = 64;

/** Run the end-to-end benchmark in memory mode and print its lines. Returns whether nothing was lost, duplicated, out of order or refused. */
export async function benchSlackMemory(): Promise<boolean> {
  const ledger = new Ledger();
  const fakes = await trackedFakes(ledger, AI_LATENCY_MS);
  const env = parleyEnv({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: fakes.slack.url,
    OPENAI_BASE_URL: fakes.ai.url,
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
    AI_MAX_CONCURRENT: '256',
    CACHE_TTL_SECONDS: '0',
  });
  const server = await startChild(['cli/main.ts', 'serve'], env);
  try {
    await waitUntilReady(server.url);
    const deployment: Deployment = {
      mode: 'memory',
      shape: `one serve process with the worker × ${WORKER_CONCURRENCY}, memory store and queue, AI ${AI_LATENCY_MS} ms`,
      ingress: [server.url],
      pids: [server.child.pid],
      ceiling: (WORKER_CONCURRENCY * 1000) / AI_LATENCY_MS,
    };
    await warmUpPhase(deployment, ledger);
    const full = await fullLoadPhase(deployment, ledger);
    const pacedOk = await pacedPhase(deployment, ledger);
    return full && pacedOk;
  } finally {
    await server.stop();
    closeRawPools();
    await fakes.close();
  }
}
