/**
 * A Redis ACL refusal (NOPERM) logged with what to do about it (REDIS_PERMISSION_HINT), whether it
 * is the logged error or one it wraps: a cause (an app's own error around it, at any depth) or one
 * of an AggregateError's errors. A cycle among them ends the walk; an error without NOPERM gets no hint.
 */
import { describe, expect, it } from 'vitest';
import { REDIS_PERMISSION_HINT, serializeError } from '../../src/observe/logger.js';

/** As ioredis gives it (a ReplyError, Redis's words). */
const noperm = () => Object.assign(new Error("NOPERM User parley has no permissions to access the 'parley:ready' key"), { name: 'ReplyError' });
const messageOf = (error: unknown) => (serializeError(error) as { message: string }).message;

describe('the NOPERM hint in a logged error', () => {
  it('on a NOPERM itself, once', () => {
    const message = messageOf(noperm());
    expect(message.endsWith(REDIS_PERMISSION_HINT)).toBe(true);
    expect(message.split(REDIS_PERMISSION_HINT)).toHaveLength(2);
  });

  it('on an error whose cause, or cause\'s cause, is a NOPERM', () => {
    const once = new Error('could not take the message', { cause: noperm() });
    expect(messageOf(once)).toBe(`could not take the message: ${noperm().message}${REDIS_PERMISSION_HINT}`);
    const twice = new Error('job failed', { cause: new Error('store write failed', { cause: noperm() }) });
    expect(messageOf(twice).endsWith(REDIS_PERMISSION_HINT)).toBe(true);
  });

  it("on an AggregateError with a NOPERM among its errors, or among a cause's", () => {
    expect(messageOf(new AggregateError([new Error('ECONNRESET'), noperm()], 'all writes failed')).endsWith(REDIS_PERMISSION_HINT)).toBe(true);
    const wrapped = new Error('close failed', { cause: new AggregateError([new Error('timeout'), noperm()], 'two failures') });
    expect(messageOf(wrapped).endsWith(REDIS_PERMISSION_HINT)).toBe(true);
  });

  it('none without a NOPERM, and a cycle among the errors ends the walk', () => {
    expect(messageOf(new Error('ECONNREFUSED', { cause: new Error('connect failed') }))).not.toContain(REDIS_PERMISSION_HINT);
    const a = new Error('a');
    const b = new AggregateError([a], 'b', { cause: a });
    Object.assign(a, { cause: b });
    expect(messageOf(b)).not.toContain(REDIS_PERMISSION_HINT);
    const looped = new Error('outer');
    Object.assign(looped, { cause: new AggregateError([looped, noperm()], 'inner', { cause: looped }) });
    expect(messageOf(looped).endsWith(REDIS_PERMISSION_HINT)).toBe(true);
  });
});
