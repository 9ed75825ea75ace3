/**
 * End to end on Redis, as issue 6 scales parley out: two ingress processes (`serve --no-worker`)
 * and two worker processes (`worker --concurrency 32`) sharing one Redis prefix, a fake AI that
 * takes 500 ms and echoes the question, and a fake Slack Web API that counts chat.postMessage.
 * The phases (bench/e2e-phases.ts): full load with redeliveries and ordered conversations, then
 * paced at half the ceiling for the reply overhead; each accounts for every acknowledged event
 * (delivered, lost, duplicated) and prints the CPU per answered message.
 */
import { Queue } from 'bullmq';
import { parleyEnv, startChild, waitUntilReady, type Child } from './children.js';
import { Ledger, trackedFakes } from './e2e-ledger.js';
import { AI_LATENCY_MS, fullLoadPhase, pacedPhase, warmUpPhase, type Deployment } from './e2e-phases.js';
import type { BenchRedis } from './redis.js';
import { BOT_TOKEN, SIGNING_SECRET } from './slack-load.js';
import { closeRawPools } from './raw-http.js';

const INGRESS = 2;
export const WORKERS = 2;
export const WORKER_CONCURRENCY = 32;

export const REDIS_SHAPE = `${INGRESS} ingress --no-worker, ${WORKERS} workers × ${WORKER_CONCURRENCY}, AI ${AI_LATENCY_MS} ms`;

/** The settings both Redis benches give parley, on top of `parleyEnv`'s. */
export function redisBenchEnv(redisUrl: string, prefix: string, fakes: { ai: { url: string }; slack: { url: string } }): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: fakes.slack.url,
    OPENAI_BASE_URL: fakes.ai.url,
    // The limiter runs on Redis but never refuses; the AI bulkhead never holds a worker back.
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    AI_MAX_CONCURRENT: '256',
    CACHE_TTL_SECONDS: '0',
  };
}

/**
 * INGRESS ingress processes and WORKERS worker processes on one Redis prefix (the settings in
 * `env`), run from the checkout `cwd` (default: this one); resolves once every ingress process's
 * /readyz says so, as a load balancer would wait.
 */
export async function startRedisDeployment(env: NodeJS.ProcessEnv, cwd?: string): Promise<{ ingress: Child[]; workers: Child[] }> {
  const [ingress, workers] = await Promise.all([
    Promise.all(Array.from({ length: INGRESS }, () => startChild(['cli/main.ts', 'serve', '--no-worker'], env, { cwd }))),
    Promise.all(
      Array.from({ length: WORKERS }, () =>
        startChild(['cli/main.ts', 'worker', '--concurrency', String(WORKER_CONCURRENCY)], env, { ready: /parley worker running/, cwd }),
      ),
    ),
  ]);
  await Promise.all(ingress.map((c) => waitUntilReady(c.url)));
  return { ingress, workers };
}

/** Run the end-to-end benchmark on Redis and print its lines. Returns whether nothing was lost, duplicated, out of order or refused. */
export async function benchSlackEndToEnd(redis: BenchRedis): Promise<boolean> {
  const ledger = new Ledger();
  const fakes = await trackedFakes(ledger, AI_LATENCY_MS);
  const prefix = redis.prefix('e2e');
  const env = parleyEnv(redisBenchEnv(redis.url, prefix, fakes));
  const children: Child[] = [];
  try {
    const { ingress, workers } = await startRedisDeployment(env);
    children.push(...ingress, ...workers);
    const deployment: Deployment = {
      mode: 'Redis',
      shape: REDIS_SHAPE,
      ingress: ingress.map((c) => c.url),
      pids: children.map((c) => c.child.pid),
      workerPids: workers.map((c) => c.child.pid),
      servicePid: redis.serverPid,
      ceiling: (WORKERS * WORKER_CONCURRENCY * 1000) / AI_LATENCY_MS,
      afterRun: async () => `queue after the run: ${await queueCounts(redis.url, prefix)}`,
    };
    await warmUpPhase(deployment, ledger);
    const full = await fullLoadPhase(deployment, ledger);
    const pacedOk = await pacedPhase(deployment, ledger);
    return full && pacedOk;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    closeRawPools();
    await fakes.close();
  }
}

/** The BullMQ queue's job counts under `prefix` (parley's queue is named "messages"). */
async function queueCounts(url: string, prefix: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const queue = new Queue('messages', { connection: { host: hostname, port: Number(port) }, prefix });
  try {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    return Object.entries(counts)
      .map(([state, n]) => `${n} ${state}`)
      .join(', ');
  } finally {
    await queue.close();
  }
}
