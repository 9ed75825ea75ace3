/**
 * The AI circuit breaker tells when it opens and when it closes, once each: nothing said either,
 * so an on-call engineer read "AI call failed, retrying" lines, then silence, and could not tell
 * from the log when the provider came back. A probe that fails while it is open says nothing more.
 */
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { AiError } from '../../src/ai/errors.js';
import { ResiliencePolicy } from '../../src/ai/resilience.js';
import { startFakeOpenAi } from '../fakes/openai-server.js';
import { createAiClient } from '../../src/ai/index.js';
import { until } from '../helpers/until.js';

const settings = { attempts: 1, initialBackoffMs: 1, maxBackoffMs: 5, attemptTimeoutMs: 5_000, deadlineMs: 10_000, breakerThreshold: 2, breakerHalfOpenAfterMs: 50 };

it('reports the circuit opening once (not at each failed probe) and closing once, with how long it was open', async () => {
  const changes: { open: boolean; openForMs: number }[] = [];
  const policy = new ResiliencePolicy(settings, { onCircuit: (change) => void changes.push(change) });
  const failing = async () => {
    throw new AiError('server', 'provider 500', { status: 500 });
  };
  for (let i = 0; i < 2; i++) await policy.execute(failing).catch(() => undefined);
  expect(policy.circuit).toBe('open');
  expect(changes).toEqual([{ open: true, openForMs: 0 }]);
  // A probe let through (half-open) that fails opens it again: no second report.
  let probes = 0;
  await until(async () => {
    await policy.execute(async () => (probes++, failing())).catch(() => undefined);
    return probes > 0;
  }, 'a probe to be let through');
  expect(changes).toHaveLength(1);
  await until(async () => (await policy.execute(async () => 'ok').catch(() => undefined)) === 'ok', 'a probe to succeed');
  expect(changes).toEqual([{ open: true, openForMs: 0 }, { open: false, openForMs: expect.any(Number) }]);
  expect(changes[1]!.openForMs).toBeGreaterThanOrEqual(50);
});

it('the AI client logs both: a warn line as it opens, an info line as it closes', async () => {
  let down = true;
  const ai = await startFakeOpenAi(() => (down ? { status: 500, body: { error: { message: 'server error' } } } : {}));
  const lines: { level: number; msg: string; openSeconds?: number }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  try {
    const client = createAiClient({ apiKey: 'sk-test', baseURL: ai.url, model: 'gpt-4o-mini', logger, attempts: 1, breakerThreshold: 2, breakerHalfOpenAfterMs: 50 });
    const ask = () => client.reply({ conversationId: 'c', history: [], text: 'hi' }).then(() => true, () => false);
    await until(async () => (await ask(), client.circuit !== 'closed'), 'the circuit to open');
    down = false;
    await until(ask, 'an answer once the provider is back');
    const circuit = lines.filter((line) => line.msg.startsWith('AI circuit breaker'));
    expect(circuit.map(({ level, msg }) => ({ level, msg }))).toEqual([
      { level: 40, msg: 'AI circuit breaker opened: the provider keeps failing; messages wait until a call let through succeeds' },
      { level: 30, msg: 'AI circuit breaker closed: the provider answers again' },
    ]);
    expect(circuit[1]!.openSeconds).toBeGreaterThanOrEqual(0);
  } finally {
    await ai.close();
  }
});
