/**
 * WEB_TOKEN is compared as fixed-length digests, as the console's ADMIN_TOKEN is: a plain
 * comparison of the strings returned at once on a length that differed (never reaching the
 * constant-time compare), so how long a refusal took told a guesser the token's length.
 */
import { describe, expect, it, vi } from 'vitest';

const compared = vi.hoisted(() => [] as number[]);
vi.mock('node:crypto', async (original) => {
  const crypto = await original<typeof import('node:crypto')>();
  return { ...crypto, timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => (compared.push(a.byteLength), crypto.timingSafeEqual(a, b)) };
});

const { resolveCaller } = await import('../../adapters/web/access.js');

const request = (token: string) => ({ method: 'POST', url: new URL('http://bot.example/web/messages'), headers: { authorization: `Bearer ${token}` }, body: Buffer.alloc(0) });

describe('WEB_TOKEN compared in constant time whatever the length given', () => {
  it('a guess of another length still reaches the constant-time compare, and is refused', () => {
    const settings = { token: 'the-real-web-token-0123456789', local: false };
    compared.length = 0;
    expect(() => resolveCaller(request('short'), settings)).toThrow(/not valid|session/);
    expect(compared).toContain(32);
    expect(resolveCaller(request(settings.token), settings)).toEqual({ kind: 'operator' });
  });
});
