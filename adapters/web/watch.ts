/**
 * The web chat's event streams follow their transcripts here: one poll per conversation per
 * process, shared by every stream open on it (tabs, windows), not one per stream. A poll reads
 * only the transcript's newest item (its version, transcript.ts) and the whole transcript only
 * when that changed, so an idle stream costs the store one small read per poll. Polling the store
 * keeps it working across processes: an answer a worker elsewhere writes shows within a poll.
 */
import type { TranscriptEntry, Transcripts } from './transcript.js';

/** How often a followed conversation's store is looked at. */
const TRANSCRIPT_POLL_MS = 250;

export interface TranscriptSnapshot {
  messages: TranscriptEntry[];
  /** The entries as stored, one a message: each unique, so a stream can tell which it has sent (transcript-event.ts). */
  items: string[];
  /** Differs whenever the transcript does (see Transcripts.version). */
  version: string;
}

/** One stream's view of its conversation; `close` it when the stream ends. */
export interface TranscriptFeed {
  /** The transcript as last read (the first read awaited); undefined once the store failed: the stream ends. */
  latest(): Promise<TranscriptSnapshot | undefined>;
  /**
   * Resolves at the transcript's next change, after `ms`, or when `signal` aborts, whichever comes
   * first; at once when it changed since this feed's last `latest()` (while its stream was busy).
   */
  changed(ms: number, signal: AbortSignal): Promise<void>;
  close(): void;
}

/** The followed conversations of one adapter, each polled while a stream follows it. */
export class TranscriptWatch {
  private readonly polls = new Map<string, ConversationPoll>();

  constructor(
    private readonly transcripts: Transcripts,
    private readonly pollMs = TRANSCRIPT_POLL_MS,
  ) {}

  follow(conversation: string): TranscriptFeed {
    const followed = this.polls.get(conversation) ?? this.startPoll(conversation);
    followed.followers++;
    let closed = false;
    // What this stream last read: a change the poll woke no one for (the stream was sending, or
    // checking its owner) must not wait for its next heartbeat.
    let seen: ConversationPoll['current'] | undefined;
    return {
      latest: () => (seen = followed.current),
      changed: (ms, signal) => (seen !== undefined && seen !== followed.current ? Promise.resolve() : followed.changed(ms, signal)),
      close: () => {
        if (closed) return;
        closed = true;
        if (--followed.followers === 0) followed.stop();
      },
    };
  }

  /** Conversations polled now (for tests). */
  get polled(): number {
    return this.polls.size;
  }

  private startPoll(conversation: string): ConversationPoll {
    const poll: ConversationPoll = new ConversationPoll(conversation, this.transcripts, this.pollMs, () => {
      if (this.polls.get(conversation) === poll) this.polls.delete(conversation);
    });
    this.polls.set(conversation, poll);
    return poll;
  }
}

class ConversationPoll {
  followers = 0;
  current: Promise<TranscriptSnapshot | undefined>;
  private readonly waiters = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly conversation: string,
    private readonly transcripts: Transcripts,
    private readonly pollMs: number,
    private readonly onStop: () => void,
  ) {
    this.current = transcripts.snapshot(conversation).catch(() => undefined);
    void this.current.then((first) => (first ? this.schedule() : this.fail()));
  }

  changed(ms: number, signal: AbortSignal): Promise<void> {
    if (this.stopped || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.onStop();
    this.wake();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll(), this.pollMs);
    // A poll left behind (a stream never closed) must not keep the process alive.
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    try {
      const known = (await this.current)!;
      if ((await this.transcripts.version(this.conversation)) !== known.version) {
        const next = await this.transcripts.snapshot(this.conversation);
        if (this.stopped) return;
        this.current = Promise.resolve(next);
        this.wake();
      }
      this.schedule();
    } catch {
      this.fail();
    }
  }

  /** The store unreachable (Redis restarting): its streams end, and the browsers reconnect (a 503 until it is back). */
  private fail(): void {
    this.current = Promise.resolve(undefined);
    this.stop();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
