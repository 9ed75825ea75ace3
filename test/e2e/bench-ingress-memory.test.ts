/**
 * The benches' ingress-only child on the in-process queue (bench/web.ts, bench/slack.ts): since
 * `parley serve --no-worker` refuses that configuration (exit 2: nothing would answer), the benches
 * start it another way, and it must still take, queue and count messages as the bench reads them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { queuedAccounting } from '../../bench/metrics.js';
import { startParley } from '../../bench/web.js';
import { ingressOnly, parleyEnv, startChild, type Child } from '../../bench/children.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';

describe("the web bench's ingress on the in-process queue", () => {
  let ai: FakeOpenAi | undefined;
  let ingress: Child | undefined;
  afterEach(async () => {
    await ingress?.stop('SIGKILL');
    await ai?.close();
  });

  it('starts, acknowledges a message and reports it queued on /metrics', async () => {
    ai = await startFakeOpenAi();
    ingress = await startParley(ai, { worker: false });
    const response = await fetch(`${ingress.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hello', id: 'bench-ingress-1' }) });
    expect(response.status).toBe(202);
    expect(await queuedAccounting(ingress.url, 1, 1)).toMatch(/^delivered \(ingress only: queued\) 1 \/ lost 0 \/ duplicated 0 of 1 acknowledged/);
  }, 40_000);

  it('is not capped by QUEUE_MAX_MESSAGES: nothing drains its queue, so past the cap the bench would measure 503 refusals', async () => {
    ai = await startFakeOpenAi();
    const env = parleyEnv({ OPENAI_BASE_URL: ai.url, RATE_LIMIT_USER_PER_MINUTE: '0', QUEUE_MAX_MESSAGES: '1' });
    ingress = await startChild(ingressOnly(env), env);
    const statuses: number[] = [];
    for (const id of ['bench-cap-1', 'bench-cap-2']) statuses.push((await fetch(`${ingress.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hello', id }) })).status);
    expect(statuses).toEqual([202, 202]);
  }, 40_000);
});
