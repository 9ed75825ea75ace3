/**
 * The order of a conversation's messages answered in this process (Redis down: no queue keeps
 * them in order, and no shared lock can): one after the other, in the order they were taken, each
 * once the one before it is out. Nothing here touches a store: it is this process's own.
 */
import type { Logger } from 'pino';
import type { RetryOptions } from './queue/index.js';

/** One message's place in its conversation's line. */
export interface Turn {
  /** Resolves once this message may be answered: the one before it is out, or has held it too long. */
  ready: Promise<void>;
  /** This message is out (its reply posted, its apology posted, or nothing to post): the next one may go. Idempotent. */
  done(): void;
}

/**
 * How long a message may hold the next one of its conversation once its own turn has come: its own
 * budget for waiting, AI_MAX_WAIT_MS for its waits (after which it is given up, apology and all)
 * plus the backoffs between its tries. One still not out by then is stuck on something no budget
 * of its own ends (a handler that never returns): the next one goes ahead without it.
 */
export function holdBudgetMs(maxWaitMs: number, retry: RetryOptions): number {
  let backoffs = 0;
  for (let attempt = 1; attempt < retry.attempts; attempt++) backoffs += Math.min(retry.backoffMs * 2 ** (attempt - 1), retry.maxBackoffMs);
  return maxWaitMs + backoffs;
}

export class ConversationTurns {
  /**
   * Each conversation's last turn, settling once it and every turn before it are out. Dropped
   * when that turn settles and no later one has come: it holds one entry per conversation with a
   * message still being answered here, and each turn settles within `holdMs` of its start.
   */
  private readonly tails = new Map<string, Promise<void>>();

  constructor(
    private readonly holdMs: number,
    private readonly logger: Logger,
  ) {}

  /** Take the next turn of `conversation` (taken in the order messages arrive: call this at once). */
  take(conversation: string): Turn {
    const before = this.tails.get(conversation) ?? Promise.resolve();
    let out!: () => void;
    const own = new Promise<void>((resolve) => (out = resolve));
    let timer: NodeJS.Timeout | undefined;
    let isOut = false;
    const done = () => {
      isOut = true;
      clearTimeout(timer);
      out();
    };
    const ready = before.then(() => {
      if (isOut) return;
      timer = setTimeout(() => {
        this.logger.warn({ conversation, heldMs: this.holdMs }, 'a message answered in this process is still not out past its budget; the next one of its conversation goes ahead without it');
        done();
      }, this.holdMs);
      timer.unref();
    });
    // Out early (a duplicate, or taken by the queue after all), a turn still keeps the ones after it behind the one before it.
    const tail = ready.then(() => own);
    this.tails.set(conversation, tail);
    void tail.then(() => {
      if (this.tails.get(conversation) === tail) this.tails.delete(conversation);
    });
    return { ready, done };
  }

  /** Conversations with a turn not yet out (for tests). */
  get size(): number {
    return this.tails.size;
  }
}
