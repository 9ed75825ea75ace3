/**
 * A webhook on the platform's last delivery (Received.lastDelivery) answered 503 at the ack's
 * deadline is lost only if its taking then fails: taken after all, it is queued and answered, so
 * no loss is named; failed after the answer, the loss is named once it is known, never summarised.
 * Out of its budget before the taking began, nothing was taken: named at once.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { HttpRequest, Received } from '../../src/adapter.js';
import { createFetchHandler } from '../../src/http/fetch.js';
import { createRouter } from '../../src/http/router.js';
import { createMetrics } from '../../src/observe/index.js';
import { FakeAdapter, waitFor } from './helpers.js';

type Line = Record<string, unknown>;
const LOST = "webhook not taken on the platform's last delivery; it is lost (it will not be sent again)";

/** A platform with a 3 s deadline whose every delivery is its last. */
class LastDeliveryAdapter extends FakeAdapter {
  readonly ackWithinMs = 3000;
  override async receive(request: HttpRequest): Promise<Received> {
    const received = await super.receive(request);
    return { ...received, lastDelivery: { id: `delivery-${received.messages[0]!.id}` } };
  }
}

function world(budgetMs: number, fails: boolean) {
  const lines: Line[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  let release!: () => void;
  const stalled = new Promise<void>((resolve) => (release = resolve));
  let ended = 0;
  const router = createRouter({
    adapters: () => [new LastDeliveryAdapter()],
    logger,
    metrics: createMetrics(),
    readiness: async () => ({}),
    accept: async () => {
      await stalled;
      ended++;
      if (fails) throw new Error('Connection is closed.');
      return { status: 200 };
    },
    ackBudgetMs: () => budgetMs,
    paths: {},
  });
  const handler = createFetchHandler(router, { bodyLimitBytes: 1024, trustProxy: false });
  const post = (i: number) => handler(new Request('http://127.0.0.1/test/hook', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: `m${i}`, text: 'secret words' }) }));
  const lost = () => lines.filter((line) => line.msg === LOST);
  return { lines, post, release, ended: () => ended, lost };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe("a webhook on the platform's last delivery past the ack's deadline", () => {
  it('failed after its 503: each named once it failed (not at the deadline), never summarised, no text', async () => {
    const { post, release, ended, lost } = world(30, true);
    const answers = await Promise.all([post(1), post(2), post(3)]);
    expect(answers.map((answer) => answer.status)).toEqual([503, 503, 503]);
    expect(lost()).toEqual([]);
    release();
    await waitFor(() => ended() === 3, 2000, 'every take to end');
    await settled();
    expect(lost().map((line) => line.delivery).sort()).toEqual(['delivery-m1', 'delivery-m2', 'delivery-m3']);
    expect(lost().every((line) => line.level === 50 && line.platform === 'test' && line.status === 503)).toBe(true);
    expect(JSON.stringify(lost())).not.toContain('secret words');
  });

  it('taken after all: not lost, nothing named', async () => {
    const { post, release, ended, lost } = world(30, false);
    expect((await post(1)).status).toBe(503);
    release();
    await waitFor(() => ended() === 1, 2000, 'the take to end');
    await settled();
    expect(lost()).toEqual([]);
  });

  it('no budget left before taking began: nothing taken, named at once', async () => {
    const { post, lost } = world(0, false);
    expect((await post(1)).status).toBe(503);
    expect(lost()).toEqual([expect.objectContaining({ level: 50, delivery: 'delivery-m1', status: 503 })]);
  });
});
