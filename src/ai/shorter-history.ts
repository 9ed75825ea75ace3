/**
 * A long conversation can outgrow a small model's context even within HISTORY_TOKEN_BUDGET (the
 * token count is an estimate). When the model refuses a request as too long, ask again with the
 * newest half of the history, then with none: the user's message is answered with less context
 * rather than refused. Only when the message alone is too long is the user asked to shorten it.
 * With `fit`, a refusal that names the model's context teaches it, and the next requests' histories
 * are cut to fit beforehand (learnt-context.ts): one call per message, this retry the fallback.
 */
import type { Turn } from '../message.js';
import { AiError, isInputTooLong } from './errors.js';
import { fromUserTurn } from './history.js';
import type { LearntContexts } from './learnt-context.js';
import type { AiClient, AiRequest, AiResult, AiStream, CallOptions } from './types.js';

/**
 * The histories to try, longest first: all of it, its newest half (from a user's turn on, as the
 * window is: see fromUserTurn), none.
 */
function historiesToTry(history: Turn[]): Turn[][] {
  const tries = [history];
  const half = fromUserTurn(history.slice(Math.ceil(history.length / 2)));
  if (half.length > 0 && half.length < history.length) tries.push(half);
  if (history.length > 0) tries.push([]);
  return tries;
}

/** The context lengths learnt, and the model (as configured) the client calls: their key. */
export interface ContextFit {
  contexts: LearntContexts;
  model: string;
}

/** `request` cut to what `fit` learnt of the model's context, and whether it was. */
function fitted(request: AiRequest, fit?: ContextFit): { request: AiRequest; fitted: boolean } {
  return fit ? fit.contexts.fit(fit.model, request) : { request, fitted: false };
}

/**
 * `ai` asking again with less history while the model refuses a request as too long. It sits
 * inside the budget's client (bot-ai.ts), so a message is checked against the budgets once.
 */
export function fittingContext(ai: AiClient, fit?: ContextFit): AiClient {
  const stream = ai.stream?.bind(ai);
  const hasCached = ai.hasCached?.bind(ai);
  const fromCache = ai.fromCache?.bind(ai);
  return {
    reply: (request, options) => replyFittingContext(ai, request, options, fit),
    get circuit() {
      return ai.circuit;
    },
    // The answer cached is the one to the request as sent: cut to fit.
    ...(hasCached ? { hasCached: (request: AiRequest) => hasCached(fitted(request, fit).request) } : {}),
    ...(fromCache ? { fromCache: (request: AiRequest) => fromCache(fitted(request, fit).request) } : {}),
    ...(ai.forgetCached ? { forgetCached: ai.forgetCached.bind(ai) } : {}),
    ...(ai.noticeOnly ? { noticeOnly: true } : {}),
    ...(stream ? { stream: (request: AiRequest, options?: CallOptions) => streamFittingContext((r) => stream(r, options), request, fit) } : {}),
  };
}

/** `ai.reply`, asked again with less history while the model refuses the request as too long. */
export async function replyFittingContext(ai: AiClient, request: AiRequest, options?: CallOptions, fit?: ContextFit): Promise<AiResult> {
  const first = fitted(request, fit);
  const tries = historiesToTry(first.request.history);
  for (let i = 0; ; i++) {
    const asked = { ...request, history: tries[i] as Turn[] };
    try {
      return await ai.reply(asked, options);
    } catch (error) {
      fit?.contexts.refused(fit.model, error, asked, first.fitted);
      if (i === tries.length - 1 || !isInputTooLong(error)) throw waitingIfDown(error, i);
    }
  }
}

/** How long a message waits when the provider failed its shorter request (see waitingIfDown). */
const DOWN_WAIT_MS = 5000;

/**
 * A provider failure (5xx, timeout, connection) on a shorter try is waited out, as an open circuit
 * is, rather than spending one of the message's attempts: the refusal before it reached the
 * provider's front door and read as a success to the circuit breaker (a half-open probe that gets
 * a 400 closes it), so in an outage the breaker never opens for this message, which would be
 * failed and apologised for before the provider is back.
 */
function waitingIfDown(error: unknown, shorterTry: number): unknown {
  if (shorterTry === 0 || !(error instanceof AiError) || !error.countsAsProviderFailure || !error.retryable) return error;
  return new AiError('circuit_open', `AI provider failing (${error.message}) after refusing the conversation as too long: waiting as for an open circuit`, { cause: error, retryAfterMs: DOWN_WAIT_MS });
}

/**
 * An AI stream (`ai.stream`), started again with less history while the model refuses the request as too long
 * before any text came. `result` is that of the stream whose text was passed on.
 */
export function streamFittingContext(startStream: (request: AiRequest) => AiStream, given: AiRequest, fit?: ContextFit): AiStream {
  const { request, fitted: cut } = fitted(given, fit);
  const tries = historiesToTry(request.history);
  let settle!: (result: Promise<AiResult>) => void;
  // Resolving with a promise adopts its outcome; later calls are ignored.
  const result = new Promise<AiResult>((resolve) => {
    settle = resolve;
  });
  // Marked handled, as the AI client's own results are: a consumer whose loop threw never reads it.
  result.catch(() => undefined);
  // The first stream starts at once: whether it is a notice is known before its text.
  const first = startStream(request);
  let current = first;
  async function* chunks(): AsyncGenerator<string> {
    for (let i = 0; ; i++) {
      const stream = i === 0 ? first : startStream({ ...request, history: tries[i] as Turn[] });
      current = stream;
      let shown = false;
      let again = false;
      try {
        for await (const chunk of stream.chunks) {
          shown = true;
          yield chunk;
        }
        return;
      } catch (error) {
        if (!shown) fit?.contexts.refused(fit.model, error, { ...request, history: tries[i] as Turn[] }, cut);
        again = !shown && i < tries.length - 1 && isInputTooLong(error);
        if (!again) throw shown ? error : waitingIfDown(error, i);
      } finally {
        // A stream given up for a shorter one: its refusal is not this stream's result.
        if (again) stream.result.catch(() => undefined);
        else settle(stream.result);
      }
    }
  }
  return { chunks: chunks(), result, ...(first.notice ? { notice: first.notice } : {}), model: () => current.model?.() };
}
