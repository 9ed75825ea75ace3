/**
 * A webhook's answer carries what became of its messages (`outcome`) to its request line: filled in
 * place where the adapter left the field open (the Slack fast path's answer, made for its request:
 * no object made on the ack path), copied otherwise, so an adapter's shared or frozen answer is
 * neither changed for every later request nor a TypeError (a 503) on this one.
 */
import { describe, expect, it } from 'vitest';
import type { HttpResponse, Received } from '../../src/adapter.js';
import { answerOf } from '../../src/ingest.js';
import { withOutcome, type MessageOutcome } from '../../src/outcome.js';

const received = (response: HttpResponse): Received => ({ response, messages: [] });

describe('answerOf and the outcome', () => {
  it("fills the fast path's open field in place", () => {
    const response: HttpResponse = { status: 200, outcome: undefined };
    const answer = answerOf(received(response), undefined, 'queued');
    expect(answer).toBe(response);
    expect(answer).toEqual({ status: 200, outcome: 'queued' });
  });

  it("copies an adapter's frozen or shared answer, leaving it as it was", () => {
    const frozen: HttpResponse = Object.freeze({ status: 200, outcome: undefined });
    expect(answerOf(received(frozen), undefined, 'duplicate')).toEqual({ status: 200, outcome: 'duplicate' });
    expect(frozen.outcome).toBeUndefined();
    const shared: HttpResponse = { status: 200 };
    expect(answerOf(received(shared), undefined, 'queued')).toEqual({ status: 200, outcome: 'queued' });
    expect(shared).toEqual({ status: 200 });
  });

  it("gives the adapter's refusal the outcome when a limit refused a message", () => {
    const refusing: Received = { ...received({ status: 202 }), overLimit: () => ({ status: 429 }) };
    expect(answerOf(refusing, { limit: 'user', retryAfterMs: 1000 }, 'rate_limited')).toEqual({ status: 429, outcome: 'rate_limited' });
  });

  it('names, of several messages, a refusal first, then one taken, then a duplicate', () => {
    let outcome: MessageOutcome | undefined;
    for (const next of ['ignored', 'duplicate', 'queued', 'duplicate'] as const) outcome = withOutcome(outcome, next);
    expect(outcome).toBe('queued');
    expect(withOutcome(withOutcome('queued', 'rate_limited'), 'queued')).toBe('rate_limited');
    expect(withOutcome('ignored', 'duplicate')).toBe('duplicate');
  });
});
