import OpenAI from 'openai';
import { leanFetchUpTo } from '../http/lean-fetch.js';
import { inOpenAiErrorShape } from './error-body.js';
import { watchStreamEnd } from './stream-end.js';

export { sawStreamEnd } from './stream-end.js';

/**
 * The most of a non-streamed answer read (decompressed): a chat completion even at a million
 * output tokens is a few MB. A server sending without end fails at this, as a server error that is
 * retried, instead of being buffered until AI_TIMEOUT_MS. (Streams are cut by their length instead.)
 */
export const MAX_ANSWER_BYTES = 16 * 2 ** 20;
const aiFetch = leanFetchUpTo(MAX_ANSWER_BYTES);

/**
 * The openai SDK client parley talks to a provider through: the one `serve` answers with and the one
 * `parley check` reaches the provider with, so check sees what serve will (leanFetch, unlike the
 * global fetch, reaches any port: undici refuses some, such as 4190).
 */
export function openAiSdk(options: { apiKey: string; baseURL?: string; timeoutMs: number }): OpenAI {
  return new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL || undefined,
    // Our retry policy owns retries; the SDK's own would multiply with it.
    maxRetries: 0,
    // A backstop only: each attempt carries its own abort signal.
    timeout: options.timeoutMs,
    // Half the CPU per call of the global fetch (see lean-fetch.ts); streams still use it.
    // A redirect is not followed (leanFetch never does; the global fetch, for streams, would): it
    // would take the conversation to another host, whose 401 would then read as a revoked key.
    // A stream's body is watched for its end marker (stream-end.ts); an error's body is read in
    // whichever shape the server wrote it (error-body.ts).
    fetch: async (url, init) => watchStreamEnd(await inOpenAiErrorShape(await aiFetch(url, { ...init, redirect: 'manual' }))),
  });
}
