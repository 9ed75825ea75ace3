/**
 * The Slack ingress benchmark: correctly signed `app_mention` events per second and p50/p99
 * acknowledgement latency at 50 connections, for a bare Bolt `App` with a no-op listener (the
 * baseline) and for parley's /slack/events (memory store, ingress only: `serve --no-worker`),
 * on the same machine in the same run, with the ratio. Then parley once more with the worker
 * answering in the same process, for reference.
 *
 * Both servers run all the time, but only one is under load at any moment: after a warm-up each,
 * the measured time is split into alternating rounds (Bolt, parley, Bolt, parley, …) so that a
 * neighbour's burst of CPU on a shared machine lands on both sides instead of skewing the ratio.
 */
import type { FakeOpenAi } from '../test/fakes/openai-server.js';
import type { FakeSlack } from '../test/fakes/slack-api.js';
import { parleyEnv, startChild, type Child } from './children.js';
import { DURATION_S, WARMUP_S } from './settings.js';
import { BOT_TOKEN, SIGNING_SECRET, Tally, load } from './slack-load.js';

/** Per user per minute: far above what one user sends here, so the limiter runs but never refuses. */
const USER_LIMIT_PER_MINUTE = 1_000_000;
/** What the issue asks of parley. */
const TARGET_RATIO = 0.8;
const TARGET_P99_MS = 25;
/** The measured time per server, DURATION_S, is split into this many alternating rounds. */
const ROUNDS = Math.max(1, Math.min(5, Math.floor(DURATION_S)));

interface Fakes {
  ai: FakeOpenAi;
  slack: FakeSlack;
}

function startParley(fakes: Fakes, worker: boolean): Promise<Child> {
  return startChild(
    ['cli/main.ts', 'serve', ...(worker ? [] : ['--no-worker'])],
    parleyEnv({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fakes.slack.url,
      OPENAI_BASE_URL: fakes.ai.url,
      RATE_LIMIT_USER_PER_MINUTE: String(USER_LIMIT_PER_MINUTE),
      CACHE_TTL_SECONDS: '0',
      WORKER_CONCURRENCY: '32',
      AI_MAX_CONCURRENT: '64',
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
  ` (${t.acknowledged} acknowledged, ${t.non2xx} non-2xx, ${t.errors} errors, ${t.timeouts} timeouts)`;

/**
 * What parley did with the events it acknowledged, from its /metrics: queued (the queue-depth gauge
 * is refreshed every 5 s, so this waits for a refresh), refused by the rate limit, dropped as
 * duplicates. Shows that the acknowledgements measured are real enqueues.
 */
async function parleyAccounting(url: string, sent: number): Promise<string> {
  const metric = (text: string, name: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(name))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  const waiting = 'parley_queue_depth{state="waiting"}';
  const deadline = Date.now() + 6_000;
  let text = '';
  while (Date.now() < deadline) {
    text = await (await fetch(`${url}/metrics`)).text();
    if (metric(text, waiting) >= sent) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return (
    `${metric(text, waiting)} events queued of ${sent} acknowledged (warm-up included; requests in flight when a round ends are queued but not counted),` +
    ` ${metric(text, 'parley_rate_limited_total')} refused by the rate limit, ${metric(text, 'parley_duplicates_dropped_total')} dropped as duplicates`
  );
}

/** Run the Slack ingress benchmark and print its lines. Returns false when a request was refused or failed. */
export async function benchSlack(fakes: Fakes): Promise<boolean> {
  const bolt = await startBareBolt(fakes);
  const parley = await startParley(fakes, false);
  const boltTally = new Tally();
  const parleyTally = new Tally();
  await load(bolt.url, WARMUP_S);
  const parleyWarmup = await load(parley.url, WARMUP_S);
  for (let round = 0; round < ROUNDS; round++) {
    await boltTally.round(bolt.url, bolt.child.pid, DURATION_S / ROUNDS);
    await parleyTally.round(parley.url, parley.child.pid, DURATION_S / ROUNDS);
  }
  await bolt.stop();
  const accounting = await parleyAccounting(parley.url, parleyWarmup['2xx'] + parleyTally.acknowledged);
  await parley.stop();

  const ratio = parleyTally.perSecond / boltTally.perSecond;
  const p99 = parleyTally.latency(0.99);
  console.log(`slack ingress, bare Bolt (no-op listener): ${figures(boltTally)}`);
  console.log(
    `slack ingress, parley (dedupe + rate limit + enqueue, memory, --no-worker): ${figures(parleyTally)}` +
      ` — ratio ${ratio.toFixed(2)}× bare Bolt (target ≥ ${TARGET_RATIO}×: ${ratio >= TARGET_RATIO ? 'met' : 'not met'}),` +
      ` p99 target ≤ ${TARGET_P99_MS} ms: ${p99 <= TARGET_P99_MS ? 'met' : 'not met'}`,
  );
  const [boltCpu, parleyCpu] = [boltTally.cpuPerEventUs, parleyTally.cpuPerEventUs];
  if (boltCpu && parleyCpu) {
    console.log(`  parley uses ${(parleyCpu / boltCpu).toFixed(2)}× bare Bolt's server CPU per event (when CPU-bound, that allows ${(boltCpu / parleyCpu).toFixed(2)}× its throughput)`);
  }
  console.log(`  (${ROUNDS} alternating rounds of ${DURATION_S / ROUNDS} s each after a ${WARMUP_S} s warm-up; latencies in steady state, each connection's first request per round left out)`);
  console.log(`  parley: ${accounting}`);

  // For reference: the same load while the worker answers every event in the same process.
  // The fakes' call logs are cleared as they go (the fake Slack scans its log on every call).
  let replies = 0;
  fakes.slack.on('chat.postMessage', () => void replies++);
  const trim = setInterval(() => {
    fakes.slack.calls.length = 0;
    fakes.ai.calls.length = 0;
  }, 100);
  try {
    const full = await startParley(fakes, true);
    await load(full.url, WARMUP_S);
    const fullTally = new Tally();
    await fullTally.round(full.url, full.child.pid, DURATION_S);
    await full.stop();
    console.log(`slack ingress with the worker answering in the same process (reference, not the target figure): ${figures(fullTally)}; ${replies} replies posted meanwhile`);
  } finally {
    clearInterval(trim);
    fakes.slack.reset();
  }

  return boltTally.clean && parleyTally.clean;
}
