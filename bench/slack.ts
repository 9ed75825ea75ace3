/**
 * The Slack ingress benchmark: correctly signed `app_mention` events per second and p50/p99
 * acknowledgement latency at 50 connections, for a bare Bolt `App` with a no-op listener (the
 * baseline) and for parley's /slack/events (ingress only: `serve --no-worker`), once with the
 * memory store and once on Redis (dedupe claim, rate limit and BullMQ enqueue all in Redis), on
 * the same machine in the same run, with their ratios to Bolt. Then parley once more with the
 * worker answering in the same process, for reference.
 *
 * All servers run all the time, but only one is under load at any moment: after a warm-up each,
 * the measured time is split into alternating rounds (Bolt, parley memory, parley Redis, Bolt, …)
 * so that a neighbour's burst of CPU on a shared machine lands on every side instead of skewing
 * the ratios.
 */
import type { FakeOpenAi } from '../test/fakes/openai-server.js';
import type { FakeSlack } from '../test/fakes/slack-api.js';
import { parleyEnv, startChild, waitUntilReady, type Child } from './children.js';
import { fetchMetrics, sumMetric } from './metrics.js';
import type { BenchRedis } from './redis.js';
import { DURATION_S, WARMUP_S } from './settings.js';
import { BOT_TOKEN, SIGNING_SECRET, Tally, load } from './slack-load.js';

/** Per user per minute: far above what one user sends here, so the limiter runs but never refuses. */
const USER_LIMIT_PER_MINUTE = 1_000_000;
/** What the issues ask of parley: the Slack issue of the memory ingress, the scale-out issue of the Redis one. */
const TARGET_RATIO_MEMORY = 0.8;
const TARGET_P99_MS = 25;
const TARGET_RATIO_REDIS = 0.6;
/** The measured time per server, DURATION_S, is split into this many alternating rounds. */
const ROUNDS = Math.max(1, Math.min(5, Math.floor(DURATION_S)));

interface Fakes {
  ai: FakeOpenAi;
  slack: FakeSlack;
}

/** One server under measurement. */
interface Contender {
  label: string;
  server: Child;
  tally: Tally;
  /** Events acknowledged during the warm-up (they are queued too). */
  warmedUp: number;
}

function startParley(fakes: Fakes, options: { worker: boolean; redis?: { url: string; prefix: string } }): Promise<Child> {
  return startChild(
    ['cli/main.ts', 'serve', ...(options.worker ? [] : ['--no-worker'])],
    parleyEnv({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fakes.slack.url,
      OPENAI_BASE_URL: fakes.ai.url,
      RATE_LIMIT_USER_PER_MINUTE: String(USER_LIMIT_PER_MINUTE),
      CACHE_TTL_SECONDS: '0',
      WORKER_CONCURRENCY: '32',
      AI_MAX_CONCURRENT: '64',
      ...(options.redis ? { REDIS_URL: options.redis.url, REDIS_PREFIX: options.redis.prefix } : {}),
    }),
  );
}

function startBareBolt(fakes: Fakes): Promise<Child> {
  return startChild(['bench/bare-bolt.ts'], { ...process.env, BENCH_SLACK_API_URL: fakes.slack.url, BENCH_SLACK_SIGNING_SECRET: SIGNING_SECRET });
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const figures = (t: Tally) =>
  `${Math.round(t.perSecond)} ev/s, p50 ${ms(t.latency(0.5))}, p99 ${ms(t.latency(0.99))}` +
  (t.cpuPerEventUs === undefined ? '' : `, server CPU ${Math.round(t.cpuPerEventUs)} µs/event`) +
  (t.serviceCpuPerEventUs === undefined ? '' : ` + Redis server CPU ${Math.round(t.serviceCpuPerEventUs)} µs/event`) +
  ` (${t.acknowledged} acknowledged, ${t.non2xx} non-2xx, ${t.errors} errors, ${t.timeouts} timeouts)`;
const met = (ok: boolean) => (ok ? 'met' : 'not met');

/**
 * What parley did with the events it acknowledged, from its /metrics: queued (the queue-depth gauge
 * is refreshed every 5 s, so this waits for a refresh), refused by the rate limit, dropped as
 * duplicates. Shows that the acknowledgements measured are real enqueues.
 */
async function parleyAccounting(url: string, sent: number): Promise<string> {
  const waiting = 'parley_queue_depth{state="waiting"}';
  const deadline = Date.now() + 6_000;
  let text = '';
  while (Date.now() < deadline) {
    text = await fetchMetrics(url);
    if (sumMetric(text, waiting) >= sent) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return (
    `${sumMetric(text, waiting)} events queued of ${sent} acknowledged (warm-up included; requests in flight when a round ends are queued but not counted),` +
    ` ${sumMetric(text, 'parley_rate_limited_total')} refused by the rate limit, ${sumMetric(text, 'parley_duplicates_dropped_total')} dropped as duplicates`
  );
}

/**
 * Run the Slack ingress benchmark and print its lines; the Redis figure only when `redis` is given.
 * Returns false when a request was refused or failed.
 */
export async function benchSlack(fakes: Fakes, redis?: BenchRedis): Promise<boolean> {
  const contender = async (label: string, server: Promise<Child>, servicePid?: number): Promise<Contender> => ({ label, server: await server, tally: new Tally(servicePid), warmedUp: 0 });
  const [bolt, memory, onRedis] = await Promise.all([
    contender('bare Bolt', startBareBolt(fakes)),
    contender('parley memory', startParley(fakes, { worker: false })),
    redis ? contender('parley Redis', startParley(fakes, { worker: false, redis: { url: redis.url, prefix: redis.prefix('ingress') } }), redis.serverPid) : undefined,
  ]);
  const parleys = onRedis ? [memory, onRedis] : [memory];
  await Promise.all(parleys.map((c) => waitUntilReady(c.server.url)));
  const contenders = [bolt, ...parleys];
  for (const c of contenders) c.warmedUp = (await load(c.server.url, WARMUP_S))['2xx'];
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of contenders) await c.tally.round(c.server.url, c.server.child.pid, DURATION_S / ROUNDS);
  }
  await bolt.server.stop();
  const accounting = await Promise.all(parleys.map((c) => parleyAccounting(c.server.url, c.warmedUp + c.tally.acknowledged)));
  await Promise.all(parleys.map((c) => c.server.stop()));

  const ratio = (c: Contender) => c.tally.perSecond / bolt.tally.perSecond;
  console.log(`slack ingress, bare Bolt (no-op listener): ${figures(bolt.tally)}`);
  console.log(
    `slack ingress, parley (dedupe + rate limit + enqueue, memory, --no-worker): ${figures(memory.tally)}` +
      ` — ratio ${ratio(memory).toFixed(2)}× bare Bolt (target ≥ ${TARGET_RATIO_MEMORY}×: ${met(ratio(memory) >= TARGET_RATIO_MEMORY)}),` +
      ` p99 target ≤ ${TARGET_P99_MS} ms: ${met(memory.tally.latency(0.99) <= TARGET_P99_MS)}`,
  );
  if (onRedis) {
    console.log(
      `slack ingress, parley on Redis (dedupe + rate limit + BullMQ enqueue, --no-worker): ${figures(onRedis.tally)}` +
        ` — ratio ${ratio(onRedis).toFixed(2)}× bare Bolt (target ≥ ${TARGET_RATIO_REDIS}×: ${met(ratio(onRedis) >= TARGET_RATIO_REDIS)})`,
    );
  }
  const boltCpu = bolt.tally.cpuPerEventUs;
  for (const c of parleys) {
    const cpu = c.tally.cpuPerEventUs;
    if (boltCpu && cpu) {
      console.log(`  ${c.label} uses ${(cpu / boltCpu).toFixed(2)}× bare Bolt's server CPU per event (when CPU-bound, that allows ${(boltCpu / cpu).toFixed(2)}× its throughput)`);
    }
  }
  if (onRedis) console.log('  (server CPU is the measured process only; the Redis server\'s CPU, where shown, is that of the whole shared Redis during those rounds)');
  console.log(`  (${ROUNDS} alternating rounds of ${DURATION_S / ROUNDS} s each after a ${WARMUP_S} s warm-up; latencies in steady state, each connection's first request per round left out)`);
  parleys.forEach((c, i) => console.log(`  ${c.label}: ${accounting[i]}`));

  // For reference: the same load while the worker answers every event in the same process.
  // The fakes' call logs are cleared as they go (the fake Slack scans its log on every call).
  let replies = 0;
  fakes.slack.on('chat.postMessage', () => void replies++);
  const trim = setInterval(() => {
    fakes.slack.calls.length = 0;
    fakes.ai.calls.length = 0;
  }, 100);
  try {
    const full = await startParley(fakes, { worker: true });
    await load(full.url, WARMUP_S);
    const fullTally = new Tally();
    await fullTally.round(full.url, full.child.pid, DURATION_S);
    await full.stop();
    console.log(`slack ingress with the worker answering in the same process (reference, not the target figure): ${figures(fullTally)}; ${replies} replies posted meanwhile`);
  } finally {
    clearInterval(trim);
    fakes.slack.reset();
  }

  return contenders.every((c) => c.tally.clean);
}
