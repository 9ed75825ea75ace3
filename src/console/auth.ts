/**
 * Who may use the console: whoever knows ADMIN_TOKEN, on every address, loopback included. The
 * sign-in page trades the token for a session cookie (httpOnly, SameSite=Strict, 12 hours) signed
 * with the token itself, so a new ADMIN_TOKEN signs everyone out; signing out records the session as
 * signed out in the store (signed-out.ts). Scripts may send the token as a bearer token instead.
 */
import { publicPathOf, type HttpRequest } from '../adapter.js';
import { readCookies } from '../http/cookies.js';
import { hmac, safeEqual, sameSecret } from '../signature.js';

export const SESSION_COOKIE = 'parley_console';
const SESSION_MS = 12 * 3_600_000;

/** A session cookie's value (`<issued>.<signature>`) and when it expires (ms since the epoch). */
export interface Session {
  value: string;
  expiresAt: number;
}

export class ConsoleAuth {
  constructor(private readonly adminToken: string) {}

  /** The request's session cookies that are signed with the token and not yet 12 hours old, with when each expires. */
  sessionsOf(request: HttpRequest, now = Date.now()): Session[] {
    // Every cookie of the name: one a sibling subdomain planted on a longer path comes first, and
    // would otherwise shadow the operator's session for good (a sign-out nobody can undo by signing in).
    return readCookies(request.headers.cookie, SESSION_COOKIE)
      .filter((value) => this.isSession(value, now))
      .map((value) => ({ value, expiresAt: Number(value.split('.')[0]) + SESSION_MS }));
  }

  isToken(given: string): boolean {
    return sameSecret(given.trim(), this.adminToken); // length included: see sameSecret
  }

  /** The Set-Cookie header that signs a person in. */
  signIn(request: HttpRequest, now = Date.now()): string {
    const issued = String(now);
    return serialise(`${issued}.${this.sign(issued)}`, SESSION_MS / 1000, request);
  }

  signOut(request: HttpRequest): string {
    return serialise('', 0, request);
  }

  private isSession(value: string, now = Date.now()): boolean {
    const [issued, signature] = value.split('.');
    if (!issued || !signature || !/^\d+$/.test(issued)) return false;
    const age = now - Number(issued);
    return age >= 0 && age < SESSION_MS && safeEqual(signature, this.sign(issued));
  }

  private sign(issued: string): string {
    return hmac('sha256', this.adminToken, `parley-console-session:${issued}`).toString('base64url');
  }
}

/** The token in `Authorization: Bearer …`, if the request sends one. */
export function bearerOf(request: HttpRequest): string | undefined {
  return request.headers.authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
}

function serialise(value: string, maxAgeSeconds: number, request: HttpRequest): string {
  const secure = request.url.protocol === 'https:' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=${publicPathOf(request, '/console')}; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}
