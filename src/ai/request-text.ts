/**
 * A provider's error may quote the request back (a proxy's error page, a validation error's `input`
 * as vLLM's and LiteLLM's 422s give it): the conversation's texts would reach a warning line and a
 * dead letter's reason, and message bodies are logged at debug only. Each text of the request is
 * replaced in the error's message (and its causes') by `<message text>`: as written, and as JSON
 * quotes it (once, or twice where a proxy quotes the upstream's JSON).
 */
import { wellFormed } from '../text/well-formed.js';
import type { AiRequest } from './types.js';

const HIDDEN = '<message text>';
/** A shorter text is hidden only where quoted as a JSON string: bare, it could be any word of the error. */
const MIN_BARE_LENGTH = 8;

/** The call's outcome; its error with the request's texts hidden. */
export async function withoutRequestText<T>(request: AiRequest, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw hideRequestTextIn(error, request);
  }
}

/** The error (changed in place, with its causes), each text of the request replaced by `<message text>`. */
export function hideRequestTextIn<E>(error: E, request: AiRequest): E {
  if (!(error instanceof Error)) return error;
  const forms = formsOf(request);
  const seen = new Set<unknown>();
  for (let e: unknown = error; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    const message = hidden(e.message, forms);
    if (message !== e.message) e.message = message;
    if (typeof e.stack === 'string') e.stack = hidden(e.stack, forms);
  }
  return error;
}

/** Each way a text may be quoted, with what replaces it; longest first (a text inside a longer one goes with it). */
function formsOf(request: AiRequest): [string, string][] {
  const texts = [request.text, ...request.history.map((turn) => turn.text)].map(wellFormed).filter((text) => text.trim() !== '');
  const forms = new Map<string, string>();
  for (const text of texts) {
    const once = JSON.stringify(text);
    const twice = JSON.stringify(once).slice(1, -1);
    forms.set(once, JSON.stringify(HIDDEN));
    forms.set(twice, JSON.stringify(JSON.stringify(HIDDEN)).slice(1, -1));
    if (text.length < MIN_BARE_LENGTH) continue;
    for (const bare of [text, once.slice(1, -1), twice.slice(2, -2)]) if (!forms.has(bare)) forms.set(bare, HIDDEN);
  }
  return [...forms].sort(([a], [b]) => b.length - a.length);
}

function hidden(text: string, forms: [string, string][]): string {
  let shown = text;
  for (const [form, replacement] of forms) if (shown.includes(form)) shown = shown.split(form).join(replacement);
  return shown;
}
