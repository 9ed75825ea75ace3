/**
 * An adapter's `receive` that fails on the body itself — JSON.parse's SyntaxError, a zod schema's
 * ZodError, a URIError decoding it — fails the same way on every delivery: a 503 would have the
 * platform send it again and again. It is the sender's error (400, `malformed_body`), not ours. The
 * answer names only the error's kind: a SyntaxError's message quotes the body, which may hold
 * anything.
 */
import { HttpError } from '../errors.js';

const BODY_ERRORS = new Set(['SyntaxError', 'ZodError', 'URIError']);

/** The 400 for an error `receive` threw reading the body; undefined for any other error. */
export function bodyRefusal(error: unknown): HttpError | undefined {
  const name = error instanceof Error ? error.name : undefined;
  if (name === undefined || !BODY_ERRORS.has(name) || error instanceof HttpError) return undefined;
  return new HttpError(400, 'malformed_body', `The body could not be read as this webhook expects (${name}).`);
}

/** For `receive(request).catch(…)`: the 400 for a body it could not read, else the error as it was (one function, no closure per webhook). */
export function rethrowBodyRefusal(error: unknown): never {
  throw bodyRefusal(error) ?? error;
}
