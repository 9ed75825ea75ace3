/**
 * Key rotation: OPENAI_API_KEY="a,b,c". A key the provider refuses (401) gives way to the next,
 * at once, without spending an attempt or touching the breaker, round the list: a call fails only
 * when every key has been refused in it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { AiError, createAiClient, OpenAiClient, type AiEvents, type KeyRejection } from '../../src/ai/index.js';
import { aiEvents } from '../../src/ai-events.js';
import { createMetrics } from '../../src/observe/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { request, testOptions } from './options.js';

const BAD = 'sk-test-revoked-0123456789wxyz';
const GOOD = 'sk-test-current-9876543210abcd';

let fake: FakeOpenAi | undefined;
afterEach(() => fake?.close());

async function keyring(apiKey: string, acceptKeys: string[], extra: { events?: AiEvents; logger?: pino.Logger } = {}) {
  fake = await startFakeOpenAi(undefined, { acceptKeys });
  const rejections: KeyRejection[] = [];
  const events: AiEvents = { ...extra.events, onKeyRejected: (e) => (rejections.push(e), extra.events?.onKeyRejected?.(e)) };
  // One attempt and a breaker that opens on the first provider failure: a refusal must spend neither.
  const client = new OpenAiClient(
    testOptions({ baseURL: fake.url, apiKey, attempts: 1, breakerThreshold: 1, events, ...(extra.logger ? { logger: extra.logger } : {}) }),
  );
  return { fake, client, rejections };
}

const keysSeen = (fake: FakeOpenAi) => fake.calls.map((c) => c.key);

describe('API key rotation', () => {
  it('moves to the next key on a 401, within the same attempt, and stays on it', async () => {
    const { fake, client, rejections } = await keyring(` ${BAD} , ${GOOD},`, [GOOD]);

    const first = await client.reply(request('one'));
    expect(first.text).toBe('echo: one');
    expect(keysSeen(fake)).toEqual([BAD, GOOD]);
    expect(rejections).toEqual([{ keyIndex: 0, keys: 2, nextIndex: 1 }]);
    expect(client.circuit).toBe('closed');

    // Later calls, streams included, go straight to the key that works.
    await client.reply(request('two'));
    const stream = client.stream!(request('three'));
    expect((await stream.result).text).toBe('echo: three');
    expect(keysSeen(fake)).toEqual([BAD, GOOD, GOOD, GOOD]);
    expect(rejections).toHaveLength(1);
  });

  it('a stream refused with the first key streams with the next', async () => {
    const { fake, client, rejections } = await keyring(`${BAD},${GOOD}`, [GOOD]);
    const stream = client.stream!(request('streamed'));
    let text = '';
    for await (const chunk of stream.chunks) text += chunk;
    expect(text).toBe('echo: streamed');
    expect(keysSeen(fake)).toEqual([BAD, GOOD]);
    expect(rejections).toEqual([{ keyIndex: 0, keys: 2, nextIndex: 1 }]);
  });

  it('fails as a permanent 401 once every key has been refused, one event per key', async () => {
    const { fake, client, rejections } = await keyring('sk-one,sk-two,sk-three', [GOOD]);

    const error = await client.reply(request('anyone?')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AiError);
    expect(error).toMatchObject({ kind: 'client', status: 401, retryable: false, isWait: false });
    expect((error as AiError).message).toBe('AI provider refused all 3 API keys (401 invalid_api_key)');
    expect(keysSeen(fake)).toEqual(['sk-one', 'sk-two', 'sk-three']);
    expect(rejections).toEqual([
      { keyIndex: 0, keys: 3, nextIndex: 1 },
      { keyIndex: 1, keys: 3, nextIndex: 2 },
      { keyIndex: 2, keys: 3 },
    ]);
    // A refused key is not provider trouble: the circuit (threshold 1) stays closed.
    expect(client.circuit).toBe('closed');

    // The next call tries every key again (a key may have been refused by a passing fault), and is refused (and reported) again.
    await expect(client.reply(request('still?'))).rejects.toMatchObject({ kind: 'client', status: 401 });
    expect(keysSeen(fake)).toEqual(['sk-one', 'sk-two', 'sk-three', 'sk-one', 'sk-two', 'sk-three']);
    expect(rejections.at(-1)).toEqual({ keyIndex: 2, keys: 3 });
  });

  it('one stray 401 on the new key does not leave the process on the old one (revoked): <new>,<old> goes back round to the new key', async () => {
    const { fake, client, rejections } = await keyring(`${GOOD},${BAD}`, [GOOD]);
    fake.script((call, n) => (n === 0 ? { status: 401, body: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } } } : { text: `echo: ${call.body.messages.at(-1)?.content}` }));
    // That call is refused with both keys (as it would be with the new key alone); the next ones are answered.
    await expect(client.reply(request('one'))).rejects.toMatchObject({ kind: 'client', status: 401 });
    const answers = [];
    for (const text of ['two', 'three']) answers.push((await client.reply(request(text))).text);
    expect(answers).toEqual(['echo: two', 'echo: three']);
    expect(keysSeen(fake)).toEqual([GOOD, BAD, GOOD, GOOD]);
    expect(rejections).toEqual([
      { keyIndex: 0, keys: 2, nextIndex: 1 },
      { keyIndex: 1, keys: 2 },
    ]);
  });

  it('a single refused key fails as before: a permanent 401', async () => {
    const { client, rejections } = await keyring(BAD, [GOOD]);
    await expect(client.reply(request('x'))).rejects.toMatchObject({ kind: 'client', status: 401, message: 'AI provider refused the API key (401 invalid_api_key)' });
    expect(rejections).toEqual([{ keyIndex: 0, keys: 1 }]);
  });

  it('concurrent calls refused with the same key advance once and skip no key', async () => {
    // Skipping would land on the third key, which is refused too.
    const { fake, client, rejections } = await keyring('sk-first,sk-second,sk-third', ['sk-second']);
    const texts = ['a', 'b', 'c', 'd', 'e', 'f'];
    const results = await Promise.all(texts.map((t) => client.reply(request(t))));
    expect(results.map((r) => r.text)).toEqual(texts.map((t) => `echo: ${t}`));
    expect(rejections).toEqual([{ keyIndex: 0, keys: 3, nextIndex: 1 }]);
    const seen = keysSeen(fake);
    expect(seen.filter((k) => k === 'sk-first').length).toBeGreaterThan(1); // they were in flight together
    expect(seen.filter((k) => k === 'sk-second')).toHaveLength(texts.length);
    expect(seen).not.toContain('sk-third');
  });

  it('never writes a key, nor the part OpenAI quotes back, to the logs; says which key by number', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
    const rotating = await keyring(`${BAD},${GOOD}`, [GOOD], { logger });
    await rotating.client.reply(request('hello'));
    await rotating.fake.close();

    const exhausted = await keyring(`${BAD},sk-test-another-bad-key-qrst`, [GOOD], { logger });
    const error = await exhausted.client.reply(request('hello')).catch((e: unknown) => e);
    // The way the worker logs a failed message.
    logger.warn({ err: error }, 'message given up');

    const log = lines.join('');
    expect(log).toContain('AI provider refused key #1 of 2 (401); using key #2');
    expect(log).toContain('AI provider refused key #2 of 2 (401); no key left to try');
    expect(log).toContain('AI provider refused all 2 API keys (401 invalid_api_key)');
    for (const secret of [BAD, GOOD, 'sk-test-another-bad-key-qrst', 'wxyz', 'abcd', 'qrst']) expect(log).not.toContain(secret);
  });

  it('counts each refusal in parley_ai_key_rejected_total', async () => {
    const metrics = createMetrics();
    const { client } = await keyring(`${BAD},${GOOD}`, [GOOD], { events: aiEvents(metrics) });
    await client.reply(request('counted'));
    await client.reply(request('not counted'));
    expect(await metrics.registry.getSingleMetricAsString('parley_ai_key_rejected_total')).toMatch(/^parley_ai_key_rejected_total 1$/m);
  });

  it('a list of nothing but commas is no key at all', () => {
    expect(createAiClient({ model: 'gpt-4o-mini', apiKey: ' , ' }).constructor.name).toBe('NoProviderAiClient');
  });
});
