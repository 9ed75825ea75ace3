/**
 * `npm run bench:side`: two builds, or two settings, of parley on Redis compared **side by side**.
 * Each side is its own deployment as in the end-to-end bench (2 ingress + 2 workers × 32, its own
 * REDIS_PREFIX) against one fake AI (500 ms) and one fake Slack; both are paced at the same rate at
 * the same time, so the shared machine's other load weighs on both alike. Run one after the other,
 * the same code differs by up to 25% in CPU per message on this machine; side by side, by a few
 * per cent (the same code on both sides is the check: `npm run bench:side` with no settings).
 *
 *  BENCH_SIDE_A_DIR,  a checkout whose `cli/main.ts` that side runs (with node_modules, e.g.
 *  BENCH_SIDE_B_DIR   `git worktree add /tmp/base b751f49 && ln -s $PWD/node_modules /tmp/base/`);
 *                     default: this checkout
 *  BENCH_SIDE_A_ENV,  extra settings of a side, NAME=value pairs separated by commas
 *  BENCH_SIDE_B_ENV   (e.g. BENCH_SIDE_B_ENV=NODE_OPTIONS=--max-semi-space-size=64)
 *  BENCH_SIDE_RATE    events per second to each side (default 64, half the ceiling)
 *  BENCH_SIDE_ROUNDS, BENCH_SIDE_EVENTS   measured rounds (default 3) of that many events per side (600)
 *
 * First each side gets BENCH_WARMUP_EVENTS (2,000) unmeasured events at full load and then both
 * BENCH_PACED_WARMUP_EVENTS (1,000) at the paced rate, as the end-to-end bench does. Every round
 * prints each side's CPU per answered message (user + system time of its four processes, /proc),
 * split into ingress and workers, its reply overhead p99 and its delivered / lost / duplicated, and
 * B ÷ A; the end, every measured event's delivered / lost / duplicated again (after SETTLE_MS, for
 * a late duplicate), the means, and a warning when both sides fell behind the rate in some rounds
 * (the machine was saturated). Exits non-zero when anything was lost or duplicated.
 */
import { cpuTimeMs } from './cpu.js';
import { parleyEnv, type Child } from './children.js';
import { Ledger, quantile, trackedFakes } from './e2e-ledger.js';
import { AI_LATENCY_MS, PACED_WARMUP_EVENTS, SETTLE_MS, TARGET_OVERHEAD_P99_MS, WARMUP_EVENTS } from './e2e-phases.js';
import { Acks, flood, paced } from './e2e-send.js';
import { closeRawPools } from './raw-http.js';
import { openBenchRedis } from './redis.js';
import { REDIS_SHAPE, redisBenchEnv, startRedisDeployment } from './slack-e2e.js';

const RATE = Number(process.env.BENCH_SIDE_RATE ?? 64);
const ROUNDS = Number(process.env.BENCH_SIDE_ROUNDS ?? 3);
const EVENTS = Number(process.env.BENCH_SIDE_EVENTS ?? 600);
/** How long to wait for a round's last replies, at most. */
const MAX_WAIT_MS = 60_000;

interface Side {
  name: string;
  /** What it runs: the checkout and the extra settings. */
  label: string;
  urls: string[];
  children: Child[];
  /** Per measured round: CPU per message (µs) of the whole side. */
  perMessage: number[];
  /** Every measured event sent to this side. */
  measured: number[];
}

/** "A=1,B=x=y" → { A: '1', B: 'x=y' }. */
function parseSettings(list: string | undefined): Record<string, string> {
  const pairs = (list ?? '').split(',').filter((pair) => pair.includes('='));
  return Object.fromEntries(pairs.map((pair) => [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1)]));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
const cpuOf = (side: Side) => side.children.map((c) => cpuTimeMs(c.child.pid) ?? Number.NaN);

async function main(): Promise<boolean> {
  const redis = await openBenchRedis();
  const ledger = new Ledger();
  const fakes = await trackedFakes(ledger, AI_LATENCY_MS);
  let next = 0;
  const numbers = (count: number) => Array.from({ length: count }, () => next++);
  const answered = async (events: number[]) => {
    for (const giveUpAt = Date.now() + MAX_WAIT_MS; !ledger.allAnswered(events) && Date.now() < giveUpAt; ) await sleep(50);
  };
  const sides: Side[] = [];
  try {
    for (const [name, dir, settings] of [
      ['A', process.env.BENCH_SIDE_A_DIR, process.env.BENCH_SIDE_A_ENV],
      ['B', process.env.BENCH_SIDE_B_DIR, process.env.BENCH_SIDE_B_ENV],
    ] as const) {
      const env = parleyEnv({ ...redisBenchEnv(redis.url, redis.prefix(`side-${name}`), fakes), ...parseSettings(settings) });
      const { ingress, workers } = await startRedisDeployment(env, dir);
      const label = `${dir ?? 'this checkout'}${settings ? ` with ${settings}` : ''}`;
      sides.push({ name, label, urls: ingress.map((c) => `${c.url}/slack/events`), children: [...ingress, ...workers], perMessage: [], measured: [] });
    }
    console.log(`side by side on Redis (each side: ${REDIS_SHAPE}), ${RATE} events/s to each side at once`);
    for (const side of sides) console.log(`  side ${side.name}: ${side.label}`);
    for (const side of sides) {
      const warmUp = numbers(WARMUP_EVENTS);
      await flood(side.urls, ledger, new Acks(), warmUp, Number.MAX_SAFE_INTEGER);
      await answered(warmUp);
    }
    const pacedWarmUp = sides.map(() => numbers(PACED_WARMUP_EVENTS));
    await Promise.all(sides.map((side, k) => paced(side.urls, ledger, new Acks(), pacedWarmUp[k]!, RATE)));
    await answered(pacedWarmUp.flat());
    console.log(`  warm-up: ${WARMUP_EVENTS} events at full load to each side, then ${PACED_WARMUP_EVENTS} at ${RATE}/s to both at once, not measured`);
    let clean = true;
    let saturatedRounds = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const before = sides.map(cpuOf);
      const events = sides.map(() => numbers(EVENTS));
      sides.forEach((side, k) => side.measured.push(...events[k]!));
      await Promise.all(sides.map((side, k) => paced(side.urls, ledger, new Acks(), events[k]!, RATE)));
      await answered(events.flat());
      // A reply overhead p99 past the end-to-end target (about 20 ms on a quiet machine): messages queued behind busy workers.
      const behind: boolean[] = [];
      const parts = sides.map((side, k) => {
        const used = cpuOf(side).map((ms, p) => ms - before[k]![p]!);
        const us = (ms: number) => Math.round((ms * 1000) / EVENTS);
        const total = used.reduce((sum, ms) => sum + ms, 0);
        side.perMessage.push((total * 1000) / EVENTS);
        const o = ledger.outcome(events[k]!);
        clean &&= o.lost === 0 && o.duplicated === 0 && o.acknowledged === EVENTS;
        const overheadP99 = quantile(ledger.overheads(events[k]!), 0.99);
        behind.push(overheadP99 > TARGET_OVERHEAD_P99_MS);
        return `${side.name} ${us(total)} µs (ingress ${us(used[0]! + used[1]!)}, workers ${us(used[2]! + used[3]!)}), overhead p99 ${overheadP99.toFixed(0)} ms, ${o.delivered} / ${o.lost} / ${o.duplicated}`;
      });
      const ratio = sides[1]!.perMessage.at(-1)! / sides[0]!.perMessage.at(-1)!;
      console.log(`  round ${round}, CPU per answered message: ${parts.join(' | ')}; B ÷ A ${ratio.toFixed(3)}`);
      if (behind.every(Boolean)) saturatedRounds++;
    }
    // A duplicate can come after its round's CPU was read: every measured event is looked at again.
    await sleep(SETTLE_MS);
    for (const side of sides) {
      const o = ledger.outcome(side.measured);
      clean &&= o.lost === 0 && o.duplicated === 0;
      console.log(`  side ${side.name}, all rounds, ${SETTLE_MS} ms after the last reply: delivered / lost / duplicated ${o.delivered} / ${o.lost} / ${o.duplicated}`);
    }
    const [a, b] = sides.map((side) => mean(side.perMessage)) as [number, number];
    console.log(`  mean CPU per answered message: A ${Math.round(a)} µs, B ${Math.round(b)} µs; B ÷ A ${(b / a).toFixed(3)} (delivered / lost / duplicated per side above)`);
    if (saturatedRounds > 0) {
      console.log(
        `  in ${saturatedRounds} of ${ROUNDS} rounds both sides' reply overhead p99 passed ${TARGET_OVERHEAD_P99_MS} ms: the workers fell behind, the cores were saturated, and` +
          ` CPU per message grows with the contention, so the ratio is less reliable; compare again at a lower BENCH_SIDE_RATE or on a quieter machine`,
      );
    }
    if (!clean) console.log('  something was lost, duplicated or not acknowledged: see the rounds above');
    return clean;
  } finally {
    await Promise.all(sides.flatMap((side) => side.children.map((c) => c.stop())));
    closeRawPools();
    await fakes.close();
    await redis.cleanup();
  }
}

process.exitCode = (await main()) ? 0 : 1;
