/**
 * A job larger than its queue takes. SQS refuses a body over the queue's MaximumMessageSize (1 MiB
 * at most; 256 KiB on queues made before August 2025, and where infrastructure code says so), and
 * refuses it on every try: ingress would answer 503 to each of the platform's retries, and the
 * message would be lost with no word to its sender. Instead the job is queued with its long strings
 * cut so the envelope fits, marked `cut` (its size as sent): the worker never answers a cut message,
 * it asks the sender for a shorter one and dead-letters it (reason `too_large`, not replayable).
 */
import type { NewJob } from '../src/index.js';
import { sqsBody } from './sqs-ids.js';
import { largestFitting } from './sqs-letter-size.js';

/** The reason of a dead letter whose message was larger than the queue takes. */
export const TOO_LARGE = 'too_large';

/** The envelope of `job`, its long strings cut so the body fits `maxBytes`; undefined when even cut it does not. */
export function cutEnvelope<T>(job: NewJob<T>, delivery: string, maxBytes: number): string | undefined {
  const cut = Buffer.byteLength(sqsBody({ id: job.id, group: job.group, data: job.data, delivery }), 'utf8');
  const body = (chars: number) => sqsBody({ id: job.id, group: job.group, data: shorten(job.data, chars), delivery, cut });
  const fits = (chars: number) => Buffer.byteLength(body(chars), 'utf8') <= maxBytes;
  // The longest cut that fits: a few serialisations, for a message that is rare.
  const fitting = largestFitting(-1, longest(job.data) + 1, fits);
  // Ids and conversation fields are short: cut to under 64 characters, the apology could not find its conversation.
  return fitting >= 64 ? body(fitting) : undefined;
}

/** `value` with every string longer than `chars` cut to its first `chars`. */
function shorten(value: unknown, chars: number): unknown {
  if (typeof value === 'string') return value.length > chars ? value.slice(0, chars) : value;
  if (Array.isArray(value)) return value.map((item: unknown) => shorten(item, chars));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shorten(item, chars)]));
  return value;
}

function longest(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (value && typeof value === 'object') return Object.values(value).reduce((most: number, item: unknown) => Math.max(most, longest(item)), 0);
  return 0;
}
