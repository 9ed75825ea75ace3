/** What answering a message needs (processJob, abandonJob, the apologies): the bot builds it once. */
import type { Logger } from 'pino';
import type { Adapter } from './adapter.js';
import type { AiClient } from './ai/index.js';
import type { ConversationHistory } from './ai/history.js';
import type { CachedAnswers } from './cached-answers.js';
import type { ConversationLog } from './conversation-log.js';
import type { HandlerSettings, MessageHandler } from './handler.js';
import type { ConversationRef, InboundMessage, Reply } from './message.js';
import type { Metrics } from './observe/index.js';
import type { Store } from './store/index.js';

export interface WorkerDeps {
  settings: HandlerSettings;
  /** Direct mode: how long a conversation lock outlives a process that died holding it (a heartbeat keeps it meanwhile). */
  lockTtlMs?: number;
  /** Where each exchange is written (absent: nowhere). */
  conversationLog?: ConversationLog;
  /** AI_MAX_WAIT_MS: how long a message may wait (rate limits, an open circuit, an adapter starting) before it is given up. */
  maxWaitMs?: number;
  store: Store;
  ai: AiClient;
  history: ConversationHistory;
  /** Where each conversation's cached answers are noted, for its erase (absent: nowhere). */
  cachedAnswers?: CachedAnswers;
  metrics: Metrics;
  logger: Logger;
  adapterFor(platform: string): Adapter | undefined;
  /** Whether the platform's adapter has started; a job (message or notice) for one still starting waits, within AI_MAX_WAIT_MS. Absent = ready. */
  adapterReady?(platform: string): boolean;
  handler(): MessageHandler;
  /** Queue a reply to post as a job of its own, in a group of its own (waits for no other job; retried, posted once; not before `delayMs` where the queue can wait): an apology (see apologiseOnce). */
  queueNotice?(id: string, conversation: ConversationRef, reply: Reply, delayMs?: number, givenUp?: InboundMessage): Promise<void>;
  /** Queued jobs outlive this process (a queue on Redis or SQS): an apology is queued before it is posted. */
  durableNotices?: boolean;
  /** How long the apology of a message the queue gave up as stalled waits for a worker still on it (abandonJob). */
  stalledApologyDelayMs?: number;
  /**
   * Set where that apology really waits (a queue that delays jobs: BullMQ): the message is judged
   * when it is due (settleStalled), and its dead letter dropped if a run still on it answered it.
   */
  dropDeadLetter?(id: string): Promise<boolean>;
}
