/**
 * Posting one reply of a job at most once, whatever retries and restarts do: as parts (each on
 * record once posted), or streamed (the "sent" marker keeps the streamed text).
 */
import { PermanentError } from './adapter.js';
import { collectShowingNothing as collect } from './ai/collect.js';
import { nothingShown } from './ai/errors.js';
import { LeaseLostError } from './errors.js';
import { isDeferral } from './queue/backoff.js';
import { MARKER_TTL_MS, keys } from './jobs.js';
import type { ConversationRef, Reply } from './message.js';
import type { PendingWrites } from './pending-writes.js';
import { postReply, type Posted } from './replies.js';
import { continuationOf, wellFormedChunks } from './text/index.js';
import type { WorkerDeps } from './worker.js';

export interface SendOnceOptions {
  /** Where the parts' markers are left writing (the job waits for them before it ends). */
  pending?: PendingWrites;
  /** Called when an earlier run of the job had already posted this reply. */
  onSentBefore?(): void;
}

/** What the user got of a reply: its text, and whether anything was posted (now or by an earlier run). */
export interface Shown {
  text: string;
  posted: boolean;
  /** The adapter held the reply back (the conversation is no longer the bot's): nothing posted. */
  withheld?: true;
}

/**
 * Post reply number `n` of a job unless a marker says it was already posted. Returns the text
 * posted: on a retry, that of the answer an earlier attempt began, when it differs.
 */
export async function sendOnce(deps: WorkerDeps, jobId: string, n: number, conversation: ConversationRef, reply: Reply, options: SendOnceOptions = {}): Promise<Shown> {
  const { pending } = options;
  const adapter = deps.adapterFor(conversation.platform);
  if (!adapter) throw new PermanentError(`no adapter for platform "${conversation.platform}"`, 'no_adapter');
  // A notice in place of a streamed answer (a spent budget's, on a retry): when an earlier run streamed the whole
  // answer and its rest was not posted yet, that answer is finished instead, as a retry that streams finishes it.
  if (reply.kind === 'notice' && adapter.stream && (await deps.store.get(keys.brokenStream(jobId, n))) !== undefined) {
    return { text: await streamOnce(deps, jobId, n, conversation, noChunks(), options.onSentBefore), posted: true };
  }
  let posted: Posted;
  try {
    // The "sent" marker is read with the parts' markers, and written with the last part's.
    const alsoMark = { key: keys.sent(jobId, n), value: new Date().toISOString() };
    posted = await postReply(adapter, conversation, reply, { key: `${jobId}:${n}`, markers: deps.store, alsoMark, logger: deps.logger, ...(pending ? { pending } : {}) });
  } catch (error) {
    // A wait the platform asked for (a 429's Retry-After) is no failure: the reply is posted after it. Nor is a post refused as the job's hold ran out.
    if (!isDeferral(error) && !(error instanceof LeaseLostError)) deps.metrics.repliesFailed.inc({ platform: conversation.platform });
    throw error;
  }
  if (posted.sentBefore && posted.withheld) return { text: reply.text, posted: false, withheld: true };
  if (posted.sentBefore) {
    deps.logger.info({ job: jobId, n }, 'reply already sent before a restart; not sending again');
    options.onSentBefore?.();
    return { text: reply.text, posted: true };
  }
  if (posted.empty) return { text: '', posted: false };
  // Not sent, so not counted: the adapter logged why.
  if (posted.withheld) return { text: reply.text, posted: false, withheld: true };
  deps.metrics.repliesSent.inc({ platform: conversation.platform, kind: reply.kind ?? 'answer' });
  return { text: posted.finished ?? reply.text, posted: true };
}

/** Whether reply `n` of a job was posted in full (or held back) before: its "sent" marker is written with its last part's. */
export async function sentAlready(store: Pick<WorkerDeps['store'], 'get'>, jobId: string, n: number): Promise<boolean> {
  return (await store.get(keys.sent(jobId, n))) !== undefined;
}

/** Stream reply number `n` of a job unless it was already posted; the marker keeps its text. */
export async function streamOnce(deps: WorkerDeps, jobId: string, n: number, conversation: ConversationRef, chunks: AsyncIterable<string>, onSentBefore?: () => void): Promise<string> {
  const marker = keys.sent(jobId, n);
  const brokenKey = keys.brokenStream(jobId, n);
  const [posted, broken] = await Promise.all([deps.store.get(marker), deps.store.get(brokenKey)]);
  const adapter = deps.adapterFor(conversation.platform);
  if (posted !== undefined) onSentBefore?.();
  if (posted !== undefined || !adapter?.stream) {
    // Drain the AI's stream either way, so its result (usage, cost) settles.
    const text = await collect(chunks);
    return posted ?? text;
  }
  // An AI that fails mid-stream is the AI's error (counted as one), not a reply the platform failed;
  // the platform's own failure in it (thrown instead, or reported with platformFailed) still is one.
  let aiFailure: { error: unknown } | undefined;
  let platformFailure: { error: unknown } | undefined;
  const isTheAis = (error: unknown) =>
    aiFailure !== undefined && [aiFailure.error, nothingShown(aiFailure.error)].some((ai) => error === ai || (error instanceof Error && error.cause === ai));
  try {
    const key = `${jobId}:${n}`;
    let whole: { text: string; rest: string };
    if (broken === undefined) {
      const noted = failuresNoted(chunks, (error) => (aiFailure = { error }));
      const { text, rest } = await adapter.stream(conversation, wellFormedChunks(noted), { key, platformFailed: (error) => (platformFailure ??= { error }) });
      whole = { text, rest: rest ? continuationOf(text.slice(0, text.length - rest.length), rest) : '' };
      // Kept before the rest goes out: if the job fails after some of it may be on screen (a post
      // that timed out, a "sent" marker not written), the retry finishes this answer rather than
      // stream another. Dropped once the reply is marked sent.
      if (whole.rest) await deps.store.set(brokenKey, JSON.stringify(whole), MARKER_TTL_MS);
    } else {
      // The retry's own answer is not shown, and its failure must not keep the rest from the user.
      await collect(chunks).catch(() => undefined);
      whole = JSON.parse(broken) as typeof whole;
    }
    // What the stream could not show goes out as ordinary parts, readable on their own.
    if (whole.rest) await postReply(adapter, conversation, { text: whole.rest, kind: 'answer' }, { key, markers: deps.store, logger: deps.logger });
    const { text } = whole;
    await deps.store.set(marker, text, MARKER_TTL_MS);
    // Only once the marker is written (a retry must find one of the two); not waited for.
    if (whole.rest) void deps.store.delete(brokenKey).catch(() => undefined);
    deps.metrics.repliesSent.inc({ platform: conversation.platform, kind: 'answer' });
    return text;
  } catch (error) {
    const platforms = isTheAis(error) ? platformFailure : { error };
    if (platforms && !isDeferral(platforms.error) && !(platforms.error instanceof LeaseLostError)) deps.metrics.repliesFailed.inc({ platform: conversation.platform });
    throw error;
  }
}

/** The chunks as they come, calling `failed` when their source (the AI) throws. */
async function* failuresNoted(chunks: AsyncIterable<string>, failed: (error: unknown) => void): AsyncGenerator<string> {
  try {
    for await (const chunk of chunks) yield chunk;
  } catch (error) {
    failed(error);
    throw error;
  }
}

/** A stream with no text: the retry's own answer, when an earlier run's is the one finished. */
async function* noChunks(): AsyncGenerator<string> {}
