/**
 * The one place that decides what a failed job means for the queue:
 * - wait (`RetryAfterError`): a rate limit, an open circuit, an adapter still starting. No attempt
 *   is spent; only AI_MAX_WAIT_MS bounds it, counted from the start of the run that first waited
 *   (the AI client's inline wait comes before the wait reaches the queue).
 * - give up now (`PermanentError`): retrying cannot help — a 400, an exhausted quota, a poison
 *   message that fails the same way every time (a ZodError, or a TypeError / RangeError that is
 *   not a network failure), a ConfigError or a missing package.
 * - anything else: retried with backoff, up to JOB_ATTEMPTS.
 */
import { PermanentError, RetryAfterError } from './adapter.js';
import { ConfigError, MissingDependencyError } from './errors.js';
import { AiError, isInputTooLong } from './ai/index.js';
import { keys } from './jobs.js';
import { guessedWait } from './platform-unreachable.js';
import type { Store } from './store/index.js';

/** Slack clears an assistant status after about 2 minutes: a waiting job comes back sooner, to set it again. */
export const STATUS_REFRESH_MS = 60_000;
/** A wait that names no duration. */
const DEFAULT_WAIT_MS = 1000;
/** Shortest wait between two runs of a waiting job. */
const MIN_WAIT_MS = 100;

/** Translate any failure into what the queue understands. */
export function asQueueError(error: unknown): unknown {
  if (error instanceof PermanentError || error instanceof RetryAfterError) return error;
  if (error instanceof AiError) {
    if (error.isWait) return aiWait(new RetryAfterError(error.message, error.retryAfterMs ?? DEFAULT_WAIT_MS));
    if (!error.retryable) return new PermanentError(error.message, isInputTooLong(error) ? 'ai_input_too_long' : `ai_${error.kind}`);
    return error;
  }
  const refusal = redisWriteRefusal(error);
  if (refusal) return guessedWait(`Redis refuses writes for now (${refusal}): waiting for it`);
  // A bad option or a missing package met while answering: the same on every try, until someone fixes it.
  if (error instanceof ConfigError || error instanceof MissingDependencyError) return new PermanentError(error.message, 'config');
  if (isPoison(error)) return new PermanentError(`${(error as Error).name}: ${(error as Error).message}`, 'poison');
  return error;
}

/**
 * Redis's refusals of a write that pass by themselves: a full Redis under `noeviction` (OOM), a
 * replica promoted or a failover under way (READONLY, MASTERDOWN, TRYAGAIN), a failed snapshot
 * (MISCONF), a dataset still loading (LOADING), a script running too long (BUSY). The job waits
 * as for a platform that cannot be reached, within AI_MAX_WAIT_MS, rather than spend its attempts.
 */
function redisWriteRefusal(error: unknown): string | undefined {
  if (!(error instanceof Error) || error.name !== 'ReplyError') return undefined;
  return /^(OOM|READONLY|MASTERDOWN|TRYAGAIN|MISCONF|LOADING|BUSY|CLUSTERDOWN|NOREPLICAS) /.exec(error.message)?.[1];
}

/** The waits asked for by the AI (its 429s, an open circuit, every slot taken), as asQueueError made them. */
const aiWaits = new WeakSet<RetryAfterError>();
function aiWait(error: RetryAfterError): RetryAfterError {
  aiWaits.add(error);
  return error;
}

/**
 * A waiting job: wait again (an AI's wait no longer than STATUS_REFRESH_MS, the job coming back
 * to keep its "thinking…" status up while the AI's limiter holds its call; a platform's Retry-After
 * in full, since coming back sooner would call the platform inside the window it asked for; never
 * past the limit), or — once it
 * has waited AI_MAX_WAIT_MS since its first wait — give up, so its user gets the one apology.
 * `runStartedAt`: when this run began, before the AI client's inline wait (the wait's real start).
 */
export async function waitOrGiveUp(store: Store, jobId: string, error: RetryAfterError, maxWaitMs: number, runStartedAt = Date.now()): Promise<RetryAfterError | PermanentError> {
  const now = Date.now();
  let since = runStartedAt;
  try {
    const key = keys.waiting(jobId);
    if (!(await store.setIfAbsent(key, String(since), maxWaitMs + 24 * 60 * 60 * 1000))) since = Number((await store.get(key)) ?? since);
    firstWaitsHere.delete(jobId);
  } catch {
    // The store cannot record it (unreachable, or refusing writes: the very wait, maybe): this
    // process remembers it, so AI_MAX_WAIT_MS still ends the wait and the wait still grows. One
    // remembered longer ago than any wait lasts is another run's (a replay's, say): not this one's.
    // (A Redis refusing writes still reads: a first wait it recorded before counts first.)
    const stored = Number(await store.get(keys.waiting(jobId)).catch(() => undefined));
    const remembered = firstWaitsHere.get(jobId);
    if (remembered !== undefined && now - remembered < maxWaitMs + 2 * STATUS_REFRESH_MS) since = remembered;
    if (stored > 0 && stored < since) since = stored;
    rememberHere(jobId, since);
  }
  const waited = now - since;
  if (waited >= maxWaitMs) {
    return new PermanentError(`waited ${Math.round(waited / 1000)} s (AI_MAX_WAIT_MS is ${Math.round(maxWaitMs / 1000)} s): ${error.message}`, 'max_wait');
  }
  // A guessed wait (a platform that could not be reached) grows with the outage, about doubling up to a
  // minute: a long one costs each waiting job a dozen runs, not one every few seconds.
  const asked = aiWaits.has(error) ? Math.min(error.retryAfterMs, STATUS_REFRESH_MS) : error.inPlace === false ? Math.min(STATUS_REFRESH_MS, Math.max(error.retryAfterMs, waited)) : error.retryAfterMs;
  return new RetryAfterError(error.message, Math.max(MIN_WAIT_MS, Math.min(asked, maxWaitMs - waited)), { inPlace: error.inPlace });
}

/** First waits the store could not record, by job: this process's own count, the oldest dropped past a bound. */
const firstWaitsHere = new Map<string, number>();
const FIRST_WAITS_KEPT = 10_000;
function rememberHere(jobId: string, since: number): void {
  if (!firstWaitsHere.has(jobId) && firstWaitsHere.size >= FIRST_WAITS_KEPT) firstWaitsHere.delete(firstWaitsHere.keys().next().value!);
  firstWaitsHere.set(jobId, since);
}

/** Forget a job's first wait once it is given up, so a replay gets the whole AI_MAX_WAIT_MS again. */
export async function forgetWait(store: Store, jobId: string): Promise<void> {
  firstWaitsHere.delete(jobId);
  await store.delete(keys.waiting(jobId)).catch(() => undefined);
}

/**
 * A failure that will happen again on every try: the message's data breaks the code that reads
 * it (a TypeError on a field that is not there, a schema that does not match). Network failures
 * also surface as TypeErrors ("fetch failed") and are not poison. A SyntaxError is not either: in
 * a job it comes from parsing what something answered (a 502 page read as JSON), which may pass;
 * the message's own payload was parsed when it came in.
 */
function isPoison(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // Encoding text that cannot be encoded (encodeURIComponent of a lone surrogate) fails the same way every time.
  if (error.name === 'ZodError' || error instanceof URIError) return true;
  if (!(error instanceof TypeError || error instanceof RangeError)) return false;
  const text = `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}`;
  return !/fetch failed|terminated|socket|ECONN|ETIMEDOUT|EPIPE|network|other side closed/i.test(text);
}
