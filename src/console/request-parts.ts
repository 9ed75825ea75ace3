/** Reading an API request's parts: its JSON body, and an id in its path. */
import type { HttpRequest, HttpResponse } from '../adapter.js';
import { jsonError } from '../http/responses.js';

export function bodyOf(request: HttpRequest): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(request.body.toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A path segment decoded; undefined when its percent-encoding is malformed (decodeURIComponent would throw: a 503). */
export function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function badId(): HttpResponse {
  return jsonError(400, 'malformed_id', 'The id in the path is not valid percent-encoding.');
}
