/**
 * The web chat benchmark: POST /web/messages at 50 connections against
 *  1. ingress only (`serve --no-worker`): acknowledgements per second, p50/p99;
 *  2. the whole pipeline (`serve`): the same load while the worker answers, then how many
 *     acknowledged messages were answered, lost, or answered more than once.
 */
import autocannon from 'autocannon';
import { lastUserText, type FakeOpenAi } from '../test/fakes/openai-server.js';
import { ingressOnly, parleyEnv, startChild } from './children.js';
import { queuedAccounting } from './metrics.js';
import { CONNECTIONS, DURATION_S } from './settings.js';

/** `serve`, or the ingress alone (`serve --no-worker` as on the in-process queue: bench/ingress-memory.ts). */
export function startParley(ai: FakeOpenAi, options: { worker: boolean }) {
  const env = parleyEnv({ OPENAI_BASE_URL: ai.url, RATE_LIMIT_USER_PER_MINUTE: '0', CACHE_TTL_SECONDS: '0', WORKER_CONCURRENCY: '32', AI_MAX_CONCURRENT: '64' });
  return startChild(options.worker ? ['cli/main.ts', 'serve'] : ingressOnly(env), env);
}

/** Messages sent so far (each has its own id). */
let n = 0;

async function load(url: string, onAck: (id: string) => void) {
  return autocannon({
    url: `${url}/web/messages`,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => {
          const i = n++;
          return { ...request, body: JSON.stringify({ conversation: `bench-${i % 500}`, text: `message ${i}`, id: `m${i}` }) };
        },
        onResponse: (status, body) => {
          if (status === 202) onAck((JSON.parse(body) as { id: string }).id);
        },
      },
    ],
  });
}

const line = (name: string, r: autocannon.Result) =>
  `${name}: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms (${r['2xx']} acknowledged, ${r.non2xx} non-2xx, ${r.errors} errors)`;

/** Run the web benchmark and print its lines. */
export async function benchWeb(ai: FakeOpenAi): Promise<void> {
  const ingress = await startParley(ai, { worker: false });
  const before = n;
  const ingressResult = await load(ingress.url, () => undefined);
  const accounting = await queuedAccounting(ingress.url, ingressResult['2xx'], n - before);
  await ingress.stop('SIGKILL');
  console.log(`${line('web ingress only (memory store, no worker)', ingressResult)}; ${accounting}`);

  const full = await startParley(ai, { worker: true });
  ai.calls.length = 0;
  const acked = new Set<string>();
  const fullResult = await load(full.url, (id) => acked.add(id));
  console.log(line('web ingress with the worker answering in the same process', fullResult));
  const deadline = Date.now() + 120_000;
  const answered = new Map<string, number>();
  while (Date.now() < deadline) {
    answered.clear();
    for (const call of ai.calls) {
      const id = `m${lastUserText(call).replace('message ', '')}`;
      answered.set(id, (answered.get(id) ?? 0) + 1);
    }
    if ([...acked].every((id) => answered.has(id))) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const lost = [...acked].filter((id) => !answered.has(id)).length;
  const duplicated = [...answered.values()].filter((count) => count > 1).length;
  console.log(`  end to end: delivered ${acked.size - lost} / lost ${lost} / duplicated ${duplicated} of ${acked.size} acknowledged (answered: called the AI)`);
  await full.stop('SIGTERM');
  ai.calls.length = 0;
}
