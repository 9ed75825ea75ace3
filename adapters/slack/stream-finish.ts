/**
 * Finishing a Slack stream that broke after it started (send.ts): `chat.stopStream` with the text
 * not shown yet, as much of it as Slack takes in one stop, and a stream that cannot be finished so
 * is at least stopped, so Slack does not leave it "streaming" for good.
 */
import { MAX_INLINE_WAIT_MS, mayHaveBeenPosted } from 'parley/adapter-kit';
import { slackWebApi } from './sdk.js';
import { NOT_SLACK_JSON } from './web-api-options.js';

/** chat.stopStream: "Limit this field [markdown_text] to 12,000 characters" (longer is msg_too_long). */
export const MAX_STOP_TEXT_CHARS = 12_000;

/** Stop the stream: with this text (and the feedback buttons, when it ends the answer), or with none. */
export type StopStream = (markdownText: string | undefined, endsAnswer: boolean) => Promise<unknown>;

export interface Finished {
  /** What is still to be posted as ordinary messages. */
  left: string;
  /** Whether the message is out of its streaming state (by one of these stops, or one before). */
  stopped: boolean;
  /** Slack's failure of the last stop tried, when text stays unshown or the message streaming. */
  failure?: unknown;
}

/**
 * Stop a broken stream with `rest` (the text it has not shown). A rest longer than a stop takes is
 * cut: the stop carries its head, the tail is `left`. When that stop fails the message is stopped
 * with no text, its whole rest `left`. `earlierStopCarriedRest`: a stop carrying all of `rest` had
 * no answer (a timeout, a connection cut): Slack saying the message is no longer streaming then
 * means that stop was taken, and the rest is shown already. `asSent`: the text as `stop` sends it
 * (its mentions made inert, a little longer), which the cut leaves room for.
 */
export async function finishStream(stop: StopStream, rest: string, earlierStopCarriedRest = false, asSent?: (text: string) => string): Promise<Finished> {
  const [head, tail] = stopTextOf(rest, MAX_STOP_TEXT_CHARS, asSent);
  let takenWith: string | undefined = earlierStopCarriedRest ? '' : undefined; // what is left if an unanswered stop was taken
  let failure: unknown;
  const finished = (left: string, stopped: boolean): Finished => (failure !== undefined && (left || !stopped) ? { left, stopped, failure } : { left, stopped });
  for (const text of head ? [head, undefined] : [undefined]) {
    try {
      await stop(text, text !== undefined ? !tail : !rest);
      return finished(text === undefined ? rest : tail, true);
    } catch (error) {
      failure = error;
      // Stopped already: by a stop of ours that was taken after all, or by Slack (then with only what it had shown).
      if (refusalOf(error) === 'message_not_in_streaming_state') return finished(takenWith ?? rest, true);
      if (text !== undefined && outcomeUnknown(error)) takenWith ??= tail;
    }
  }
  return finished(rest, false);
}

/** The head of `rest` one stop can carry (sent as `asSent` makes it), cut at a paragraph, line or space near the limit, and the tail. */
export function stopTextOf(rest: string, max = MAX_STOP_TEXT_CHARS, asSent: (text: string) => string = (text) => text): [head: string, tail: string] {
  // What a head gains when sent is at most what the first `max` characters gain: that much shorter, it fits.
  const firstMax = rest.slice(0, max);
  max -= asSent(firstMax).length - firstMax.length;
  if (rest.length <= max) return [rest, ''];
  const window = rest.slice(0, max);
  let space = window.length - 1;
  while (space > 0 && !/\s/.test(window.charAt(space))) space--;
  const cut = [window.lastIndexOf('\n\n'), window.lastIndexOf('\n'), space].find((at) => at >= max / 2) ?? graphemeStart(rest, max);
  return [rest.slice(0, cut), rest.slice(cut)];
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Where the character at `at` begins: never inside an emoji, its surrogate pair or its ZWJ sequence
 * (a family 👩‍👩‍👧‍👦 cut in two shows as people apart), nor an accented letter. The text
 * up to the code point after `at` decides it; a single character longer than `at` is cut at `at`.
 */
function graphemeStart(text: string, at: number): number {
  const next = text.charCodeAt(at);
  const start = graphemes.segment(text.slice(0, at + (next >= 0xd800 && next <= 0xdbff ? 2 : 1))).containing(at)?.index ?? at;
  if (start > 0) return start;
  return /[\uD800-\uDBFF]/.test(text.charAt(at - 1)) ? at - 1 : at;
}

/** After `error` (at `since`) was a 429 with a short Retry-After: wait what is left of it before calling again. */
export async function waitRetryAfter(error: unknown, since: number, maxWaitMs = MAX_INLINE_WAIT_MS): Promise<void> {
  const e = error as { code?: string; retryAfter?: number };
  if (e?.code !== slackWebApi().ErrorCode.RateLimitedError) return;
  const wait = (e.retryAfter ?? 1) * 1000;
  if (wait <= maxWaitMs) await new Promise((resolve) => setTimeout(resolve, wait - (Date.now() - since)));
}

/** The key of the reply a part's key (`<reply key>:<index>`) is of. */
export const replyKeyOf = (partKey: string): string => partKey.slice(0, partKey.lastIndexOf(':'));

/** Broken streams' messages no stop could end, by reply key (a bounded few): stopped once their rest is posted. */
export class UnstoppedStreams {
  private readonly byKey = new Map<string, string>();
  add(key: string, ts: string): void {
    if (this.byKey.size >= 1000) this.byKey.delete(this.byKey.keys().next().value!);
    this.byKey.set(key, ts);
  }
  /** The message of the reply whose part this is (`<reply key>:<index>`), forgotten. */
  take(partKey: string): string | undefined {
    const key = replyKeyOf(partKey);
    const ts = this.byKey.get(key);
    this.byKey.delete(key);
    return ts;
  }
}

/** Slack's refusals that may have been taken all the same: "some aspect of the operation succeeded" (its docs). */
export const MAYBE_TAKEN_REFUSALS = new Set(['internal_error', 'fatal_error']);

/** A call with no answer after it went out (a timeout, a connection cut, a gateway's 502 or 504), or one Slack says may have partly succeeded: Slack may have taken it. */
export function outcomeUnknown(error: unknown): boolean {
  if (mayHaveBeenPosted(error) || MAYBE_TAKEN_REFUSALS.has(refusalOf(error) ?? '')) return true;
  const e = error as { code?: string; original?: unknown };
  return e?.code === slackWebApi().ErrorCode.RequestError && maybeTaken(e.original);
}

/** The `error` of Slack's `{ ok: false }` answer, if that is the failure. */
export function refusalOf(error: unknown): string | undefined {
  const e = error as { code?: string; data?: { error?: string } };
  return e?.code === slackWebApi().ErrorCode.PlatformError ? e.data?.error : undefined;
}

/**
 * A request that failed after it was sent (a timeout, a connection cut mid-answer), not one refused
 * at the door. Fetch tells a cut connection as "fetch failed" with the socket's error as its cause.
 */
export function maybeTaken(original: unknown): boolean {
  const e = original as { name?: string; code?: string; message?: string; cause?: unknown } | undefined;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return true;
  // leanFetch stopped reading an answer past its bound (src/http/lean-fetch.ts), or it was not JSON (web-api-options.ts): the call went out.
  if (e?.code === 'PARLEY_ANSWER_TOO_LARGE' || e?.code === NOT_SLACK_JSON) return true;
  if (/ECONNRESET|socket hang up|other side closed|terminated|timed? ?out/i.test(`${e?.code ?? ''} ${e?.message ?? ''}`)) return true;
  return e?.message === 'fetch failed' && e.cause !== undefined && maybeTaken(e.cause);
}
