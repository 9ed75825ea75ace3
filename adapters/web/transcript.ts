/**
 * What the web chat keeps in the store, every key expiring HISTORY_TTL_SECONDS after the
 * conversation's latest message:
 *
 *   parley:web:transcript:<conversation>   the transcript (a capped list of JSON entries)
 *   parley:web:owner:<conversation>        the visitor who owns it (minted for that visitor)
 *   parley:web:visitor:<visitor>           the visitor's conversations, one entry per post
 *                                          (so it lives as long as the newest), newest last
 *   parley:web:turn:<conversation>:<id>    claimed by the first delivery of a message id, so a
 *                                          repeated POST appends the visitor's turn once (holding
 *                                          the try that wrote it: its entry's `tryId`)
 *   parley:web:answer:<conversation>:<key> claimed by an answer's first post (its reply key), so
 *                                          a job's retry appends it once
 *   parley:web:ids:<conversation>          its messages' ids, so DELETE can have their finished
 *                                          queue jobs removed too (kept at least 24 h, as they are)
 *   parley:web:erased:<conversation>       a deleted conversation, so an answer still on its way
 *                                          does not bring its transcript back (kept at least 24 h)
 *   parley:web:first:<caller>:<id>:<text>  the conversation a first message (no conversation
 *                                          given) started, so its resend (same id, same text,
 *                                          hashed) lands in the same one; once that one is deleted,
 *                                          a resend starts another, under `...:<deleted>`
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Reply, Store } from 'parley/adapter-kit';

export interface TranscriptEntry {
  role: 'user' | 'assistant';
  text: string;
  at: string;
  kind?: Reply['kind'];
  /** The model that answered (the fallback's, while the primary was down). */
  model?: string;
  /** An answer's exchange (the job that answered): what POST /web/feedback rates. */
  exchange?: string;
}

/** An entry as kept: with the try that appended it, when it was appended once per claim. */
type Stored = TranscriptEntry & { tryId?: string };

/** The most conversations listed per visitor (GET /web/conversations). */
const VISITOR_CONVERSATIONS = 50;
/** The visitor's list holds this many posts (repeats of a conversation among them). */
const VISITOR_POSTS = 4 * VISITOR_CONVERSATIONS;
/** As long as the core remembers a delivery id (its dedupe). */
const TURN_CLAIM_MS = 24 * 60 * 60 * 1000;
/** A first message resent after its conversation was deleted this many times starts afresh unremembered. */
const MAX_RESTARTS = 8;
/** A turn claim's value from before entries named the try that wrote them: its time. */
const LEGACY_CLAIM = /^\d{4}-\d\d-\d\dT/;
/** The most message ids kept per conversation (for DELETE); a day's worth of a busy chat. */
const MESSAGE_IDS = 1000;

/** The try that wrote an entry is the store's business, not the page's. */
const withoutTry = ({ tryId: _, ...entry }: Stored): TranscriptEntry => entry;

const keys = {
  transcript: (conversation: string) => `parley:web:transcript:${conversation}`,
  owner: (conversation: string) => `parley:web:owner:${conversation}`,
  visitor: (visitor: string) => `parley:web:visitor:${visitor}`,
  turn: (conversation: string, id: string) => `parley:web:turn:${conversation}:${id}`,
  erased: (conversation: string) => `parley:web:erased:${conversation}`,
  ids: (conversation: string) => `parley:web:ids:${conversation}`,
  answer: (conversation: string, replyKey: string) => `parley:web:answer:${conversation}:${replyKey}`,
  first: (caller: string, id: string, text: string) => `parley:web:first:${caller}:${id}:${createHash('sha256').update(text).digest('base64url').slice(0, 22)}`,
};

export class Transcripts {
  constructor(
    private readonly store: Store,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /**
   * Append one entry, refreshing the transcript's expiry. Each is kept unique (a try id of its own
   * unless appendOnce gave it one), so the newest item alone tells that the transcript changed (`version`).
   */
  async append(conversation: string, entry: TranscriptEntry): Promise<void> {
    const stored: Stored = { tryId: randomUUID(), ...entry };
    await this.store.listPush(keys.transcript(conversation), [JSON.stringify(stored)], { maxLength: this.maxEntries, ttlMs: this.ttlMs });
  }

  /** The transcript's newest item as stored ('' when there is none): it differs after every append or erase. */
  async version(conversation: string): Promise<string> {
    return (await this.store.listRange(keys.transcript(conversation), -1, -1))[0] ?? '';
  }

  /** The transcript, its items as stored (each unique) and its version (as `version` reads it), from one read. */
  async snapshot(conversation: string): Promise<{ messages: TranscriptEntry[]; items: string[]; version: string }> {
    const items = await this.store.listRange(keys.transcript(conversation), 0, -1);
    return { messages: items.map((item) => withoutTry(JSON.parse(item) as Stored)), items, version: items.at(-1) ?? '' };
  }

  /** Whether the conversation was deleted (and not written to again since): its late answers are dropped. */
  async erased(conversation: string): Promise<boolean> {
    return (await this.store.get(keys.erased(conversation))) !== undefined;
  }

  async read(conversation: string): Promise<TranscriptEntry[]> {
    return (await this.readStored(conversation)).map(withoutTry);
  }

  /** The visitor's turn, once per message id (across processes on Redis); false for a repeat. */
  async appendTurn(conversation: string, id: string, entry: TranscriptEntry): Promise<boolean> {
    const appended = await this.appendOnce(conversation, keys.turn(conversation, id), entry);
    // Again when the turn was there: a try that failed after writing it may not have kept its id
    // (an id twice is harmless, messageIds reads each once).
    await this.store.listPush(keys.ids(conversation), [id], { maxLength: MESSAGE_IDS, ttlMs: Math.max(this.ttlMs, TURN_CLAIM_MS) });
    // Written to again (an operator reusing its id): no longer deleted.
    if (await this.erased(conversation)) await this.store.delete(keys.erased(conversation));
    return appended;
  }

  /** An answer, once per reply key (the job's retries post it once); false when it was there already. */
  async appendAnswer(conversation: string, replyKey: string, entry: TranscriptEntry): Promise<boolean> {
    return this.appendOnce(conversation, keys.answer(conversation, replyKey), entry);
  }

  /**
   * Append an entry once per `claim`, even after a try whose outcome is unknown (a write that timed
   * out, which a frozen Redis carries out when it wakes): the claim names the try that holds it, and
   * its entry carries that name. A later try finding another's claim looks for its entry: there, the
   * entry was appended; not there, that try went no further, and this one takes its place. Both
   * look-ups only on that rare path; a first try costs the claim and the append, as ever.
   */
  private async appendOnce(conversation: string, claim: string, entry: TranscriptEntry): Promise<boolean> {
    const tryId = randomUUID();
    if (!(await this.store.setIfAbsent(claim, tryId, TURN_CLAIM_MS))) {
      const holder = await this.store.get(claim);
      // A claim from before entries named their try (an ISO time): appended, as was then assumed.
      if (holder === undefined || LEGACY_CLAIM.test(holder)) return false;
      if ((await this.readStored(conversation)).some((stored) => stored.tryId === holder)) return false;
      await this.store.set(claim, tryId, TURN_CLAIM_MS);
    }
    const stored: Stored = { ...entry, tryId };
    await this.append(conversation, stored);
    return true;
  }

  private async readStored(conversation: string): Promise<Stored[]> {
    return (await this.store.listRange(keys.transcript(conversation), 0, -1)).map((item) => JSON.parse(item) as Stored);
  }

  /**
   * The conversation a first message with this id and text starts: `fresh` the first time, the
   * same one when the message is sent again (its 202 was lost), so it is answered once, in one
   * conversation. Another text under the same id (a client numbering each conversation's
   * messages from 1) starts another conversation.
   */
  async startedBy(caller: string, id: string, text: string, fresh: string): Promise<{ conversation: string; isNew: boolean }> {
    let key = keys.first(caller, id, text);
    for (let hop = 0; hop < MAX_RESTARTS; hop++) {
      if (await this.store.setIfAbsent(key, fresh, TURN_CLAIM_MS)) return { conversation: fresh, isNew: true };
      const conversation = await this.store.get(key);
      if (conversation === undefined) return { conversation: fresh, isNew: false };
      if (!(await this.erased(conversation))) return { conversation, isNew: false };
      // Deleted since: its message ids are spent (the core's dedupe would drop the resend), so the
      // resend starts another conversation, claimed under a key naming the deleted one (one winner).
      key = `${key}:${conversation}`;
    }
    return { conversation: fresh, isNew: true };
  }

  async owner(conversation: string): Promise<string | undefined> {
    return this.store.get(keys.owner(conversation));
  }

  /**
   * Record (or refresh) who owns a conversation the visitor posts to, and put it in the visitor's
   * list unless it is the newest there already: a run of posts to one conversation must not push
   * the others out of the capped list. The list expires a TTL after its newest entry, which a
   * conversation that keeps going outlives; its next post then starts the list again (the others
   * in it had expired before it: they were older).
   */
  async own(conversation: string, visitor: string): Promise<void> {
    const [newest] = await Promise.all([this.store.listRange(keys.visitor(visitor), -1, -1), this.store.set(keys.owner(conversation), visitor, this.ttlMs)]);
    if (newest[0] === conversation) return;
    await this.store.listPush(keys.visitor(visitor), [conversation], { maxLength: VISITOR_POSTS, ttlMs: this.ttlMs });
  }

  /** The visitor's conversations that still exist and are still theirs, newest first. */
  async ofVisitor(visitor: string): Promise<{ id: string; updatedAt: string }[]> {
    // The most recently posted to first, each once.
    const ids = [...new Set((await this.store.listRange(keys.visitor(visitor), 0, -1)).reverse())].slice(0, VISITOR_CONVERSATIONS);
    const found = await Promise.all(
      ids.map(async (id) => {
        if ((await this.owner(id)) !== visitor) return undefined;
        const [last] = await this.store.listRange(keys.transcript(id), -1, -1);
        return last ? { id, updatedAt: (JSON.parse(last) as TranscriptEntry).at } : undefined;
      }),
    );
    return found.filter((entry) => entry !== undefined).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  /** The ids of the conversation's messages (as posted), oldest first. */
  async messageIds(conversation: string): Promise<string[]> {
    return [...new Set(await this.store.listRange(keys.ids(conversation), 0, -1))];
  }

  /** Erase the transcript, its owner record and its message ids; false when there was nothing to erase. */
  async erase(conversation: string): Promise<boolean> {
    const existed = (await this.store.listRange(keys.transcript(conversation), 0, 0)).length > 0 || (await this.owner(conversation)) !== undefined;
    // Kept as long as a resend of its first message may still point here (see startedBy).
    await this.store.set(keys.erased(conversation), '1', Math.max(this.ttlMs, TURN_CLAIM_MS));
    await this.store.delete(keys.transcript(conversation));
    await this.store.delete(keys.owner(conversation));
    await this.store.delete(keys.ids(conversation));
    return existed;
  }
}
