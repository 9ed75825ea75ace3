/**
 * Console sessions signed out before their 12 hours are up. The cookie itself is stateless, so a
 * sign-out is kept in the store (`parley:console:signed-out:<id>`, until the session would have
 * expired anyway): on Redis every process refuses the session from then on, a copy of the cookie
 * in another tab or a proxy log included. The id is a keyed hash of the cookie, never the cookie.
 */
import type { Logger } from 'pino';
import type { HttpRequest } from '../adapter.js';
import { leftOutFields, logSummaryOf } from '../observe/log-summary.js';
import { hmac } from '../signature.js';
import type { Store } from '../store/index.js';
import { withTimeout } from '../timeout.js';
import { bearerOf, type ConsoleAuth, type Session } from './auth.js';

const KEY = 'parley:console:signed-out:';
/** A healthy store answers well within this; every console request waits for the answer. */
const STORE_MS = 1000;
/** Sign-outs this process remembers itself (each until its session expires). */
const REMEMBERED = 1000;

/**
 * `allowed`: the bearer token, or a session not signed out. `refused`: neither. `unknown`: a valid
 * session the store could not say was signed out or not (unreachable).
 */
export type Access = 'allowed' | 'refused' | 'unknown';

export class SignedOutSessions {
  /** id → when its session expires: sign-outs seen here, refused without a read, even when the store did not take them. */
  private readonly remembered = new Map<string, number>();

  constructor(
    private readonly store: Pick<Store, 'get' | 'set'>,
    private readonly secret: string,
  ) {}

  /** Record the session as signed out; throws when the store did not take it (this process refuses it all the same). */
  async signOut(session: Session, now = Date.now()): Promise<void> {
    const id = this.idOf(session.value);
    this.remember(id, session.expiresAt, now);
    await withTimeout(this.store.set(KEY + id, '1', session.expiresAt - now), STORE_MS, `no answer from the store within ${STORE_MS} ms`);
  }

  /** Whether the session was signed out (one read of one key); throws when the store cannot tell. */
  async isSignedOut(session: Session, now = Date.now()): Promise<boolean> {
    const id = this.idOf(session.value);
    if ((this.remembered.get(id) ?? 0) > now) return true;
    const found = (await withTimeout(this.store.get(KEY + id), STORE_MS, `no answer from the store within ${STORE_MS} ms`)) !== undefined;
    if (found) this.remember(id, session.expiresAt, now);
    return found;
  }

  private idOf(value: string): string {
    return hmac('sha256', this.secret, `parley-console-signed-out:${value}`).toString('base64url').slice(0, 32);
  }

  private remember(id: string, expiresAt: number, now: number): void {
    if (this.remembered.size >= REMEMBERED) {
      for (const [key, until] of this.remembered) if (until <= now) this.remembered.delete(key);
      if (this.remembered.size >= REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
    }
    this.remembered.set(id, expiresAt);
  }
}

/** What the request's credentials are worth. Only a validly signed session costs a read: a forged cookie costs none. */
export async function accessOf(auth: ConsoleAuth, signedOut: SignedOutSessions, request: HttpRequest, logger: Logger): Promise<Access> {
  const bearer = bearerOf(request);
  if (bearer !== undefined) return auth.isToken(bearer) ? 'allowed' : 'refused';
  let unknown = false;
  for (const session of auth.sessionsOf(request)) {
    try {
      if (!(await signedOut.isSignedOut(session))) return 'allowed';
    } catch (error) {
      // Each open live overview asks every 2 s: in an outage, one line a minute, the rest at debug.
      const leftOut = logSummaryOf(logger).take('console session check');
      logger[leftOut === undefined ? 'debug' : 'warn']({ err: error, ...leftOutFields(leftOut ?? 0) }, 'could not read whether the console session was signed out (store unreachable)');
      unknown = true;
    }
  }
  return unknown ? 'unknown' : 'refused';
}
