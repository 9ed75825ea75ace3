import type { HttpResponse } from '../adapter.js';

/** A JSON response. */
export function json(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(value) };
}

/** The small JSON error every rejected request gets: `{"error": {"code", "message"}}`. */
export function jsonError(status: number, code: string, message: string, headers: Record<string, string> = {}): HttpResponse {
  return json(status, { error: { code, message } }, headers);
}
