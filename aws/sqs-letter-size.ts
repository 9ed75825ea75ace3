/**
 * A dead letter as an SQS message body that SQS takes: at most 1 MiB (1,048,576 bytes of UTF-8).
 * A letter is the job's data, JSON-escaped, plus its fields, so a body that fit the job queue can
 * outgrow the limit (a body of quotes doubles). SendMessage would then fail on every delivery and
 * the poison would never leave the queue. Such a letter keeps its reason, id, group and error, and
 * its `data` becomes the start of the body (or of the job's data as JSON), marked `truncated`:
 * kept to be read, never replayed.
 */
import type { DeadLetter } from '../src/index.js';
import { sqsBody } from './sqs-ids.js';

/** SQS's largest message body. */
export const SQS_MAX_BODY_BYTES = 1_048_576;

/** A letter's own fields are cut only when absurdly long (a hand-sent envelope), so the data always has room. */
const FIELD_MAX_CHARS = 8192;

/** The letter's SQS message body, cut to fit `maxBytes` when it is longer. */
export function deadLetterBody<T>(letter: DeadLetter<T>, maxBytes = SQS_MAX_BODY_BYTES): string {
  const whole = sqsBody(letter);
  if (bytes(whole) <= maxBytes) return whole;
  const data = typeof letter.data === 'string' ? letter.data : (JSON.stringify(letter.data) ?? '');
  const clip = (text: string) => text.slice(0, FIELD_MAX_CHARS);
  const cut = (chars: number) =>
    sqsBody({ ...letter, id: clip(letter.id), group: clip(letter.group), error: clip(letter.error), reason: clip(letter.reason), data: data.slice(0, chars), truncated: true });
  // The longest start of the data that fits: a few serialisations, for a letter that is rare.
  return cut(largestFitting(0, data.length + 1, (chars) => bytes(cut(chars)) <= maxBytes));
}

/**
 * The largest n between `fitting` (known to fit, or -1 for none) and `tooLong` (known not to) for
 * which `fits(n)`, found by halving: `fits` holds up to some n and not after it.
 */
export function largestFitting(fitting: number, tooLong: number, fits: (n: number) => boolean): number {
  while (tooLong - fitting > 1) {
    const middle = Math.floor((fitting + tooLong) / 2);
    if (fits(middle)) fitting = middle;
    else tooLong = middle;
  }
  return fitting;
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * The largest body a queue takes, as its refusal of a larger one names it ("Message must be shorter
 * than 262144 bytes": a queue made with a smaller MaximumMessageSize); undefined for another error.
 */
export function sizeLimitNamedBy(error: unknown): number | undefined {
  const match = /must be shorter than (\d+) bytes/i.exec((error as Error | undefined)?.message ?? '');
  return match ? Number(match[1]) - 1 : undefined;
}
