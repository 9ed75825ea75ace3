/**
 * What a 200 from a misbehaving "OpenAI-compatible" server can be instead of a completion: a
 * proxy's login page, a gateway's `{"error": …}` sent with status 200, a JSON body where a stream
 * was asked for. Each fails the attempt as a server error (retried, then the apology) whose message
 * says what came, never as a TypeError from reading a field that is not there; an error stating a
 * 4xx (`code: 400`, as vLLM and LiteLLM send it) is that client error.
 */
import type OpenAI from 'openai';
import { APIError } from 'openai';
import { AiError } from './errors.js';

type Choice = OpenAI.ChatCompletion.Choice;

const hint = 'not a chat completion (a proxy in the way, or OPENAI_BASE_URL not pointing at an OpenAI-compatible API?)';

/**
 * A body the SDK left as text because it was not labelled JSON (`text/plain`, as some proxies send
 * a completion): read as JSON when it is, so a good answer is not refused for its label.
 */
export function jsonIfText<T>(body: T): T {
  if (typeof body !== 'string') return body;
  try {
    const parsed: unknown = JSON.parse(body);
    return (typeof parsed === 'object' && parsed !== null ? parsed : body) as T;
  } catch {
    return body;
  }
}

/** The first choice of a chat completion; throws when the body is no chat completion at all. */
export function firstChoice(response: unknown): Choice | undefined {
  const choices = typeof response === 'object' && response !== null ? (response as { choices?: unknown }).choices : undefined;
  if (Array.isArray(choices)) return choices[0] as Choice | undefined;
  throw notACompletion(response);
}

/** The error for a streamed answer that carried no event at all. */
export function noStreamEvents(contentType: string | null): AiError {
  return new AiError('server', `AI provider answered 200 with ${contentType || 'no content type'} and no stream events: ${hint}`);
}

/**
 * The error for a stream whose body ended with neither a finish_reason nor the usage chunk that
 * follows it: a proxy or the server closed it mid-answer. A dropped connection, as a reset would be:
 * asked again while none of its text was shown, never passed off (or cached) as a whole answer.
 */
export function streamEndedEarly(chars: number): AiError {
  return new AiError('connection', `AI stream ended after ${chars} characters without a finish_reason: cut off (by a proxy's timeout?)`);
}

/** Text from a message's or a delta's content: a string, or (as some servers send it) a list of parts. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part: unknown) => (typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string' && (part as { type?: unknown }).type !== 'thinking' ? (part as { text: string }).text : '')).join('');
}

function notACompletion(response: unknown): Error {
  if (typeof response === 'string') return new AiError('server', `AI provider answered 200 with a body that is not JSON (${response.length} characters): ${hint}`);
  const error = typeof response === 'object' && response !== null ? (response as { error?: unknown }).error : undefined;
  // As a stream's error event is: classified (classify.ts) by the status it states, else a server error.
  if (error !== undefined) return new APIError(undefined, typeof error === 'object' && error !== null ? error : { message: String(error) }, undefined, undefined);
  return new AiError('server', `AI provider answered 200 without "choices": ${hint}`);
}

/**
 * Characters an answer may have per output token asked for (OPENAI_MAX_OUTPUT_TOKENS): tokens are
 * some 4 characters, so only a server that ignores max_tokens (or loops) writes more. Past it the
 * answer is cut there, as one the output limit ended, instead of growing until the deadline.
 */
const CHARS_PER_TOKEN = 32;

export function replyCap(maxOutputTokens: number): number {
  return maxOutputTokens * CHARS_PER_TOKEN;
}

/** `text` cut to at most `max` characters, never between the two halves of a surrogate pair. */
export function cutTo(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}
