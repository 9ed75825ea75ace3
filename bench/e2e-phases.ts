/**
 * The phases of an end-to-end Slack bench, run against a deployment of parley (memory: one
 * `serve` process; Redis: ingress and worker processes) with a fake AI of AI_LATENCY_MS, after an
 * unmeasured warm-up (WARMUP_EVENTS through the whole pipeline):
 *  1. full load: EVENTS events at CONNECTIONS in flight, 10 % redelivered, and alongside them
 *     CONVERSATIONS threads of PER_CONVERSATION messages each whose replies must come in order;
 *     replies per second against the ceiling, ack latency, delivered / lost / duplicated;
 *  2. paced: after PACED_WARMUP_EVENTS unmeasured events at the same rate, PACED_EVENTS events open
 *     loop at half the ceiling; the reply overhead (webhook to reply, minus the time inside the
 *     AI), p50 and p99.
 * Both print the CPU per answered message: every parley process's CPU time (/proc) over the window
 * from the first event sent to the last reply, divided by the events answered in it.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { cpuWindow, perItemUs, type CpuUsed } from './cpu.js';
import { quantile, type Ledger, type Outcome } from './e2e-ledger.js';
import { Acks, conversations, flood, paced } from './e2e-send.js';
import { fetchMetrics, sumMetric } from './metrics.js';

export const AI_LATENCY_MS = 500;
/** How often the bench samples its own event loop (a sample is that long when nothing held it up). */
const LAG_SAMPLE_MS = 10;
/** Events of the full-load phase (BENCH_E2E_EVENTS, default 2000). */
const EVENTS = Number(process.env.BENCH_E2E_EVENTS ?? 2000);
/** Events of the paced phase (BENCH_PACED_EVENTS, default 1000). */
const PACED_EVENTS = Number(process.env.BENCH_PACED_EVENTS ?? 1000);
/**
 * Events sent at the paced rate before the paced phase is measured (BENCH_PACED_WARMUP_EVENTS,
 * default 1000). A steady trickle runs code a flood does not (a worker waiting for its next job,
 * V8's garbage collections for a slowly allocating process), which the JIT compiles only once it
 * is hot: over the first ~1,500 paced events the CPU per message on Redis fell by about a fifth,
 * then held. A bot running at that rate for hours is past that point.
 */
export const PACED_WARMUP_EVENTS = Number(process.env.BENCH_PACED_WARMUP_EVENTS ?? 1000);
const REDELIVER_EVERY = 10;
const CONVERSATIONS = 20;
const PER_CONVERSATION = 5;
const GAP_MS = 20;
/** Stop waiting once no reply has come for QUIET_MS, or MAX_WAIT_MS after the last event was sent. */
const QUIET_MS = 10_000;
const MAX_WAIT_MS = 60_000;
/** After the last expected reply, this long to see whether a duplicate still comes. */
export const SETTLE_MS = 2_000;
const TARGET_SHARE_OF_CEILING = 0.9;
const TARGET_ACK_P99_MS = 100;
export const TARGET_OVERHEAD_P99_MS = 50;

/** parley as deployed for one bench. */
export interface Deployment {
  /** "memory" or "Redis". */
  mode: string;
  /** The processes and settings, for the heading. */
  shape: string;
  /** Base URLs of the processes that take Slack's webhooks. */
  ingress: string[];
  /** Every parley process (ingress and workers). */
  pids: (number | undefined)[];
  /** The worker processes among them, when they run apart from ingress (their share is printed). */
  workerPids?: (number | undefined)[];
  /** The Redis server's pid, when its CPU can be read; reported apart. */
  servicePid?: number;
  /** Replies per second the workers can give at most: concurrency / AI latency. */
  ceiling: number;
  /** More to report after the full-load phase (the queue's counts). */
  afterRun?(): Promise<string>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const range = (from: number, count: number) => Array.from({ length: count }, (_, k) => from + k);
const met = (ok: boolean) => (ok ? 'met' : 'not met');
const ms = (value: number) => `${value.toFixed(1)} ms`;

/** The CPU window of a phase that is not measured. */
const UNMEASURED = { read: (): CpuUsed => ({ parleyMs: 0, serviceMs: undefined }) };
/** Paced warm-up events are numbered from here. */
const PACED_WARMUP_FIRST = 2_000_000;

/** Events sent through the whole pipeline before anything is measured (BENCH_WARMUP_EVENTS, default 2000: V8 optimises a process's hot code over its first thousands of calls; after 300, the first second of the full-load phase still ran at half speed). */
export const WARMUP_EVENTS = Number(process.env.BENCH_WARMUP_EVENTS ?? 2000);
/** Warm-up events are numbered from here, apart from the measured ones. */
const WARMUP_FIRST = 1_000_000;

/**
 * Unmeasured load first, as the ingress bench has: fresh processes run their first thousands of
 * calls unoptimised (the JIT), which is not how a deployed bot runs. Waits until they are answered.
 */
export async function warmUpPhase(d: Deployment, ledger: Ledger): Promise<void> {
  if (WARMUP_EVENTS <= 0) return;
  const urls = d.ingress.map((url) => `${url}/slack/events`);
  const numbers = range(WARMUP_FIRST, WARMUP_EVENTS);
  await flood(urls, ledger, new Acks(), numbers, Number.MAX_SAFE_INTEGER);
  await awaitReplies(ledger, numbers, performance.now(), UNMEASURED);
  const { delivered, lost } = ledger.outcome(numbers);
  console.log(`slack end to end, ${d.mode}: warm-up, ${WARMUP_EVENTS} events through the whole pipeline, not measured (${delivered} answered, ${lost} lost)`);
}

/** Full load with redeliveries and ordered conversations. Returns whether every event was accounted for. */
export async function fullLoadPhase(d: Deployment, ledger: Ledger): Promise<boolean> {
  const urls = d.ingress.map((url) => `${url}/slack/events`);
  const acks = new Acks();
  const cpu = cpuWindow(d.pids, d.servicePid, d.workerPids);
  // The bench process sends the load and plays Slack and the AI: its own delays show in the acks' latencies.
  const lag = monitorEventLoopDelay({ resolution: LAG_SAMPLE_MS });
  lag.enable();
  const firstSendAt = performance.now();
  const [, ordered] = await Promise.all([
    flood(urls, ledger, acks, range(0, EVENTS), REDELIVER_EVERY),
    conversations(urls, ledger, acks, EVENTS, CONVERSATIONS, PER_CONVERSATION, GAP_MS),
  ]);
  const sentAllAt = performance.now();
  lag.disable();
  const numbers = [...range(0, EVENTS), ...ordered];
  const { used, lastAt } = await awaitReplies(ledger, numbers, sentAllAt, cpu);
  const outcome = ledger.outcome(numbers);
  const perSecond = outcome.delivered / ((Math.max(lastAt, sentAllAt) - firstSendAt) / 1000);
  const dropped = (await Promise.all(d.ingress.map(async (url) => sumMetric(await fetchMetrics(url), 'parley_duplicates_dropped_total')))).reduce((a, b) => a + b, 0);
  const { checked, outOfOrder } = ledger.order();
  console.log(
    `slack end to end, ${d.mode} (${d.shape}), full load: ${EVENTS} events at ${urls.length > 1 ? 'split over the ingress processes' : 'one process'}, every ${REDELIVER_EVERY}th redelivered at once` +
      `${urls.length > 1 ? ' to the other ingress' : ''}, plus ${CONVERSATIONS} threads × ${PER_CONVERSATION} messages (${acks.deliveries} deliveries, all sent in ${((sentAllAt - firstSendAt) / 1000).toFixed(1)} s)`,
  );
  console.log(
    `  ${perSecond.toFixed(1)} replies/s (ceiling ${d.ceiling}/s; target ≥ ${TARGET_SHARE_OF_CEILING}× = ${Math.round(TARGET_SHARE_OF_CEILING * d.ceiling)}/s: ${met(perSecond >= TARGET_SHARE_OF_CEILING * d.ceiling)}),` +
      ` ${((lastAt - firstSendAt) / 1000).toFixed(1)} s from first send to last reply;` +
      ` ack p50 ${ms(acks.p(0.5))}, p99 ${ms(acks.p(0.99))} (target ≤ ${TARGET_ACK_P99_MS} ms: ${met(acks.p(0.99) <= TARGET_ACK_P99_MS)});` +
      ` meanwhile the bench process itself (load, fake Slack, fake AI) stalled up to ${ms(Math.max(0, lag.max / 1e6 - LAG_SAMPLE_MS))}`,
  );
  console.log(`  ${accounting(outcome, acks, ledger)}; ${dropped} deliveries dropped as duplicates by ingress, ${ledger.aiCalls} AI calls so far`);
  console.log(`  order: ${CONVERSATIONS} conversations with ${PER_CONVERSATION} messages each (sent ${GAP_MS} ms after the previous ack; ${checked} replies checked), ${outOfOrder} out of order`);
  console.log(`  ${cpuLine(d, used, outcome.delivered)}, at full load`);
  if (d.afterRun) console.log(`  ${await d.afterRun()}`);
  return clean(outcome, acks, ledger) && outOfOrder === 0;
}

/** Open loop at half the ceiling: the reply overhead. Returns whether every event was accounted for. */
export async function pacedPhase(d: Deployment, ledger: Ledger): Promise<boolean> {
  const urls = d.ingress.map((url) => `${url}/slack/events`);
  const rate = d.ceiling / 2;
  if (PACED_WARMUP_EVENTS > 0) {
    const warmUp = range(PACED_WARMUP_FIRST, PACED_WARMUP_EVENTS);
    await paced(urls, ledger, new Acks(), warmUp, rate);
    await awaitReplies(ledger, warmUp, performance.now(), UNMEASURED);
    const { delivered, lost } = ledger.outcome(warmUp);
    console.log(`slack end to end, ${d.mode}: paced warm-up, ${PACED_WARMUP_EVENTS} events at ${rate}/s, not measured (${delivered} answered, ${lost} lost)`);
  }
  const numbers = range(EVENTS + CONVERSATIONS * PER_CONVERSATION, PACED_EVENTS);
  const acks = new Acks();
  const cpu = cpuWindow(d.pids, d.servicePid, d.workerPids);
  await paced(urls, ledger, acks, numbers, rate);
  const { used } = await awaitReplies(ledger, numbers, performance.now(), cpu);
  const outcome = ledger.outcome(numbers);
  const overheads = ledger.overheads(numbers);
  const p99 = quantile(overheads, 0.99);
  console.log(`slack end to end, ${d.mode} (${d.shape}), paced: ${PACED_EVENTS} events open loop at ${rate}/s (half the ceiling)`);
  console.log(
    `  reply overhead (webhook sent → reply at the fake Slack, minus the time inside the fake AI): p50 ${ms(quantile(overheads, 0.5))}, p99 ${ms(p99)}` +
      ` (target p99 ≤ ${TARGET_OVERHEAD_P99_MS} ms: ${met(p99 <= TARGET_OVERHEAD_P99_MS)}), max ${ms(quantile(overheads, 1))}; ack p50 ${ms(acks.p(0.5))}, p99 ${ms(acks.p(0.99))}`,
  );
  console.log(`  ${accounting(outcome, acks, ledger)}`);
  console.log(`  ${cpuLine(d, used, outcome.delivered)}, at ${rate} events/s`);
  return clean(outcome, acks, ledger);
}

function accounting(o: Outcome, acks: Acks, ledger: Ledger): string {
  return (
    `delivered ${o.delivered} / lost ${o.lost} / duplicated ${o.duplicated} of ${o.acknowledged} acknowledged (${o.sent} sent;` +
    ` ${acks.refused} deliveries refused${acks.refused ? ` (${acks.refusals})` : ''}, ${acks.errors} failed${ledger.stray ? `; ${ledger.stray} replies naming no event` : ''})`
  );
}

function cpuLine(d: Deployment, used: CpuUsed, answered: number): string {
  const parley = perItemUs(used.parleyMs, answered);
  const workers = perItemUs(used.workersMs, answered);
  const service = perItemUs(used.serviceMs, answered);
  const split = parley !== undefined && workers !== undefined ? `: ingress ${Math.round(parley - workers)}, workers ${Math.round(workers)}` : '';
  return (
    `CPU per answered message, ${d.mode}: ${parley === undefined ? 'n/a' : Math.round(parley)} µs (ingress + worker, ${d.pids.length} process${d.pids.length > 1 ? 'es' : ''}${split})` +
    (service === undefined ? '' : `; Redis server ${Math.round(service)} µs more, not included (shared with other work)`)
  );
}

const clean = (o: Outcome, acks: Acks, ledger: Ledger) => o.lost === 0 && o.duplicated === 0 && ledger.stray === 0 && acks.refused === 0 && acks.errors === 0;

/**
 * Wait until every acknowledged event among `numbers` has a reply (then SETTLE_MS more, for late
 * duplicates), or no reply has come for QUIET_MS, or MAX_WAIT_MS have passed since `sentAllAt`.
 * Returns the CPU used up to the last reply (read when a poll first sees it) and that reply's time.
 */
async function awaitReplies(ledger: Ledger, numbers: number[], sentAllAt: number, cpu: { read(): CpuUsed }): Promise<{ used: CpuUsed; lastAt: number }> {
  let used = cpu.read();
  let lastAt = ledger.lastReplyAt;
  for (;;) {
    await sleep(100);
    if (ledger.lastReplyAt !== lastAt) {
      used = cpu.read();
      lastAt = ledger.lastReplyAt;
    }
    if (ledger.allAnswered(numbers)) {
      await sleep(SETTLE_MS);
      return { used, lastAt };
    }
    const now = performance.now();
    if (now - Math.max(ledger.lastReplyAt, sentAllAt) > QUIET_MS || now > sentAllAt + MAX_WAIT_MS) return { used, lastAt };
  }
}
