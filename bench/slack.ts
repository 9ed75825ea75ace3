/**
 * The Slack ingress benchmark: correctly signed `app_mention` events per second and p50/p99
 * acknowledgement latency at 50 connections, for a bare Bolt `App` with a no-op listener (the
 * baseline) and for parley's /slack/events (ingress only: `serve --no-worker`), once with the
 * memory store and once on Redis (dedupe claim, rate limit and enqueue into the intake, in one script), on
 * the same machine in the same run, with their ratios to Bolt. For reference, node:http alone with
 * only the signature check and JSON.parse (bench/node-floor.ts): the floor under both, so the
 * figures say how much of an ack is the frameworks' own work. Then parley once more with the
 * worker answering in the same process, for reference.
 *
 * All servers run all the time, but only one is under load at any moment: after a warm-up each,
 * the measured time is split into alternating rounds (Bolt, the floor, parley memory, parley Redis, Bolt, …)
 * so that a neighbour's burst of CPU on a shared machine lands on every side instead of skewing
 * the ratios.
 */
import type { FakeOpenAi } from '../test/fakes/openai-server.js';
import type { FakeSlack } from '../test/fakes/slack-api.js';
import { ingressOnly, parleyEnv, startChild, waitUntilReady, type Child } from './children.js';
import { queuedAccounting } from './metrics.js';
import type { BenchRedis } from './redis.js';
import { DURATION_S, WARMUP_S } from './settings.js';
import { BOT_TOKEN, SIGNING_SECRET, Tally, eventsSigned, load, tsOf } from './slack-load.js';

/** Per user per minute: far above what one user sends here, so the limiter runs but never refuses. */
const USER_LIMIT_PER_MINUTE = 1_000_000;
/** What issue 15 asks of the ingress (ratios to bare Bolt); the p99 is the Slack issue's. */
const TARGET_RATIO_MEMORY = 1.5;
const TARGET_P99_MS = 25;
const TARGET_RATIO_REDIS = 1.0;
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
  /** Events sent to it, warm-up included. */
  sent: number;
}

function startParley(fakes: Fakes, options: { worker: boolean; redis?: { url: string; prefix: string } }): Promise<Child> {
  const env = parleyEnv({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: fakes.slack.url,
    OPENAI_BASE_URL: fakes.ai.url,
    RATE_LIMIT_USER_PER_MINUTE: String(USER_LIMIT_PER_MINUTE),
    CACHE_TTL_SECONDS: '0',
    WORKER_CONCURRENCY: '32',
    AI_MAX_CONCURRENT: '64',
    ...(options.redis ? { REDIS_URL: options.redis.url, REDIS_PREFIX: options.redis.prefix } : {}),
  });
  return startChild(options.worker ? ['cli/main.ts', 'serve'] : ingressOnly(env), env);
}

function startBareBolt(fakes: Fakes): Promise<Child> {
  return startChild(['bench/bare-bolt.ts'], { ...process.env, BENCH_SLACK_API_URL: fakes.slack.url, BENCH_SLACK_SIGNING_SECRET: SIGNING_SECRET });
}

/** The floor: node:http with only the signature check and JSON.parse (bench/node-floor.ts). */
function startFloor(): Promise<Child> {
  return startChild(['bench/node-floor.ts'], { ...process.env, BENCH_SLACK_SIGNING_SECRET: SIGNING_SECRET });
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const figures = (t: Tally) =>
  `${Math.round(t.perSecond)} ev/s, p50 ${ms(t.latency(0.5))}, p99 ${ms(t.latency(0.99))}` +
  (t.cpuPerEventUs === undefined ? '' : `, server CPU ${Math.round(t.cpuPerEventUs)} µs/event`) +
  (t.serviceCpuPerEventUs === undefined ? '' : ` + Redis server CPU ${Math.round(t.serviceCpuPerEventUs)} µs/event`) +
  ` (${t.acknowledged} acknowledged, ${t.non2xx} non-2xx, ${t.errors} errors, ${t.timeouts} timeouts)`;
const met = (ok: boolean) => (ok ? 'met' : 'not met');

/**
 * Run the Slack ingress benchmark and print its lines; the Redis figure only when `redis` is given.
 * Returns false when a request was refused or failed.
 */
export async function benchSlack(fakes: Fakes, redis?: BenchRedis): Promise<boolean> {
  const contender = async (label: string, server: Promise<Child>, servicePid?: number): Promise<Contender> => ({ label, server: await server, tally: new Tally(servicePid), warmedUp: 0, sent: 0 });
  const [bolt, floor, memory, onRedis] = await Promise.all([
    contender('bare Bolt', startBareBolt(fakes)),
    contender('node:http floor', startFloor()),
    contender('parley memory', startParley(fakes, { worker: false })),
    redis ? contender('parley Redis', startParley(fakes, { worker: false, redis: { url: redis.url, prefix: redis.prefix('ingress') } }), redis.serverPid) : undefined,
  ]);
  const parleys = onRedis ? [memory, onRedis] : [memory];
  await Promise.all(parleys.map((c) => waitUntilReady(c.server.url)));
  const contenders = [bolt, floor, ...parleys];
  // Only one server is under load at a time, so the events signed meanwhile were sent to it.
  const counted = async (c: Contender, work: () => Promise<void>) => {
    const before = eventsSigned();
    await work();
    c.sent += eventsSigned() - before;
  };
  for (const c of contenders) await counted(c, async () => void (c.warmedUp = (await load(c.server.url, WARMUP_S))['2xx']));
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of contenders) await counted(c, () => c.tally.round(c.server.url, c.server.child.pid, DURATION_S / ROUNDS));
  }
  await Promise.all([bolt.server.stop(), floor.server.stop()]);
  const accounting = await Promise.all(parleys.map((c) => queuedAccounting(c.server.url, c.warmedUp + c.tally.acknowledged, c.sent)));
  await Promise.all(parleys.map((c) => c.server.stop()));

  const ratio = (c: Contender) => c.tally.perSecond / bolt.tally.perSecond;
  console.log(`slack ingress, bare Bolt (no-op listener): ${figures(bolt.tally)}; delivered: n/a (a no-op listener queues nothing; ${bolt.sent} sent)`);
  console.log(
    `slack ingress, node:http floor (signature check + JSON.parse + 200, nothing kept; a reference, not a contender): ${figures(floor.tally)}` +
      ` — ${ratio(floor).toFixed(2)}× bare Bolt; what is above it is the frameworks' own work`,
  );
  console.log(
    `slack ingress, parley (dedupe + rate limit + enqueue, memory, --no-worker): ${figures(memory.tally)}` +
      ` — ratio ${ratio(memory).toFixed(2)}× bare Bolt (target ≥ ${TARGET_RATIO_MEMORY}×: ${met(ratio(memory) >= TARGET_RATIO_MEMORY)}),` +
      ` p99 target ≤ ${TARGET_P99_MS} ms: ${met(memory.tally.latency(0.99) <= TARGET_P99_MS)}; ${accounting[0]}`,
  );
  if (onRedis) {
    console.log(
      `slack ingress, parley on Redis (dedupe + rate limit + enqueue into the intake stream, --no-worker): ${figures(onRedis.tally)}` +
        ` — ratio ${ratio(onRedis).toFixed(2)}× bare Bolt (target ≥ ${TARGET_RATIO_REDIS}×: ${met(ratio(onRedis) >= TARGET_RATIO_REDIS)}); ${accounting[1]}`,
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

  await referenceWithWorker(fakes);
  return contenders.every((c) => c.tally.clean);
}

/**
 * For reference: the same load while the worker answers every event in the same process; then,
 * once the replies stop, every event sent accounted for by its reply (found by its thread ts).
 * The fakes' call logs are cleared as they go (the fake Slack scans its log on every call).
 */
async function referenceWithWorker(fakes: Fakes): Promise<void> {
  const replies = new Map<string, number>();
  let lastReplyAt = Date.now();
  fakes.slack.on('chat.postMessage', (call) => {
    const ts = String(call.args.thread_ts);
    replies.set(ts, (replies.get(ts) ?? 0) + 1);
    lastReplyAt = Date.now();
    return undefined;
  });
  const trim = setInterval(() => {
    fakes.slack.calls.length = 0;
    fakes.ai.calls.length = 0;
  }, 100);
  try {
    const full = await startParley(fakes, { worker: true });
    const first = eventsSigned();
    const warmedUp = (await load(full.url, WARMUP_S))['2xx'];
    const fullTally = new Tally();
    await fullTally.round(full.url, full.child.pid, DURATION_S);
    const sent = Array.from({ length: eventsSigned() - first }, (_, k) => tsOf(first + k));
    // The queue drains after the load: wait until every event sent is answered, or 2 s without a reply.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && Date.now() - lastReplyAt < 2_000 && !sent.every((ts) => replies.has(ts))) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await full.stop();
    const acknowledged = warmedUp + fullTally.acknowledged;
    const delivered = sent.filter((ts) => replies.has(ts)).length;
    const duplicated = sent.filter((ts) => (replies.get(ts) ?? 0) > 1).length;
    console.log(
      `slack ingress with the worker answering in the same process (reference, not the target figure): ${figures(fullTally)};` +
        ` delivered ${delivered} / lost ${Math.max(0, acknowledged - delivered)} / duplicated ${duplicated} of ${acknowledged} acknowledged, ${sent.length} sent (warm-up included)`,
    );
  } finally {
    clearInterval(trim);
    fakes.slack.reset();
  }
}
