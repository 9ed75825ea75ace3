/**
 * An adapter package with a copy of parley of its own (npm nests one when its version range differs
 * from the app's) throws that copy's error classes. The core must read them as its own: a bad
 * signature answered 401 (not 503, which the platform sends again), a 429 waited out without
 * spending an attempt, a permanent failure dead-lettered, a maybe-posted part looked for.
 */
import { describe, expect, it } from 'vitest';
import * as ours from '../../src/errors.js';
import * as ourAi from '../../src/ai/errors.js';
import { nothingShown } from '../../src/ai/errors.js';
import { asQueueError } from '../../src/failure.js';
import { InvalidPayloadError } from '../../src/payload.js';
import { isDeferral, isPermanent, retryDelayMs } from '../../src/queue/backoff.js';
import { createRouter } from '../../src/http/router.js';
import { createMetrics } from '../../src/observe/index.js';
import { FakeAdapter, silentLogger } from './helpers.js';

// The same source loaded again under another id: a second copy of the module, with classes of its own.
const anotherCopy = '../../src/errors.ts?another-copy';
const theirs = (await import(/* @vite-ignore */ anotherCopy)) as typeof ours;
const anotherAi = '../../src/ai/errors.ts?another-copy';
const theirAi = (await import(/* @vite-ignore */ anotherAi)) as typeof ourAi;
const anotherPayload = '../../src/payload.ts?another-copy';
const theirPayload = (await import(/* @vite-ignore */ anotherPayload)) as typeof import('../../src/payload.js');

describe("errors thrown by another copy of parley's classes", () => {
  it('are another copy (a plain prototype check fails)', () => {
    expect(theirs.HttpError).not.toBe(ours.HttpError);
    expect(Object.getPrototypeOf(new theirs.HttpError(401, 'bad_signature', 'x')) === ours.HttpError.prototype).toBe(false);
  });

  it('are read as ours by their code', () => {
    expect(new theirs.HttpError(401, 'bad_signature', 'x')).toBeInstanceOf(ours.HttpError);
    expect(new theirs.HttpError(401, 'bad_signature', 'x')).toBeInstanceOf(ours.ParleyError);
    expect(new theirs.PermanentError('gone', 'outside_window')).toBeInstanceOf(ours.PermanentError);
    expect(new theirs.RetryAfterError('slow down', 15_000)).toBeInstanceOf(ours.RetryAfterError);
    expect(new theirs.MaybePostedError('timed out')).toBeInstanceOf(ours.MaybePostedError);
    expect(isPermanent(new theirs.PermanentError('gone'))).toBe(true);
    expect(isDeferral(new theirs.RetryAfterError('slow down', 15_000))).toBe(true);
    expect(retryDelayMs(1, { attempts: 3, backoffMs: 10, maxBackoffMs: 60_000 }, new theirs.RetryAfterError('slow down', 15_000))).toBe(15_000);
  });

  it('the other classes the core branches on are read by code too (an AI failure before any text, a missing SDK met while answering)', () => {
    // The adapter's copy made the stream's failure final (text had come); none of it reached the user.
    const before = new theirAi.AiError('server', 'the stream broke', { retryable: true });
    const final = before.final();
    expect(final).toBeInstanceOf(ourAi.AiError);
    expect(nothingShown(final)).toBe(before);
    expect(asQueueError(new theirs.MissingDependencyError('twilio', 'WhatsApp'))).toMatchObject({ code: ours.ErrorCode.Permanent, reason: 'config' });
    expect(asQueueError(new theirs.ConfigError('bad option'))).toMatchObject({ code: ours.ErrorCode.Permanent, reason: 'config' });
    expect(new theirPayload.InvalidPayloadError('does not fit', {}, 400)).toBeInstanceOf(InvalidPayloadError);
    expect(new ourAi.AiError('server', 'x', { retryable: true })).not.toBeInstanceOf(ours.ConfigError);
  });

  it('keep their kinds apart, and subclasses keep the plain check', () => {
    expect(new theirs.PermanentError('gone')).not.toBeInstanceOf(ours.RetryAfterError);
    expect(new theirs.RetryAfterError('slow', 1)).not.toBeInstanceOf(ours.PermanentError);
    expect(new Error('plain')).not.toBeInstanceOf(ours.ParleyError);
    expect(Object.assign(new Error('look-alike'), { code: 'something_else', status: 401 })).not.toBeInstanceOf(ours.HttpError);
    expect(new ours.HttpError(400, 'malformed_body', 'x')).not.toBeInstanceOf(InvalidPayloadError);
    expect(new ours.MaybePostedError('x').code).toBe(ours.ErrorCode.MaybePosted);
  });

  it('a bad signature from such an adapter is answered with its own status and reason, not 503', async () => {
    class ForeignAdapter extends FakeAdapter {
      override async receive(): Promise<never> {
        throw new theirs.HttpError(401, 'bad_signature', 'The signature does not match.');
      }
    }
    const adapter = new ForeignAdapter();
    const router = createRouter({
      adapters: () => [adapter],
      logger: silentLogger,
      metrics: createMetrics(),
      readiness: async () => ({}),
      adapterStates: () => ({}),
      accept: async () => ({ status: 200 }),
      paths: { health: '/healthz', ready: '/readyz', metrics: '/metrics' },
    });
    const response = await router.handle({ method: 'POST', url: new URL('http://127.0.0.1/test/hook'), headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') });
    expect(response.status).toBe(401);
    expect(String(response.body)).toContain('bad_signature');
  });
});
