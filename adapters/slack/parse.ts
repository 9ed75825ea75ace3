import { HttpError, type HttpRequest } from '../../src/index.js';

/** A Slack request body: Events API JSON, or a form (slash commands; `payload=` for interactivity). */
export type SlackBody = Record<string, unknown> & { type?: string; challenge?: string; ssl_check?: string; command?: string };

export function parseSlackBody(request: HttpRequest): SlackBody {
  const text = request.body.toString('utf8');
  const type = request.headers['content-type'] ?? '';
  try {
    if (type.startsWith('application/x-www-form-urlencoded')) {
      const form = Object.fromEntries(new URLSearchParams(text));
      return typeof form.payload === 'string' ? (JSON.parse(form.payload) as SlackBody) : form;
    }
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as SlackBody;
  } catch {
    throw new HttpError(400, 'malformed_body', 'The Slack request body could not be parsed.');
  }
}
