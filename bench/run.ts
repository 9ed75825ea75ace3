/**
 * `npm run bench`: figures, not assertions. Starts real parley servers (memory defaults) in child
 * processes with a fake, instant OpenAI-compatible AI, and measures on loopback at 50 connections:
 *  1. ingress only (`serve --no-worker`): POST /web/messages acknowledgements per second, p50/p99;
 *  2. the whole pipeline (`serve`): the same load while the worker answers, then how many
 *     acknowledged messages were answered, lost, or answered more than once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../test/fakes/openai-server.js';

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);

async function startServer(ai: FakeOpenAi, args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'serve', ...args], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', OPENAI_BASE_URL: ai.url, RATE_LIMIT_USER_PER_MINUTE: '0', CACHE_TTL_SECONDS: '0', WORKER_CONCURRENCY: '32', AI_MAX_CONCURRENT: '64' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen += d.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(seen);
      if (match) {
        resolve(match[1]!);
        seen = '';
      }
    };
    child.stdout!.on('data', onData); // keeps draining the log pipe, as a log shipper would
  });
  return { url, child };
}

async function load(url: string, onAck: (id: string) => void) {
  let n = 0;
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

async function main(): Promise<void> {
  const ai = await startFakeOpenAi(() => ({ text: 'ok' }));
  try {
    const ingress = await startServer(ai, ['--no-worker']);
    const ingressResult = await load(ingress.url, () => undefined);
    ingress.child.kill('SIGKILL');
    console.log(line('web ingress only (memory store, no worker)', ingressResult));

    const full = await startServer(ai, []);
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
    console.log(`end to end: ${acked.size} acknowledged, ${acked.size - lost} answered, ${lost} lost, ${duplicated} answered twice`);
    full.child.kill('SIGTERM');
  } finally {
    await ai.close();
  }
}

await main();
