/**
 * Posting a reply through an adapter, in parts, each part once. The adapter says how long a part
 * may be (`maxChars`), how markdown reads on its platform (`format`) and how to post one part
 * (`sendPart`); the core splits the reply and records each posted part, so a retry of the same
 * reply (same key) posts only the parts still missing.
 */
import type { Logger } from 'pino';
import { PermanentError, type Adapter, type ReplyPart, type SendOptions } from './adapter.js';
import { mayHaveBeenPosted } from './errors.js';
import { MARKER_TTL_MS } from './jobs.js';
import type { ConversationRef, Delivery, Reply } from './message.js';
import { waitOutRetryAfter } from './retry-after.js';
import type { PendingWrites } from './pending-writes.js';
import type { Store } from './store/index.js';
import { splitMessage, wellFormed } from './text/index.js';

/** Where a part's marker lives: `parley:<platform>:part:<reply key>:<index>`, holding the part's id. */
export const partKey = (platform: string, key: string, index: number) => `parley:${platform}:part:${key}:${index}`;
/** Where a reply of several parts keeps its text from before its first part is posted. */
export const replyTextKey = (platform: string, key: string) => `parley:${platform}:text:${key}`;

/** A reply's text as the parts an adapter posts, in order (formatted, then split at `maxChars`). */
export function replyParts(adapter: Pick<Adapter, 'format' | 'maxChars'>, markdown: string): string[] {
  const text = adapter.format ? adapter.format(markdown) : markdown;
  return adapter.maxChars ? splitMessage(text, adapter.maxChars) : text.trim() ? [text] : [];
}

/** The `alsoMark` marker's value for a reply the adapter held back. */
const WITHHELD = 'withheld';

export interface PostOptions extends SendOptions {
  /** Where the parts posted under `key` are recorded: the patient store, which outlasts a short Redis outage. */
  markers: Store;
  /**
   * One more marker: the caller's "whole reply sent". Found set already, nothing is posted (the result
   * says `sentBefore`); otherwise it is written with the last part's marker (on Redis, in the same
   * write). It is read with the parts' markers, in one round trip.
   */
  alsoMark?: { key: string; value: string };
  /**
   * Where the markers' writes go instead of being waited for after each part: the caller waits for
   * them before its job ends (the worker does). Absent: each is waited for.
   */
  pending?: PendingWrites;
  logger?: Logger;
}

export interface Posted extends Delivery {
  /** The `alsoMark` marker was set already: the whole reply was posted (or held back) before, and nothing was now. */
  sentBefore?: true;
  /** The reply had nothing to show (no text, or no part once formatted): nothing posted, nothing marked. */
  empty?: true;
  /** A retry finished the answer an earlier attempt began, not this reply: its text. */
  finished?: string;
  /**
   * The adapter posted no part of it (its `sendPart` answered null at once: the conversation is
   * no longer the bot's). Nothing reached the user; it is still marked sent, so no retry posts it.
   */
  withheld?: true;
}

/** Post a reply with the adapter's `sendPart` (or its `send` when it posts whole replies). */
export async function postReply<TDetails extends object>(adapter: Adapter<TDetails>, conversation: ConversationRef<TDetails>, given: Reply, options: PostOptions): Promise<Posted> {
  // What a model (or a handler) wrote may hold half an emoji: sent as it is, some SDKs fail on it every time.
  const reply = { ...given, text: wellFormed(given.text) };
  let parts = adapter.sendPart ? replyParts(adapter, reply.text) : [];
  // An empty message is never posted, nor recorded as sent (that would pass for an answer).
  if (adapter.sendPart ? parts.length === 0 : reply.text.trim() === '') return { ids: [], empty: true };
  const keysOf = (count: number) => Array.from({ length: count }, (_, index) => (options.key === undefined ? undefined : partKey(adapter.platform, options.key, index)));
  let markerKeys = keysOf(parts.length);
  const read = (keys: (string | undefined)[]) => Promise.all(keys.map((key) => (key === undefined ? undefined : options.markers.get(key))));
  // A reply of several parts keeps its text before its first part goes out: a retry may bring
  // another answer (the AI asked again), and the parts still missing must be the first answer's.
  const textKey = options.key !== undefined && adapter.sendPart ? replyTextKey(adapter.platform, options.key) : undefined;
  const several = parts.length > 1;
  // A part is marked "maybe posted" as its marker is read, if it has none (SET NX): a process that
  // dies mid-post leaves the mark, and its retry looks on the platform (findPart) before posting.
  const mark = `${MAYBE}${Date.now()}`;
  const claimed = new Set<string>();
  const readParts = (keys: (string | undefined)[]) => (adapter.findPart ? Promise.all(keys.map((key) => key && claimOrRead(options.markers, key, mark, claimed))) : read(keys));
  // Every marker read at once (on Redis, in one write): the whole reply's, the text (for several parts), then each part's.
  const [[sentBefore, storedText], firstRead] = await Promise.all([read([options.alsoMark?.key, several ? textKey : undefined]), readParts(markerKeys)]);
  let posted = firstRead;
  if (sentBefore !== undefined) return { ids: [], sentBefore: true, ...(sentBefore === WITHHELD ? { withheld: true as const } : {}) };
  // One part now, but a part on record without the whole reply: an earlier attempt began a longer answer.
  const begun = several || posted[0] === undefined || !textKey ? storedText : await options.markers.get(textKey);
  const finishing = begun !== undefined && begun !== reply.text ? begun : undefined;
  if (finishing !== undefined) {
    parts = replyParts(adapter, finishing);
    markerKeys = keysOf(parts.length);
    posted = await readParts(markerKeys);
  } else if (textKey && begun === undefined && several) {
    await options.markers.set(textKey, reply.text, MARKER_TTL_MS);
  }
  if (!adapter.sendPart) {
    if (!adapter.send) throw new PermanentError(`the ${adapter.platform} adapter has neither sendPart nor send`, 'no_send');
    const delivery = await adapter.send(conversation, reply, options.key === undefined ? {} : { key: options.key });
    await recorded(markAlso(options), options);
    return delivery;
  }
  const ids: string[] = [];
  let marked = false;
  let withheld = false;
  try {
    for (const [index, text] of parts.entries()) {
      const marker = markerKeys[index];
      let before = posted[index];
      const part = { index, total: parts.length, kind: reply.kind ?? 'answer', ...(options.key === undefined ? {} : { key: `${options.key}:${index}` }) };
      // An earlier post of this part may have been taken (MaybePostedError, a 502): the platform says whether it was.
      if (before?.startsWith(MAYBE)) before = await foundEarlier(adapter, conversation, part, text, before, marker, options);
      if (before !== undefined) {
        options.logger?.debug({ key: options.key, part: index }, 'part already posted before a retry; not posting it again');
        ids.push(before);
        continue;
      }
      const sentAt = Date.now();
      const id = await waitOutRetryAfter(() => adapter.sendPart!(conversation, text, part), {
        ...(adapter.maxInlineWaitMs === undefined ? {} : { maxWaitMs: adapter.maxInlineWaitMs }),
        onWait: (waitMs) => options.logger?.info({ platform: adapter.platform, waitMs }, 'the platform asked us to wait; waiting as Retry-After says'),
      }).catch(async (error: unknown) => {
        // Marked "maybe posted" (waited for: the retry must read it), so the retry looks before it posts;
        // with the reply's text, so that a retry finishes this answer, not another the AI gives then.
        // A platform down for now whose gateway may have passed the post on (a 502, a 504) is one too.
        if (mayHaveBeenPosted(error) && marker && adapter.findPart) {
          const keepText = textKey !== undefined && begun === undefined && !several;
          await Promise.all([options.markers.set(marker, `${MAYBE}${sentAt}`, MARKER_TTL_MS), keepText && options.markers.set(textKey, reply.text, MARKER_TTL_MS)]);
          claimed.delete(marker);
        }
        throw error;
      });
      if (id === null) {
        withheld = ids.length === 0; // the adapter posts nothing more of this reply, maybe nothing at all
        break;
      }
      ids.push(id);
      if (marker) claimed.delete(marker);
      const last = index === parts.length - 1;
      await recorded(Promise.all([marker && options.markers.set(marker, id, MARKER_TTL_MS), last && markAlso(options)]), options);
      marked = last;
    }
  } catch (error) {
    // Refused, not lost (or never sent): this run's marks on parts not posted leave nothing for a retry to look for.
    await Promise.all([...claimed].map((key) => options.markers.delete(key).catch(() => undefined)));
    throw error;
  }
  // Held back: marked so no retry posts it, and so that a retry knows nothing reached the user.
  if (!marked) await recorded(markAlso(options, withheld ? WITHHELD : undefined), options);
  return { ids, ...(finishing === undefined ? {} : { finished: finishing }), ...(withheld ? { withheld: true as const } : {}) };
}

/** A part marker's value while its post's fate is unknown: this, then when it was sent (epoch ms). */
const MAYBE = '?';

/** The id of a part an earlier post may have left, if the adapter finds it (then it is on record); undefined to post it. */
async function foundEarlier<TDetails extends object>(adapter: Adapter<TDetails>, conversation: ConversationRef<TDetails>, part: ReplyPart, text: string, marked: string, marker: string | undefined, options: PostOptions): Promise<string | undefined> {
  const since = Number(marked.slice(MAYBE.length)) || 0;
  const id = await adapter.findPart?.(conversation, part, since, text).catch((error: unknown) => {
    // The platform down or busy: the job tries again later, rather than risk a second copy. Looking
    // refused for good (a scope the app lacks): posted, since it can never be looked for.
    if (!(error instanceof PermanentError)) throw error;
    options.logger?.warn({ err: error, part: part.index }, 'cannot look whether an earlier post of this part was taken; posting it');
    return undefined;
  });
  if (id === undefined) return undefined;
  options.logger?.info({ key: options.key, part: part.index }, 'an earlier post of this part was taken after all; not posting it again');
  if (marker) await options.markers.set(marker, id, MARKER_TTL_MS);
  return id;
}

/** A part's marker, claimed with `mark` when it had none (then read as none); otherwise its value (this run's own mark again: none). */
async function claimOrRead(markers: Store, key: string, mark: string, claimed: Set<string>): Promise<string | undefined> {
  if (await markers.setIfAbsent(key, mark, MARKER_TTL_MS)) {
    claimed.add(key);
    return undefined;
  }
  const value = await markers.get(key);
  return value === mark && claimed.has(key) ? undefined : value;
}

/** Wait for a marker's write, or hand it to the caller's pending writes. */
async function recorded(write: Promise<unknown>, { pending }: PostOptions): Promise<void> {
  if (pending) pending.add(write);
  else await write;
}

async function markAlso({ alsoMark, markers }: PostOptions, value = alsoMark?.value): Promise<void> {
  if (alsoMark && value !== undefined) await markers.set(alsoMark.key, value, MARKER_TTL_MS);
}
