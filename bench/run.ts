/**
 * `npm run bench`: figures, not assertions. Starts real servers in child processes on loopback with
 * a fake OpenAI-compatible AI and a fake Slack Web API, and measures, part by part:
 *  - web: the web chat (bench/web.ts), ingress only, then the whole pipeline;
 *  - ingress: Slack ingress (bench/slack.ts), signed app_mention events against a bare Bolt App and
 *    against parley's /slack/events with the memory store and on Redis, with the ratios;
 *  - e2e-memory, e2e-redis: Slack end to end (bench/slack-memory.ts, bench/slack-e2e.ts) in one
 *    memory-mode process, and on Redis with two ingress and two worker processes; an AI of 500 ms;
 *    replies per second, ack latency, per-conversation order, reply overhead at half the ceiling,
 *    CPU per answered message, delivered / lost / duplicated;
 *  - queue: the Redis queue alone (bench/queue.ts): its CPU per message in the workers at 64/s;
 *  - cache: the answer cache with 30% of questions repeated (bench/cache.ts): AI calls per message, hit rate;
 *  - faults: the fault matrix (bench/faults.ts);
 *  - aws: AWS Lambda (bench/aws.ts): bundle sizes, cold start and warm duration.
 * Run some parts only by naming them: `npm run bench -- e2e` (a name before a dash picks every part
 * that starts with it: e2e is e2e-memory and e2e-redis), `npm run bench -- ingress,e2e-redis`, or
 * BENCH_ONLY=web. The Redis parts use the Redis on 127.0.0.1:6379 under a prefix of this run,
 * deleted at the end.
 */
import { startFakeOpenAi } from '../test/fakes/openai-server.js';
import { startFakeSlack } from '../test/fakes/slack-api.js';
import { stopAllChildren } from './children.js';
import { openBenchRedis, type BenchRedis } from './redis.js';
import { benchSlack } from './slack.js';
import { benchSlackEndToEnd } from './slack-e2e.js';
import { benchSlackMemory } from './slack-memory.js';
import { benchWeb } from './web.js';
import { benchFaults } from './faults.js';
import { benchCache } from './cache.js';
import { benchAws } from './aws.js';
import { benchQueue } from './queue.js';

const PARTS = ['web', 'ingress', 'e2e-memory', 'e2e-redis', 'queue', 'cache', 'faults', 'aws'] as const;
type Part = (typeof PARTS)[number];

/** The parts named on the command line or in BENCH_ONLY (comma or space separated); all when none. */
function selectedParts(): Set<Part> {
  const names = [...process.argv.slice(2), process.env.BENCH_ONLY ?? ''].flatMap((arg) => arg.split(/[\s,]+/)).filter(Boolean);
  if (names.length === 0) return new Set(PARTS);
  const picked = new Set<Part>();
  for (const name of names) {
    const matches = PARTS.filter((part) => part === name || part.startsWith(`${name}-`));
    if (matches.length === 0) throw new Error(`bench: no part named "${name}"; the parts are ${PARTS.join(', ')} (e2e is both e2e parts)`);
    for (const part of matches) picked.add(part);
  }
  return picked;
}

async function main(): Promise<void> {
  const parts = selectedParts();
  const needsRedis = parts.has('ingress') || parts.has('e2e-redis') || parts.has('queue');
  let redis: BenchRedis | undefined;
  if (needsRedis) {
    try {
      redis = await openBenchRedis();
    } catch (error) {
      console.error(`${(error as Error).message}; the Redis figures are left out`);
      process.exitCode = 1;
    }
  }
  const ai = await startFakeOpenAi(() => ({ text: 'ok' }));
  const slack = await startFakeSlack();
  try {
    if (parts.has('web')) await benchWeb(ai);
    if (parts.has('ingress') && !(await benchSlack({ ai, slack }, redis))) {
      console.error('slack ingress: some requests were refused or failed (see the counts above); the figures are not comparable');
      process.exitCode = 1;
    }
    if (parts.has('e2e-memory') && !(await benchSlackMemory())) {
      console.error('slack end to end, memory: an event was lost, duplicated, answered out of order, refused or failed (see above)');
      process.exitCode = 1;
    }
    if (parts.has('e2e-redis') && redis && !(await benchSlackEndToEnd(redis))) {
      console.error('slack end to end on Redis: an event was lost, duplicated, answered out of order, refused or failed (see above)');
      process.exitCode = 1;
    }
    if (parts.has('queue') && redis && !(await benchQueue(redis))) {
      console.error('queue alone: a job was lost, duplicated or refused (see above)');
      process.exitCode = 1;
    }
    if (parts.has('cache') && !(await benchCache())) {
      console.error('answer cache: too many AI calls per message, or an event was lost, duplicated or refused (see above)');
      process.exitCode = 1;
    }
    if (parts.has('faults')) await benchFaults();
    if (parts.has('aws')) await benchAws();
  } finally {
    await stopAllChildren();
    await Promise.all([ai.close(), slack.close()]);
    if (redis) console.log(`  (Redis: deleted the run's ${await redis.cleanup()} keys)`);
  }
}

await main();
