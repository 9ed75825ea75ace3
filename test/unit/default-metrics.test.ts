/** Node's own metrics on /metrics (the `parley_` prefixed defaults), the event-loop lag among them. */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observe/index.js';

describe('default metrics', () => {
  it('export the event-loop lag, sampled every 100 ms: a stall shows in full', async () => {
    const metrics = createMetrics({ defaultMetrics: true });
    await new Promise((resolve) => setTimeout(resolve, 250));
    const stallUntil = Date.now() + 150;
    while (Date.now() < stallUntil); // the event loop blocked for 150 ms
    await new Promise((resolve) => setTimeout(resolve, 250));
    const text = await metrics.registry.metrics();
    const max = Number(/^parley_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1]);
    expect(max).toBeGreaterThan(0.1);
    expect(text).toMatch(/^parley_nodejs_eventloop_lag_p99_seconds \S+$/m);
  });
});
