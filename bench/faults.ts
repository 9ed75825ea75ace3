/**
 * `npm run bench:faults` (also part of `npm run bench`): the fault matrix. For each everyday fault
 * a bot with the Slack adapter runs in this process against a fake Slack Web API and a fake AI;
 * signed mentions are sent, each from its own user in its own thread, and when the replies stop
 * every message is accounted for: answered, apologised, dead-lettered, duplicated (more than one
 * reply), with the p50 / p99 time from the webhook to its reply. `/healthz` is polled throughout
 * and its slowest answer printed. Figures, not assertions.
 */
import { lastUserText, startFakeOpenAi, type Script } from '../test/fakes/openai-server.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../test/fakes/slack-api.js';
import { appMention, postSlack, signSlack } from '../test/helpers/slack-events.js';
import { startSlackBot } from '../test/helpers/slack-bot.js';

interface Fault {
  name: string;
  messages: number;
  ai?: (backAt: number) => Script;
  /** Set up the fake Slack (429s, an outage at start); add the posts it refuses to `refused`. */
  slack?: (fake: FakeSlack, backAt: number, refused: Set<SlackCall>) => void;
  env?: Record<string, string>;
  /** Milliseconds until the fault ends, from the bot's start. */
  lastsMs?: number;
}

const echo: Script = (call) => ({ text: `echo: ${lastUserText(call)}` });
const throttleFirst =
  (n: number): Script =>
  (call, i) =>
    i < n ? { status: 429, headers: { 'retry-after': '1' } } : echo(call, i);

const FAULTS: Fault[] = [
  { name: 'none (baseline)', messages: 20 },
  { name: 'AI 429 burst: 15 calls, Retry-After 1', messages: 20, ai: () => throttleFirst(15) },
  {
    name: 'AI 5xx outage of 10 s',
    messages: 10,
    lastsMs: 10_000,
    env: { AI_BREAKER_HALF_OPEN_MS: '2000' },
    ai: (backAt) => (call, i) => (Date.now() < backAt ? { status: 503 } : echo(call, i)),
  },
  {
    name: 'AI 5xx outage of 10 s, fallback model',
    messages: 10,
    lastsMs: 10_000,
    env: { AI_BREAKER_HALF_OPEN_MS: '2000', OPENAI_FALLBACK_MODEL: 'small-model' },
    ai: (backAt) => (call, i) => (Date.now() < backAt && call.body.model !== 'small-model' ? { status: 503 } : echo(call, i)),
  },
  {
    name: 'Slack 429 on 10 posts during an AI 429 burst',
    messages: 10,
    ai: () => throttleFirst(5),
    slack: (fake, _backAt, refused) =>
      fake.on('chat.postMessage', (call, n) => {
        if (n >= 10) return undefined;
        refused.add(call); // a 429 is not a reply the user saw
        return { status: 429, headers: { 'retry-after': '1' } };
      }),
  },
  {
    name: 'Slack API down at start for 8 s',
    messages: 10,
    lastsMs: 8_000,
    slack: (fake, backAt) => fake.on('auth.test', () => (Date.now() < backAt ? { status: 503 } : undefined)),
  },
];

/** Signed malformed bodies sent to /slack/events in the poison row. */
const POISON_REQUESTS = 1000;
const QUIET_MS = 3000;
const MAX_WAIT_MS = 90_000;

async function runFault(fault: Fault): Promise<void> {
  const startedAt = Date.now();
  const backAt = startedAt + (fault.lastsMs ?? 0);
  const ai = await startFakeOpenAi(fault.ai?.(backAt) ?? echo);
  const slack = await startFakeSlack();
  const refused = new Set<SlackCall>();
  fault.slack?.(slack, backAt, refused);
  const server = await startSlackBot(slack, ai, { RATE_LIMIT_USER_PER_MINUTE: '0', ...fault.env }, undefined, { awaitReady: false });
  const health = pollHealth(server.base);
  try {
    const sentAt = new Map<string, number>();
    for (let i = 0; i < fault.messages; i++) {
      const event = appMention({ text: `fault question ${i}`, user: `UFAULT${i}` });
      sentAt.set(String(event.event.ts), Date.now());
      const res = await postSlack(server.url, event);
      if (res.status !== 200) console.error(`  ${fault.name}: a mention got ${res.status}`);
    }
    const posts = () =>
      slack.callsTo('chat.postMessage').filter((c) => !refused.has(c) && typeof c.args.thread_ts === 'string' && sentAt.has(c.args.thread_ts as string));
    const answered = () => new Set(posts().filter((p) => !String(p.args.text).startsWith('Sorry')).map((p) => p.args.thread_ts)).size;
    const replied = () => new Set(posts().map((p) => p.args.thread_ts)).size;
    // Until every message has its reply (or MAX_WAIT_MS), then QUIET_MS more to catch a duplicate.
    while (replied() < fault.messages && Date.now() - startedAt < MAX_WAIT_MS) await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    const byThread = new Map<string, number[]>();
    for (const post of posts()) {
      const thread = post.args.thread_ts as string;
      byThread.set(thread, [...(byThread.get(thread) ?? []), post.at]);
    }
    const delays = [...byThread].map(([thread, ats]) => Math.min(...ats) - sentAt.get(thread)!).sort((a, b) => a - b);
    const row = {
      sent: fault.messages,
      // Delivered: an answer; lost: no reply at all (an apology is a reply, counted below, not an answer).
      delivered: answered(),
      lost: fault.messages - replied(),
      apologised: posts().filter((p) => String(p.args.text).startsWith('Sorry')).length,
      deadLettered: (await server.bot.deadLetters.list()).length,
      duplicated: [...byThread.values()].filter((ats) => ats.length > 1).length,
      p50: percentile(delays, 0.5),
      p99: percentile(delays, 0.99),
      healthzMaxMs: Math.round(health.stop()),
    };
    print(fault.name, row);
  } finally {
    health.stop();
    await server.close();
    await Promise.all([slack.close(), ai.close()]);
  }
}

/** Signed, well-formed JSON that is not what Slack sends: no 5xx may come back. */
async function runPoison(): Promise<void> {
  const ai = await startFakeOpenAi(echo);
  const slack = await startFakeSlack();
  const server = await startSlackBot(slack, ai, { RATE_LIMIT_USER_PER_MINUTE: '0' });
  const statuses = new Map<number, number>();
  try {
    for (let i = 0; i < POISON_REQUESTS; i++) {
      const body = JSON.stringify(malformed(i));
      const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...signSlack('test-signing-secret', body) }, body });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    const fiveXx = [...statuses].filter(([status]) => status >= 500).reduce((sum, [, n]) => sum + n, 0);
    const spread = [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status} ×${n}`).join(', ');
    console.log(`  ${'signed malformed payloads'.padEnd(48)} sent ${POISON_REQUESTS}, 5xx ${fiveXx} (${spread})`);
  } finally {
    await server.close();
    await Promise.all([slack.close(), ai.close()]);
  }
}

/** A mention with one field broken in one of a few ways. */
function malformed(i: number): unknown {
  const event = appMention({ text: `poison ${i}` }) as unknown as Record<string, unknown>;
  const inner = event.event as Record<string, unknown>;
  const breakers: (() => void)[] = [
    () => (event.event_id = i),
    () => (event.event_id = null),
    () => (event.event = 'not an object'),
    () => (inner.text = { nested: [i] }),
    () => (inner.user = i),
    () => (inner.ts = null),
    () => (event.type = 'block_actions'),
    () => (event.authorizations = 'none'),
    () => (inner.files = [null, 3]),
    () => (event.team_id = []),
  ];
  breakers[i % breakers.length]!();
  return event;
}

function pollHealth(base: string): { stop(): number } {
  let slowest = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await fetch(`${base}/healthz`).then((r) => r.arrayBuffer()).catch(() => undefined);
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  void loop;
  return {
    stop: () => {
      running = false;
      return slowest;
    },
  };
}

function percentile(sorted: number[], p: number): number | string {
  if (sorted.length === 0) return '—';
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
}

function print(name: string, row: Record<string, number | string>): void {
  const cells = Object.entries(row).map(([key, value]) => `${key} ${value}`);
  console.log(`  ${name.padEnd(48)} ${cells.join(', ')}`);
}

/** Every fault in turn, then the poison row. */
export async function benchFaults(): Promise<void> {
  console.log('\nfault matrix (Slack adapter in process; fake Slack and AI; time to reply in ms):');
  for (const fault of FAULTS) await runFault(fault);
  await runPoison();
}

if (import.meta.url === `file://${process.argv[1]}`) await benchFaults();
