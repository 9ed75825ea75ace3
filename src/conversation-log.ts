/**
 * The conversation log: one entry per exchange (a person's message and the bot's answer), with
 * what it cost and how long it took. The seed's serverless design writes these to a table
 * (`ai_conversations`: conversation_id, timestamp, input, output); the operator console reads them.
 * In memory by default (the newest entries only); DynamoDB (parley/aws) and Redis implement the
 * same interface.
 */
import { searchConversations, type ConversationQuery, type ConversationSummary } from './conversation-search.js';

export type { ConversationQuery, ConversationSummary } from './conversation-search.js';

export interface ConversationEntry {
  /**
   * The exchange's id: the id of the job that answered (what its reply's `SendOptions.key` starts
   * with). An apology has none: it is no answer to rate.
   */
  id?: string;
  /** The conversation's id (the table's hash key). */
  conversationId: string;
  /** ISO 8601 time of the answer or the apology (the table's range key). */
  timestamp: string;
  platform: string;
  /** The person's user id on the platform. */
  user: string;
  tenant?: string;
  /** The X-Request-Id of the webhook that brought the message (its request line's, its job's log lines' and its dead letter's `requestId`); absent when none did. */
  requestId?: string;
  /** What the person wrote. */
  input: string;
  /** What the bot answered (for an apology, the apology; empty when even that could not be posted). */
  output: string;
  /**
   * 'apologised': the message was given up (dead-lettered) and the person got the apology, no
   * answer (model "none", no tokens, no cost). 'withheld': the answer (model, tokens and cost
   * spent) was held back by the adapter, nothing posted (Intercom: a teammate had taken over).
   * Absent: answered.
   */
  outcome?: 'answered' | 'apologised' | 'withheld';
  /** The model that answered ("cache" hits keep the model whose answer was reused). */
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** From the message's arrival to the answer (or the apology) posted, in ms: how long the person waited. */
  latencyMs: number;
  /** The person's rating of the answer (👍/👎), the latest one. */
  feedback?: ExchangeFeedback;
}

/** A rating of one answer. */
export interface ExchangeFeedback {
  rating: 'good' | 'bad';
  /** Why, in the person's words (a 👎's reason). */
  reason?: string;
  /** ISO 8601 time of the rating. */
  at: string;
  /** Who rated (the platform's user id). */
  user?: string;
}

/** What `rate` found: the exchange's feedback before this one (absent when it had none). */
export interface RateResult {
  previous?: ExchangeFeedback;
}

export interface ConversationLog {
  /** Record one exchange. A failure is logged by the caller and never fails the message. */
  record(entry: ConversationEntry): Promise<void>;
  /** A conversation's entries, oldest first (the newest `limit`). */
  list(conversationId: string, limit?: number): Promise<ConversationEntry[]>;
  /**
   * The conversations matching `query`, one summary each (the operator console's conversations
   * view). Over what the log's index holds: the newest exchanges, not necessarily all of them.
   */
  search?(query: ConversationQuery): Promise<ConversationSummary[]>;
  /** Erase a conversation's entries (a visitor deleting their conversation). */
  erase?(conversationId: string): Promise<void>;
  /**
   * Store a rating with exchange `exchangeId` (its entry's `id`; the newest such entry) of a
   * conversation, replacing any earlier one. Undefined when the conversation has no such exchange.
   */
  rate?(conversationId: string, exchangeId: string, feedback: ExchangeFeedback): Promise<RateResult | undefined>;
  /** Release connections; `bot.close()` calls it. */
  close?(): Promise<void>;
}

/** The default: the newest `maxEntries` exchanges of this process, in memory. */
export class MemoryConversationLog implements ConversationLog {
  private readonly entries: ConversationEntry[] = [];

  constructor(private readonly maxEntries = 10_000) {}

  async record(entry: ConversationEntry): Promise<void> {
    this.entries.push(entry);
    if (this.entries.length > this.maxEntries) this.entries.splice(0, this.entries.length - this.maxEntries);
  }

  async list(conversationId: string, limit = 100): Promise<ConversationEntry[]> {
    const count = Math.floor(limit);
    if (!(count > 0)) return []; // slice(-0) would be all of them
    return this.entries.filter((entry) => entry.conversationId === conversationId).slice(-count);
  }

  async search(query: ConversationQuery = {}): Promise<ConversationSummary[]> {
    return searchConversations(this.entries, query);
  }

  async erase(conversationId: string): Promise<void> {
    const kept = this.entries.filter((entry) => entry.conversationId !== conversationId);
    this.entries.splice(0, this.entries.length, ...kept);
  }

  async rate(conversationId: string, exchangeId: string, feedback: ExchangeFeedback): Promise<RateResult | undefined> {
    const index = this.entries.findLastIndex((entry) => entry.conversationId === conversationId && entry.id === exchangeId);
    const entry = this.entries[index];
    if (!entry) return undefined;
    this.entries[index] = { ...entry, feedback };
    return entry.feedback ? { previous: entry.feedback } : {};
  }
}
