/** Signing in to the console (with the sign-in form, or by script with a bearer token, both counted by the throttle) and out. */
import type { Logger } from 'pino';
import { publicPathOf, type HttpRequest, type HttpResponse } from '../adapter.js';
import { addressKey, clientAddress, type TrustProxy } from '../http/client-address.js';
import { jsonError } from '../http/responses.js';
import { bearerOf, type ConsoleAuth } from './auth.js';
import { signInPage } from './pages.js';
import type { SignInThrottle } from './sign-in-throttle.js';
import type { SignedOutSessions } from './signed-out.js';

export function signIn(auth: ConsoleAuth, request: HttpRequest, logger: Logger, client: string, failed: () => void): HttpResponse | Promise<HttpResponse> {
  const token = new URLSearchParams(request.body.toString('utf8')).get('token') ?? '';
  if (!auth.isToken(token)) {
    failed();
    logger.warn({ client }, 'console sign-in refused: wrong token');
    return signInPage(401, 'That is not the admin token.', publicPathOf(request, '/console'));
  }
  logger.info({ client }, 'console sign-in');
  return { status: 303, headers: { location: publicPathOf(request, '/console'), 'set-cookie': auth.signIn(request) } };
}

/**
 * Clear the cookie, and record its session as signed out so that every copy of it (another tab's live
 * overview, a cookie copied from a shared machine) is refused from now on. Only a validly signed
 * session is recorded: a forged cookie writes nothing. A store that does not take it still signs
 * this browser out; this process refuses the session, other processes until it expires.
 */
export async function signOut(auth: ConsoleAuth, signedOut: SignedOutSessions, request: HttpRequest, logger: Logger): Promise<HttpResponse> {
  for (const session of auth.sessionsOf(request)) {
    try {
      await signedOut.signOut(session);
      logger.info('console sign-out: the session is signed out everywhere');
    } catch (error) {
      const expiresAt = new Date(session.expiresAt).toISOString();
      logger.warn({ err: error, expiresAt }, 'console sign-out not recorded in the store (unreachable): this browser is signed out, but other copies of the session stay valid in other processes until it expires');
    }
  }
  return { status: 303, headers: { location: publicPathOf(request, '/console'), 'set-cookie': auth.signOut(request) } };
}

/**
 * A bearer token is a sign-in by script: a wrong one counts against the address as a wrong form
 * sign-in does (else the API is a way round the throttle), and past the limit every bearer token
 * from that address is refused before it is looked at, the right one too. Sessions are not.
 */
export function bearerRefused(deps: { trustProxy?: TrustProxy; logger: Logger }, request: HttpRequest, auth: ConsoleAuth, signIns: SignInThrottle, path: string): HttpResponse | undefined {
  const client = clientAddress(request, deps.trustProxy ?? false);
  const waitMs = signIns.refusedFor(addressKey(client));
  if (waitMs !== undefined) {
    deps.logger.warn({ client, path }, 'too many failed console sign-ins from this address: bearer token refused');
    return jsonError(429, 'too_many_attempts', 'Too many wrong tokens from this address: wait a minute.', { 'retry-after': retryAfter(waitMs) });
  }
  if (!auth.isToken(bearerOf(request)!)) {
    signIns.failed(addressKey(client));
    deps.logger.warn({ client, path }, 'console bearer token refused: wrong token');
  }
  return undefined;
}

export function retryAfter(waitMs: number): string {
  return String(Math.max(1, Math.ceil(waitMs / 1000)));
}
