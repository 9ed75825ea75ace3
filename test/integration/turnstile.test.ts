/**
 * The turnstile on a real Redis, where a BullMQ test cannot reach a narrow window: a ticket given
 * again to a finished job (a replayed dead letter) before BullMQ has moved the job back. And the
 * door's required key (Admission.requires), checked before the claim and the limits.
 */
import { describe, expect, it } from 'vitest';
import { Turnstile } from '../../src/queue/turnstile.js';
import { uniquePrefix, useRedis } from './redis-helpers.js';

const prefix = uniquePrefix();
const redis = useRedis(prefix);

describe('Turnstile.enter (a replayed dead letter)', () => {
  it('is not swept as finished by a later job while its job is still being moved back', async () => {
    const turnstile = new Turnstile(await redis.connection(), `${prefix}:turn`);
    await turnstile.enter('g', 'replayed'); // the dead letter's job is still failed: "finished"
    await turnstile.enter('g', 'later');
    const finished = async () => true;
    expect(await turnstile.turn('g', 'later', finished)).toBe('wait');
    expect(await turnstile.turn('g', 'replayed', finished)).toBe('turn');
  });
});

describe('Turnstile.admit with a required key', () => {
  const admission = (claim: string, requires: string) => ({
    claim,
    claimTtlMs: 60_000,
    requires,
    limits: [{ name: 'user', subject: `test:${claim}`, points: 1, durationSeconds: 60 }],
  });

  it('ignores the message while the key is missing: no claim, no limit counted, no ticket', async () => {
    const admin = redis.admin();
    const turnstile = new Turnstile(await redis.connection(), `${prefix}:turn`);
    const required = `${prefix}:answered`;
    expect(await turnstile.admit({ id: 'j1', group: 'g-required' }, admission('c1', required))).toEqual({ outcome: 'ignored' });
    expect(await admin.exists(`${prefix}:turn-claim:c1`, `${prefix}:turn-limit:user:test:c1`, `${prefix}:turn:g-required`)).toBe(0);
    await admin.set(required, '1');
    expect(await turnstile.admit({ id: 'j1', group: 'g-required' }, admission('c1', required))).toEqual({ outcome: 'queued' });
    expect(await turnstile.admit({ id: 'j1', group: 'g-required' }, admission('c1', required))).toEqual({ outcome: 'duplicate' });
    // The limit still applies after the required key (its index counted from the first limit).
    const limited = await turnstile.admit({ id: 'j2', group: 'g-required' }, { ...admission('c2', required), limits: admission('c1', required).limits });
    expect(limited).toMatchObject({ outcome: 'limited', limit: { name: 'user', subject: 'test:c1' } });
  });
});
