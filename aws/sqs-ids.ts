/**
 * What an SQS message of parley's carries, and the FIFO ids it is sent with.
 */
import { createHash } from 'node:crypto';
import type { NewJob } from '../src/index.js';

/** One job on the wire. `delivery` is the deduplication id it was sent with: a replay gets a new one. */
export interface Envelope<T> extends NewJob<T> {
  delivery: string;
  /** The job was larger than the queue takes: its long strings are cut, and this is its size in bytes (sqs-oversized.ts). */
  cut?: number;
}

/** SQS allows 128 characters from a set that parley's ids already keep to; longer ones are shortened with a hash. */
const FIFO_ID_MAX = 128;
const FIFO_ID_CHARS = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]+$/;

/** A valid MessageGroupId / MessageDeduplicationId for `id`: itself when it fits, else a readable prefix and a hash. */
export function fifoId(id: string): string {
  if (id.length > 0 && id.length <= FIFO_ID_MAX && FIFO_ID_CHARS.test(id)) return id;
  const hash = createHash('sha256').update(id).digest('base64url');
  return `${id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, FIFO_ID_MAX - hash.length - 1)}~${hash}`;
}

export function encodeEnvelope<T>(job: NewJob<T>, delivery: string): string {
  const envelope: Envelope<T> = { id: job.id, group: job.group, data: job.data, delivery };
  return sqsBody(envelope);
}

/**
 * `value` as JSON that SQS takes: it refuses a body with U+FFFE or U+FFFF (InvalidMessageContents),
 * which JSON.stringify leaves as they are, so a message quoting one would fail every delivery.
 * Escaped, they read back the same. (Control characters and lone surrogates are escaped already.)
 */
export function sqsBody(value: unknown): string {
  return JSON.stringify(value).replace(/[\uFFFE\uFFFF]/g, (char) => `\\u${char.charCodeAt(0).toString(16)}`);
}

/** The envelope in a message body, or undefined when the body is not one of parley's jobs. */
export function decodeEnvelope<T>(body: string | undefined): Envelope<T> | undefined {
  const read = readEnvelope<T>(body);
  return 'envelope' in read ? read.envelope : undefined;
}

/** What keeps a message body from being one of parley's jobs (undefined when it is one); never quotes the body. */
export function envelopeProblem(body: string | undefined): string | undefined {
  const read = readEnvelope(body);
  return 'problem' in read ? read.problem : undefined;
}

function readEnvelope<T>(body: string | undefined): { envelope: Envelope<T> } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(body ?? '');
  } catch {
    return { problem: `the body is not JSON (${body ? `${body.length} characters` : 'empty'})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: `the body is JSON but not an object (${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value})` };
  const fields = value as Record<string, unknown>;
  const missing = [...['id', 'group', 'delivery'].filter((field) => typeof fields[field] !== 'string'), ...('data' in fields ? [] : ['data'])];
  if (missing.length > 0) return { problem: `the body is JSON but lacks parley's envelope fields: ${missing.join(', ')} (id, group and delivery strings, and data)` };
  return { envelope: value as Envelope<T> };
}
