/**
 * The turnstile on a real Redis, where a BullMQ test cannot reach a narrow window: a ticket given
 * again to a finished job (a replayed dead letter) before BullMQ has moved the job back.
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
