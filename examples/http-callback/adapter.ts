/**
 * A third-party adapter, written only against `parley/adapter-kit`: a generic signed HTTP callback.
 *
 * Inbound: your system POSTs `{"id", "conversation", "user", "text"}` to the webhook, signed with
 * `X-Signature: sha256=<hex HMAC-SHA256 of the raw body>` under the shared secret.
 * Outbound: each reply part is POSTed as JSON to `callbackUrl`, signed the same way, with an
 * `Idempotency-Key` that stays the same when a part is retried.
 *
 * Everything else (queueing, retries, splitting long replies, posting each part once, waiting
 * out a short Retry-After) is parley's: the adapter verifies, parses, and posts one part.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  HttpError,
  InvalidPayloadError,
  PermanentError,
  RetryAfterError,
  checkPayload,
  hmac,
  hmacMatches,
  json,
  retryAfterMs,
  type Adapter,
  type HttpRequest,
  type Received,
  type ReplyPart,
} from 'parley/adapter-kit';

export interface HttpCallbackOptions {
  /** Shared secrets for the HMAC; the first signs callbacks, any of them verifies webhooks (rotation). */
  secrets: readonly string[];
  /** Where replies are POSTed: the one setting a test points at a local fake. */
  callbackUrl: string;
  /** The webhook route (default /callback/messages). */
  path?: string;
  /** The longest reply part the receiving system takes (default 2,000 characters). */
  maxChars?: number;
  /** How long one callback may take before it counts as failed (default 10 s). */
  timeoutMs?: number;
}

/** What this adapter keeps in a conversation's ref, typed: `sendPart` gets it without a cast. */
export interface CallbackDetails {
  conversation: string;
}

const inboundSchema = z.object({
  id: z.string().min(1).max(200),
  conversation: z.string().min(1).max(200),
  user: z.string().min(1).max(200),
  text: z.string().min(1).max(20_000),
});

/** A 429 or 503 that does not say how long to wait. */
const DEFAULT_RETRY_AFTER_MS = 1000;

/** Create the HTTP callback adapter. */
export function httpCallbackAdapter(options: HttpCallbackOptions): Adapter<CallbackDetails> {
  const [signingSecret] = options.secrets;
  if (!signingSecret) throw new Error('httpCallbackAdapter: secrets must hold at least one secret');
  const callbackUrl = new URL(options.callbackUrl);

  async function receive(request: HttpRequest): Promise<Received> {
    const header = request.headers['x-signature'] ?? '';
    if (!header) throw new HttpError(401, 'missing_signature', 'Sign the body: X-Signature: sha256=<hex HMAC-SHA256>.');
    if (!header.startsWith('sha256=') || !hmacMatches(header.slice('sha256='.length), options.secrets, request.body)) {
      throw new HttpError(401, 'bad_signature', 'The X-Signature does not match the body: check the shared secret.');
    }
    let body: unknown;
    try {
      body = JSON.parse(request.body.toString('utf8'));
    } catch {
      throw new InvalidPayloadError('The body is not valid JSON.', undefined, 400, 'malformed_body');
    }
    const message = checkPayload(inboundSchema, body, 'The message (send {"id", "conversation", "user", "text"} as non-empty strings)');
    return {
      response: json(202, { id: message.id }),
      messages: [
        {
          id: message.id,
          platform: 'callback',
          conversation: { platform: 'callback', id: message.conversation, details: { conversation: message.conversation } },
          user: { id: message.user },
          text: message.text,
          receivedAt: new Date().toISOString(),
        },
      ],
    };
  }

  return {
    platform: 'callback',
    path: options.path ?? '/callback/messages',
    contentTypes: ['application/json'],
    redelivers: true,
    maxChars: options.maxChars ?? 2000,
    receive,
    async sendPart(conversation, text, part: ReplyPart) {
      const body = JSON.stringify({ conversation: conversation.details?.conversation ?? conversation.id, text, part: part.index + 1, parts: part.total, kind: part.kind });
      let response: Response;
      try {
        response = await fetch(callbackUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-signature': `sha256=${hmac('sha256', signingSecret, body).toString('hex')}`,
            'idempotency-key': part.key ?? randomUUID(),
          },
          body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (error) {
        throw new Error(`the callback at ${callbackUrl.origin} could not be reached: ${(error as Error).message}`); // retried
      }
      const answer = await response.text();
      if (response.status === 429 || response.status === 503) {
        throw new RetryAfterError(`the callback answered ${response.status}`, retryAfterMs(response.headers) ?? DEFAULT_RETRY_AFTER_MS);
      }
      if (response.status >= 500 || response.status === 408) throw new Error(`the callback answered ${response.status}`); // retried
      if (!response.ok) throw new PermanentError(`the callback refused the reply: ${response.status}`, `callback_${response.status}`);
      return idFrom(answer) ?? part.key ?? randomUUID();
    },
  };
}

/** The receiving system may answer `{"id": "..."}` for the message it created. */
function idFrom(answer: string): string | undefined {
  try {
    const id = (JSON.parse(answer) as { id?: unknown }).id;
    return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
  } catch {
    return undefined;
  }
}
