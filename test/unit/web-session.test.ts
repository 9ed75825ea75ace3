/** The web chat's signed visitor sessions (adapters/web/session.ts). */
import { describe, expect, it } from 'vitest';
import { cookieToken, randomId, sessionCookie, sessions } from '../../adapters/web/session.js';

const SECRET = 'a-secret-of-32-characters-or-more-0000';

describe('web chat sessions', () => {
  it('a token is v1.<visitor>.<expiresAtMs>.<hmac>, verified until it expires', () => {
    const signer = sessions(SECRET);
    const now = 1_700_000_000_000;
    const issued = signer.issue(60_000, undefined, now);
    expect(issued.visitor).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(issued.token).toMatch(new RegExp(`^v1\\.${issued.visitor}\\.${now + 60_000}\\.[A-Za-z0-9_-]{43}$`));
    expect(signer.verify(issued.token, now)).toEqual({ visitor: issued.visitor, expiresAt: new Date(now + 60_000) });
    expect(signer.verify(issued.token, now + 59_999)).toBeDefined();
    expect(signer.verify(issued.token, now + 60_000)).toBeUndefined();
  });

  it('refuses tokens that were changed, signed with another secret, or are not tokens', () => {
    const signer = sessions(SECRET);
    const { token, visitor } = signer.issue(60_000);
    const [, , expires, mac] = token.split('.');
    const other = sessions(`${SECRET}-other`).issue(60_000, visitor).token;
    for (const bad of [
      other,
      `v1.${visitor}.${Number(expires) + 1}.${mac}`,
      `v1.${randomId()}.${expires}.${mac}`,
      `v2.${visitor}.${expires}.${mac}`,
      `${token}.extra`,
      `v1.${visitor}.${expires}.`,
      `v1.short.${expires}.${mac}`,
      '',
      'v1...',
    ]) {
      expect(signer.verify(bad)).toBeUndefined();
    }
    expect(() => sessions('')).toThrow();
  });

  it('while rotating (several secrets, a list or comma-separated): signs with the first, verifies with any', () => {
    const NEW = 'the-new-secret-of-32-characters-or-more';
    const now = 1_700_000_000_000;
    const byOld = sessions(SECRET).issue(60_000, undefined, now);
    const byNew = sessions(NEW).issue(60_000, undefined, now);
    for (const rotating of [sessions([NEW, SECRET]), sessions(` ${NEW} , ${SECRET} `), sessions(`${NEW},,${SECRET},`)]) {
      // the old secret's sessions and stream tokens, and the new one's, all verify, each as its kind only
      for (const issued of [byOld, byNew]) {
        expect(rotating.verify(issued.token, now)).toEqual({ visitor: issued.visitor, expiresAt: issued.expiresAt });
        const stream = (issued === byOld ? sessions(SECRET) : sessions(NEW)).streamToken(issued);
        expect(rotating.verifyStream(stream, now)).toEqual({ visitor: issued.visitor, expiresAt: issued.expiresAt });
        expect(rotating.verify(stream, now)).toBeUndefined();
        expect(rotating.verifyStream(issued.token, now)).toBeUndefined();
        expect(rotating.verify(issued.token, now + 60_000)).toBeUndefined();
      }
      // renewing an old session: the same visitor, signed with the new secret only
      const renewed = rotating.issue(60_000, byOld.visitor, now);
      expect(renewed.token).toBe(sessions(NEW).issue(60_000, byOld.visitor, now).token);
      expect(sessions(SECRET).verify(renewed.token, now)).toBeUndefined();
      expect(sessions(SECRET).verifyStream(rotating.streamToken(renewed), now)).toBeUndefined();
      expect(sessions(NEW).verifyStream(rotating.streamToken(renewed), now)).toEqual({ visitor: byOld.visitor, expiresAt: renewed.expiresAt });
    }
    // once the old secret is dropped, its sessions are refused
    expect(sessions(NEW).verify(byOld.token, now)).toBeUndefined();
    expect(sessions([SECRET, NEW]).issue(60_000, byNew.visitor, now).token).toBe(sessions(SECRET).issue(60_000, byNew.visitor, now).token);
    for (const none of [[], ' , ', ',']) expect(() => sessions(none)).toThrow();
  });

  it('a renew token is r1.<visitor>.<expiresAtMs>.<hmac>, verified as that kind only, until it expires', () => {
    const NEW = 'the-new-secret-of-32-characters-or-more';
    const signer = sessions(SECRET);
    const now = 1_700_000_000_000;
    const THIRTY_DAYS = 30 * 24 * 60 * 60 * 1000;
    const session = signer.issue(60_000, undefined, now);
    const renew = signer.issueRenew(THIRTY_DAYS, session.visitor, now);
    expect(renew.token).toMatch(new RegExp(`^r1\\.${session.visitor}\\.${now + THIRTY_DAYS}\\.[A-Za-z0-9_-]{43}$`));
    expect(signer.verifyRenew(renew.token, now)).toEqual({ visitor: session.visitor, expiresAt: new Date(now + THIRTY_DAYS) });
    // long after the session's hour, still the same visitor; refused from its expiry on
    expect(signer.verifyRenew(renew.token, now + THIRTY_DAYS - 1)?.visitor).toBe(session.visitor);
    expect(signer.verifyRenew(renew.token, now + THIRTY_DAYS)).toBeUndefined();
    // kinds cannot be swapped: a renew token is no session or stream token, and neither of them renews
    const stream = signer.streamToken(session);
    expect(signer.verify(renew.token, now)).toBeUndefined();
    expect(signer.verifyStream(renew.token, now)).toBeUndefined();
    expect(signer.verifyRenew(session.token, now)).toBeUndefined();
    expect(signer.verifyRenew(stream, now)).toBeUndefined();
    const [, visitor, expires, mac] = renew.token.split('.');
    for (const relabelled of [`v1.${visitor}.${expires}.${mac}`, `s1.${visitor}.${expires}.${mac}`]) {
      expect(signer.verify(relabelled, now)).toBeUndefined();
      expect(signer.verifyStream(relabelled, now)).toBeUndefined();
    }
    const [, , sessionExpires, sessionMac] = session.token.split('.');
    expect(signer.verifyRenew(`r1.${visitor}.${sessionExpires}.${sessionMac}`, now)).toBeUndefined();
    // forged, changed or another secret's: refused
    for (const bad of [`r1.${visitor}.${Number(expires) + 1}.${mac}`, `r1.${randomId()}.${expires}.${mac}`, `${renew.token}.extra`, sessions(`${SECRET}-other`).issueRenew(THIRTY_DAYS, session.visitor, now).token]) {
      expect(signer.verifyRenew(bad, now)).toBeUndefined();
    }
    // rotating: signed with the first secret, verified with any
    expect(sessions([NEW, SECRET]).verifyRenew(renew.token, now)?.visitor).toBe(session.visitor);
    expect(sessions(SECRET).verifyRenew(sessions([NEW, SECRET]).issueRenew(THIRTY_DAYS, session.visitor, now).token, now)).toBeUndefined();
    expect(sessions(NEW).verifyRenew(renew.token, now)).toBeUndefined();
  });

  it('mints distinct 128-bit ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, randomId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(Buffer.from(id, 'base64url')).toHaveLength(16);
  });

  it('writes and reads the parley_web cookie', () => {
    expect(sessionCookie('v1.a.b.c', true)).toBe('parley_web=v1.a.b.c; Max-Age=2592000; Path=/web; HttpOnly; SameSite=Lax; Secure');
    expect(sessionCookie('v1.a.b.c', false)).not.toContain('Secure');
    expect(cookieToken('theme=dark; parley_web=v1.a.b.c; other=1')).toBe('v1.a.b.c');
    expect(cookieToken('theme=dark')).toBeUndefined();
    expect(cookieToken(undefined)).toBeUndefined();
  });
});
