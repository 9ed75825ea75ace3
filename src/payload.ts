/**
 * Signed payloads that do not fit what an adapter accepts (poison payloads). They can never
 * succeed, so they are never a 5xx: each adapter answers 400, or 200 where a 4xx would only make
 * the platform deliver the same payload again and again. The router logs and counts them.
 */
import { ErrorCode, HttpError, sameKind } from './errors.js';

/** 400 tells the sender; 200 drops the payload where the platform redelivers anything else. */
export type InvalidPayloadStatus = 200 | 400;

/** A verified payload that does not fit. `payload` is logged at debug level only (it may hold a person's message). */
export class InvalidPayloadError extends HttpError {
  static override [Symbol.hasInstance] = sameKind(InvalidPayloadError, (e) => e.code === ErrorCode.InvalidPayload && typeof e.status === 'number');
  constructor(
    message: string,
    readonly payload: unknown,
    status: InvalidPayloadStatus = 400,
    reason: 'invalid_payload' | 'malformed_body' = 'invalid_payload',
  ) {
    super(status, reason, status === 200 ? `${message} Answered 200 and dropped, so it is not redelivered.` : message, ErrorCode.InvalidPayload);
    this.name = 'InvalidPayloadError';
  }
}

/** One problem a schema found: where, and what it expected (zod 3 and 4 issues both fit). */
export interface PayloadIssue {
  path: readonly PropertyKey[];
  message: string;
}

/**
 * What checkPayload needs of a schema: `safeParse`. Written out rather than as zod's own type, so
 * a schema from any zod version (3 or 4), or anything shaped like one, can be given.
 */
export interface PayloadSchema<T> {
  safeParse(payload: unknown): { success: true; data: T } | { success: false; error: { issues: readonly PayloadIssue[] } };
}

/** The payload, checked against an adapter's schema; a misfit throws InvalidPayloadError naming the fields (never their values). */
export function checkPayload<T>(schema: PayloadSchema<T>, payload: unknown, what: string, status: InvalidPayloadStatus = 400): T {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  throw new InvalidPayloadError(`${what} does not fit: ${describeIssues(result.error)}.`, payload, status);
}

/** "event_id: Invalid input: expected string, received number; …" — paths and expectations, no input values. */
function describeIssues(error: { issues: readonly PayloadIssue[] }, max = 3): string {
  const shown = error.issues.slice(0, max).map((issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(body)'}: ${issue.message}`);
  const more = error.issues.length - shown.length;
  return more > 0 ? `${shown.join('; ')}; and ${more} more` : shown.join('; ');
}
