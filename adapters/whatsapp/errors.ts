/**
 * What a failed Twilio send means for the queue: 63016 (outside WhatsApp's 24-hour window) and
 * other refusals no retry can fix are dead-lettered at once; 429s wait (see http-client.ts), and
 * so do a Twilio that could not be reached at all (nothing was sent) and one that answered a 5xx
 * (down for now: no attempt spent); other connection errors are retried with backoff (a send that
 * may have been taken all the same, MaybePostedError from http-client.ts or a gateway's 502 or
 * 504, is looked for first: find-part.ts).
 */
import { PermanentError, RetryAfterError, hideSecrets, isPlatformDown, notSentCode, platformDown, platformUnreachable } from 'parley/adapter-kit';

/** The person has not written in 24 hours: only an approved template may be sent. */
export const OUTSIDE_WINDOW = 63016;

/** Twilio's rate limits (20429 too many requests, 63018 a sender's rate, the sandbox's one message per 3 s): a wait, whatever the HTTP status. */
const RATE_LIMITED = new Set([20429, 63018]);

/**
 * What a refusal means where Twilio's own text does not say it ("Authenticate"): the dead letter's
 * reason and the log line should tell the operator what to do.
 */
const MEANINGS: Record<number, string> = {
  20003: 'Twilio did not accept the credentials: check TWILIO_ACCOUNT_SID and the first TWILIO_AUTH_TOKEN (or the API key of your own client)',
  21610: 'the person opted out (replied STOP): Twilio refuses messages to them until they send START',
};

interface TwilioApiError {
  status?: number;
  code?: number;
  message?: string;
  moreInfo?: string;
}

/** Turn an error from the SDK into the error the queue acts on; `refused` names what Twilio refused, `posting` whether the call sends. */
export function classifyTwilioError(error: unknown, refused = 'the message', posting = true): unknown {
  if (error instanceof RetryAfterError || error instanceof PermanentError) return error;
  const e = error as TwilioApiError;
  if (typeof e?.status !== 'number') {
    // Not an API answer. Never sent (an app's own client, without parley's http-client.ts): a wait; else a connection error, retried.
    const notSent = notSentCode(error);
    return notSent ? platformUnreachable('the Twilio API', notSent) : error;
  }
  // Twilio's error codes are numbers (21211, 63016): whatever else the body holds (text, an object, a
  // proxy's JSON) is no code, and must not become the dead letter's reason and its metric label.
  const code = Number.isSafeInteger(e.code) ? e.code : undefined;
  // Twilio's text may quote the auth token back: it is logged and kept as the dead letter's reason.
  const what = `Twilio refused ${refused}: HTTP ${e.status}${code ? ` error ${code}` : ''}${typeof e.message === 'string' && e.message ? ` (${hideSecrets(e.message)})` : ''}`;
  if (code === OUTSIDE_WINDOW) {
    return new PermanentError(`${what}. WhatsApp only allows free-form replies within 24 hours of the person's last message.`, `whatsapp_${OUTSIDE_WINDOW}`);
  }
  if (e.status === 429 || (code !== undefined && RATE_LIMITED.has(code))) return new RetryAfterError(what, 5000);
  // Down for now (an app's own client: parley's http-client.ts says so before the SDK does).
  if (isPlatformDown(e.status)) return platformDown('the Twilio API', e.status, { posting });
  // Other 4xx (bad number, unverified recipient, bad credentials) will fail the same way every time.
  const meaning = MEANINGS[code ?? (e.status === 401 ? 20003 : 0)];
  if (e.status >= 400 && e.status < 500 && e.status !== 408) return new PermanentError(meaning ? `${what}. ${meaning}.` : what, `twilio_${code ?? e.status}`);
  return new Error(what);
}
