/**
 * A store that stalls past the ack's deadline (Redis going away) under a burst: every webhook is
 * answered 503, and each then ends after its answer (taken after all, or failed). The failure line
 * and the line saying how each ended were one a webhook; each is now summarised (README
 * "Operations": summarised warnings) while every webhook is still counted and keeps its request line.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createFetchHandler } from '../../src/http/fetch.js';
import { createRouter } from '../../src/http/router.js';
import { createMetrics } from '../../src/observe/index.js';
import { FakeAdapter, waitFor } from './helpers.js';

type Line = Record<string, unknown>;
const BURST = 10;
const TAKEN_LATE = 'a webhook answered 503 at its deadline was taken after all: its redelivery is a duplicate, answered once';
const FAILED_LATE = 'a webhook answered 503 at its deadline failed after it: its redelivery is taken afresh';

/** A platform that counts a late answer as a failed delivery (as Slack does after 3 s). */
class DeadlineAdapter extends FakeAdapter {
  readonly ackWithinMs = 3000;
}

/** A router whose every take waits for `release`, past a short ack budget; `fails`: the take then throws. */
function stalledWorld(fails: boolean) {
  const lines: Line[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  const metrics = createMetrics();
  let release!: () => void;
  const stalled = new Promise<void>((resolve) => (release = resolve));
  let ended = 0;
  const router = createRouter({
    adapters: () => [new DeadlineAdapter()],
    logger,
    metrics,
    readiness: async () => ({}),
    accept: async () => {
      await stalled;
      ended++;
      if (fails) throw new Error('Connection is closed.');
      return { status: 200 };
    },
    ackBudgetMs: () => 30,
    paths: {},
  });
  const handler = createFetchHandler(router, { bodyLimitBytes: 1024, trustProxy: false });
  const post = (i: number) => handler(new Request('http://127.0.0.1/test/hook', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: `m${i}`, text: 'hi' }) }));
  return { lines, metrics, post, release, ended: () => ended };
}

const linesOf = (lines: Line[], msg: string) => lines.filter((line) => line.msg === msg);

describe('a burst of webhooks past the ack deadline', () => {
  it.each([
    ['taken after all', false, TAKEN_LATE, 30],
    ['failed after it', true, FAILED_LATE, 40],
  ] as const)('each answered 503 and counted; one failure line and one line saying how they ended (each its request line) (%s)', async (_, fails, lateMsg, lateLevel) => {
    const { lines, metrics, post, release, ended } = stalledWorld(fails);
    const answers = await Promise.all(Array.from({ length: BURST }, (_, i) => post(i)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(BURST).fill(503));
    const rejected = (await metrics.webhooksRejected.get()).values.find((v) => v.labels.reason === 'unavailable');
    expect(rejected?.value).toBe(BURST);
    expect(linesOf(lines, 'request failed; answering 503 so the sender retries')).toEqual([expect.objectContaining({ level: 50, platform: 'test' })]);
    // Each request keeps its own request line (issue 2: one line per request).
    expect(linesOf(lines, 'request').filter((line) => line.level === 30 && line.status === 503)).toHaveLength(BURST);

    release();
    await waitFor(() => ended() === BURST, 2000, 'every take to end');
    // How each ended is logged once its take has settled: a macrotask later.
    await new Promise((resolve) => setImmediate(resolve));
    expect(linesOf(lines, lateMsg)).toEqual([expect.objectContaining({ level: lateLevel, platform: 'test' })]);
  });
});
