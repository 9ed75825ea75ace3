import type { HttpResponse } from '../adapter.js';

/** A JSON response. `nosniff`: an error quoting the request (a path) is never read as a page. */
export function json(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff', ...headers }, body: JSON.stringify(value) };
}

/** The small JSON error every rejected request gets: `{"error": {"code", "message"}}`. */
export function jsonError(status: number, code: string, message: string, headers: Record<string, string> = {}): HttpResponse {
  return json(status, { error: { code, message } }, headers);
}
