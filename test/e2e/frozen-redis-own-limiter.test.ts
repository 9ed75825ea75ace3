/**
 * A developer's own user limiter (no `rule`: the queue cannot check it at its door), so a message is
 * claimed first and enqueued after, and a refusal's notice is sent once per window through a
 * notice-once SET in the store. Redis frozen for 3 s (frozen-world.ts) at that SET: past the
 * fail-fast connection's 1.5 s, the ack gives up and Slack redelivers, while Redis carries the SET
 * out once it wakes. The user must still get exactly one notice for the window.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryLimiter, type Limiter } from '../../src/index.js';
import { startFrozenWorld, slackDelivery as deliverToSlack, slackNotices, type FrozenWorld } from '../helpers/frozen-world.js';
import { until } from '../helpers/until.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let world: FrozenWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** 3 messages a minute per user, kept in this process: a limiter of the developer's own, without a rule. */
function ownLimiter(): Limiter {
  const inner = createMemoryLimiter({ points: 3, durationSeconds: 60, keyPrefix: 'own-user' });
  return { consume: (key, points) => inner.consume(key, points) };
}

const slackDelivery = (w: FrozenWorld, text: string, user = 'UOWN') => deliverToSlack(w, text, user);

describe("a developer's own limiter: Redis frozen 3 s at a refusal's notice-once SET", () => {
  it('Slack: the SET timed out and Redis carried it out; the redelivery posts the one notice, later refusals stay silent', async () => {
    const w = (world = await startFrozenWorld({}, { userLimiter: ownLimiter() }));
    // Warm up on another user: connections open, scripts loaded.
    expect(await slackDelivery(w, 'warm', 'UWARM')).toEqual([200]);
    await sleep(1000);
    for (let i = 0; i < 3; i++) expect(await slackDelivery(w, `fill ${i}`)).toEqual([200]);
    w.arm((command) => command.includes('limit-notice:'));
    const deliveries = await slackDelivery(w, 'over');
    expect(w.proxy.frozen).toBe(1);
    expect(deliveries).toHaveLength(2); // the first answer was an error: the ack gave up on the SET
    expect(deliveries.at(-1)).toBe(200);
    await until(() => slackNotices(w).length === 1, 'the notice', 5000);
    expect(await slackDelivery(w, 'over again')).toEqual([200]);
    await sleep(1500);
    expect(slackNotices(w)).toHaveLength(1);
    expect(slackNotices(w)[0]!.args.channel).toBe('D0UOWN');
  }, 40_000);
});
