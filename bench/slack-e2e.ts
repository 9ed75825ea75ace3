/**
 * End to end on Redis, as issue 6 scales parley out: two ingress processes (`serve --no-worker`)
 * and two worker processes (`worker --concurrency 32`) sharing one Redis prefix, a fake AI that
 * takes 500 ms and echoes the question, and a fake Slack Web API that counts chat.postMessage.
 * N signed app_mention events (each its own event id, thread and text) are split across both
 * ingress processes; every tenth is delivered a second time, with X-Slack-Retry-Num, to the other
 * ingress process at the same moment (as Slack retries while the first delivery is still slow).
 * Then the bench waits until the replies stop and accounts for every acknowledged event:
 * delivered, lost (never answered), duplicated (answered more than once).
 */
import { Queue } from 'bullmq';
import { lastUserText, startFakeOpenAi } from '../test/fakes/openai-server.js';
import { startFakeSlack } from '../test/fakes/slack-api.js';
import { parleyEnv, startChild, waitUntilReady, type Child } from './children.js';
import { fetchMetrics, sumMetric } from './metrics.js';
import type { BenchRedis } from './redis.js';
import { CONNECTIONS } from './settings.js';
import { BOT_TOKEN, SIGNING_SECRET, appMentionBody, slackHeaders } from './slack-load.js';

/** Events sent (BENCH_E2E_EVENTS, default 2000). */
const EVENTS = Number(process.env.BENCH_E2E_EVENTS ?? 2000);
/** Every n-th event is redelivered to the other ingress process: 10 %. */
const REDELIVER_EVERY = 10;
const AI_LATENCY_MS = 500;
const INGRESS = 2;
const WORKERS = 2;
const WORKER_CONCURRENCY = 32;
/** Stop waiting once no reply has arrived for this long, or MAX_WAIT_MS after the last event was sent. */
const QUIET_MS = 10_000;
const MAX_WAIT_MS = 60_000;
/** After the last expected reply, this long to see whether a duplicate still comes. */
const SETTLE_MS = 2_000;
/** Finds the event's number in the AI's echo of its text ("question number <i>"). */
const QUESTION = /question number (\d+)/;

/** What happened to one event (the array index is its number). */
interface Outcome {
  acknowledged: boolean;
  replies: number;
}

/** The replies the fake Slack has been asked to post, tallied per event as they come. */
interface Replies {
  lastAt: number;
  /** Replies whose text names none of our events. */
  stray: number;
}

interface Sending {
  deliveries: number;
  refused: number;
  /** Refused deliveries by HTTP status, e.g. "503 ×4". */
  refusals: string;
  errors: number;
  p50: number;
  p99: number;
  /** From the first request sent until the last answered, ms. */
  durationMs: number;
}

/** Run the end-to-end benchmark on Redis and print its lines. Returns whether nothing was lost, duplicated or refused. */
export async function benchSlackEndToEnd(redis: BenchRedis): Promise<boolean> {
  let aiCalls = 0;
  const ai = await startFakeOpenAi((call) => {
    aiCalls++;
    return { text: `echo: ${lastUserText(call)}`, delayMs: AI_LATENCY_MS };
  });
  const slack = await startFakeSlack();
  const outcomes = Array.from({ length: EVENTS }, (): Outcome => ({ acknowledged: false, replies: 0 }));
  const replies: Replies = { lastAt: 0, stray: 0 };
  slack.on('chat.postMessage', (call) => {
    const outcome = outcomes[Number(QUESTION.exec(String(call.args.text))?.[1] ?? -1)];
    if (outcome) outcome.replies++;
    else replies.stray++;
    replies.lastAt = Date.now();
    return undefined; // Slack's usual answer
  });
  // The fakes log every call and the fake Slack scans its log on each one: keep the logs short.
  const trim = setInterval(() => {
    slack.calls.length = 0;
    ai.calls.length = 0;
  }, 100);
  const prefix = redis.prefix('e2e');
  const env = parleyEnv({
    REDIS_URL: redis.url,
    REDIS_PREFIX: prefix,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    OPENAI_BASE_URL: ai.url,
    // The limiter runs on Redis but never refuses; the AI bulkhead never holds a worker back.
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    AI_MAX_CONCURRENT: '256',
    CACHE_TTL_SECONDS: '0',
  });
  const children: Child[] = [];
  try {
    const [ingress, workers] = await Promise.all([
      Promise.all(Array.from({ length: INGRESS }, () => startChild(['cli/main.ts', 'serve', '--no-worker'], env))),
      Promise.all(
        Array.from({ length: WORKERS }, () =>
          startChild(['cli/main.ts', 'worker', '--concurrency', String(WORKER_CONCURRENCY)], env, { ready: /parley worker running/ }),
        ),
      ),
    ]);
    children.push(...ingress, ...workers);
    // As a load balancer would, send nothing to an ingress process before its /readyz says so.
    await Promise.all(ingress.map((c) => waitUntilReady(c.url)));

    const firstSendAt = Date.now();
    const sending = await sendAll(
      ingress.map((c) => `${c.url}/slack/events`),
      outcomes,
    );
    await waitForReplies(outcomes, replies, firstSendAt + sending.durationMs);

    const acknowledged = outcomes.filter((o) => o.acknowledged);
    const delivered = outcomes.filter((o) => o.replies > 0).length;
    const lost = acknowledged.filter((o) => o.replies === 0).length;
    const duplicated = outcomes.filter((o) => o.replies > 1).length;
    const elapsedS = ((replies.lastAt || Date.now()) - firstSendAt) / 1000;
    const ceiling = (WORKERS * WORKER_CONCURRENCY * 1000) / AI_LATENCY_MS;
    const droppedAsDuplicates = (await Promise.all(ingress.map(async (c) => sumMetric(await fetchMetrics(c.url), 'parley_duplicates_dropped_total')))).reduce((a, b) => a + b, 0);
    const ok = lost === 0 && duplicated === 0 && replies.stray === 0;
    console.log(
      `slack end to end on Redis (${INGRESS} ingress --no-worker, ${WORKERS} workers × ${WORKER_CONCURRENCY}, AI ${AI_LATENCY_MS} ms):` +
        ` ${EVENTS} events sent (${sending.deliveries} deliveries, ${sending.deliveries - EVENTS} redelivered to the other ingress),` +
        ` ${acknowledged.length} acknowledged (${sending.refused} deliveries refused${sending.refused ? ` (${sending.refusals})` : ''}, ${sending.errors} failed;` +
        ` ack p50 ${sending.p50.toFixed(1)} ms, p99 ${sending.p99.toFixed(1)} ms, all sent in ${(sending.durationMs / 1000).toFixed(1)} s)`,
    );
    console.log(
      `  ${(delivered / elapsedS).toFixed(1)} replies/s (ceiling ${ceiling}/s), ${delivered} delivered in ${elapsedS.toFixed(1)} s from first send to last reply,` +
        ` ${lost} lost, ${duplicated} duplicated${replies.stray ? `, ${replies.stray} replies naming no event` : ''}` +
        ` — target 0 lost, 0 duplicated: ${ok ? 'met' : 'not met'}`,
    );
    const unanswered = outcomes.flatMap((o, i) => (o.acknowledged && o.replies === 0 ? [i] : []));
    console.log(
      `  ${droppedAsDuplicates} deliveries dropped as duplicates by the ingress processes, ${aiCalls} AI calls;` +
        ` queue after the run: ${await queueCounts(redis.url, prefix)}` +
        (unanswered.length > 0 ? `; unanswered events, first few: ${unanswered.slice(0, 10).join(', ')}` : ''),
    );
    return ok && sending.refused === 0 && sending.errors === 0;
  } finally {
    clearInterval(trim);
    await Promise.all(children.map((c) => c.stop()));
    await Promise.all([ai.close(), slack.close()]);
  }
}

/**
 * Send every event, CONNECTIONS requests in flight: event i to ingress i % 2, and every
 * REDELIVER_EVERY-th also, at the same moment, to the other one as Slack's first retry.
 */
async function sendAll(ingress: string[], outcomes: Outcome[]): Promise<Sending> {
  const startedAt = Date.now();
  let next = 0;
  let deliveries = 0;
  let errors = 0;
  const refusedByStatus = new Map<number, number>();
  const latencies: number[] = [];
  const deliver = async (i: number, url: string, body: string, retry: boolean) => {
    deliveries++;
    const headers = { ...slackHeaders(body), ...(retry ? { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } : {}) };
    const started = performance.now();
    try {
      const response = await fetch(url, { method: 'POST', headers, body });
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
      if (response.ok) outcomes[i]!.acknowledged = true;
      else refusedByStatus.set(response.status, (refusedByStatus.get(response.status) ?? 0) + 1);
    } catch {
      errors++;
    }
  };
  const sender = async () => {
    for (let i = next++; i < outcomes.length; i = next++) {
      const body = appMentionBody(i, 'E2E');
      const first = deliver(i, ingress[i % ingress.length]!, body, false);
      const again = i % REDELIVER_EVERY === 0 ? deliver(i, ingress[(i + 1) % ingress.length]!, body, true) : undefined;
      await Promise.all([first, again]);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, sender));
  const sorted = Float64Array.from(latencies).sort();
  const quantile = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return {
    deliveries,
    refused: [...refusedByStatus.values()].reduce((sum, n) => sum + n, 0),
    refusals: [...refusedByStatus].map(([status, n]) => `${status} ×${n}`).join(', '),
    errors,
    p50: quantile(0.5),
    p99: quantile(0.99),
    durationMs: Date.now() - startedAt,
  };
}

/**
 * Wait until every acknowledged event has a reply (then SETTLE_MS more, for late duplicates), or
 * no reply has come for QUIET_MS, or MAX_WAIT_MS have passed since the last event was sent.
 */
async function waitForReplies(outcomes: Outcome[], replies: Replies, sentAllAt: number): Promise<void> {
  const giveUpAt = sentAllAt + MAX_WAIT_MS;
  const acknowledged = outcomes.filter((o) => o.acknowledged);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (acknowledged.every((o) => o.replies > 0)) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      return;
    }
    const now = Date.now();
    if (now - Math.max(replies.lastAt, sentAllAt) > QUIET_MS || now > giveUpAt) return;
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
