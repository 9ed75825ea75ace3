import type { ConversationRef, Turn } from '../message.js';
import type { Store } from '../store/store.js';

export interface HistoryOptions {
  /** Earlier turns (user or assistant messages) kept and sent to the AI. */
  turns: number;
  /** The most tokens of history sent to the AI; the oldest turns go first. */
  tokenBudget: number;
  ttlSeconds: number;
}

/**
 * A rough token count, enough to keep a prompt in budget: about four characters a token for ASCII,
 * and a token for each other character. Chinese, Japanese, Korean and emoji take about a token a
 * character (or more), so "four characters a token" undercounted them fourfold: a conversation in
 * them outgrew the model's context while its history seemed within budget, and every later
 * message failed. (Accented Latin text is overcounted somewhat: its history is trimmed a little early.)
 */
export function estimateTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) ascii++;
    else if (code < 0xdc00 || code > 0xdfff) other++; // a low surrogate is the rest of a character counted already
  }
  return Math.ceil(ascii / 4) + other + 4;
}

/**
 * `turns` from their first user turn on. A history cut by the turn count or the token budget (or
 * halved, shorter-history.ts) could begin with an answer whose question was cut off, and the chat
 * templates of many open models (Mistral, Gemma, Llama 2: on vLLM, llama.cpp, TGI) refuse roles
 * that do not alternate from a user's turn (a 400, "Conversation roles must alternate
 * user/assistant/…"): once a long conversation's window began so, every later message failed.
 */
export function fromUserTurn(turns: Turn[]): Turn[] {
  const first = turns.findIndex((turn) => turn.role === 'user');
  return first === -1 ? [] : turns.slice(first);
}

/** The newest of `turns` whose estimated tokens fit `budget`, from a user's turn on. */
export function newestWithin(turns: Turn[], budget: number): Turn[] {
  let left = budget;
  let from = turns.length;
  while (from > 0) {
    const cost = estimateTokens((turns[from - 1] as Turn).text);
    if (cost > left) break;
    left -= cost;
    from--;
  }
  return fromUserTurn(turns.slice(from));
}

/** The turns of each conversation, kept in the store as a capped list with a TTL. */
export class ConversationHistory {
  constructor(
    private readonly store: Store,
    private readonly options: HistoryOptions,
  ) {}

  /** The newest turns that fit the turn count and the token budget, oldest first, from a user's turn on. */
  async window(conversation: ConversationRef): Promise<Turn[]> {
    if (this.options.turns === 0) return [];
    const stored = await this.store.listRange(key(conversation), -this.options.turns, -1);
    return newestWithin(stored.map((item) => JSON.parse(item) as Turn), this.options.tokenBudget);
  }

  /** Forget a conversation's turns. */
  async clear(conversation: ConversationRef): Promise<void> {
    await this.store.delete(key(conversation));
  }

  /**
   * Append turns unless the newest stored ones are these (compared on the first turn's role, text
   * and time): a message answered again after a restart must not be remembered twice.
   */
  async appendUnlessThere(conversation: ConversationRef, turns: Turn[]): Promise<void> {
    if (this.options.turns === 0 || turns.length === 0) return;
    const [first] = await this.store.listRange(key(conversation), -turns.length, -1);
    const stored = first === undefined ? undefined : (JSON.parse(first) as Turn);
    const again = turns[0] as Turn;
    if (stored?.role === again.role && stored.text === again.text && stored.at === again.at) return;
    await this.append(conversation, turns);
  }

  /** Append turns in order. */
  async append(conversation: ConversationRef, turns: Turn[]): Promise<void> {
    if (this.options.turns === 0 || turns.length === 0) return;
    await this.store.listPush(
      key(conversation),
      turns.map((turn) => JSON.stringify(turn)),
      { maxLength: this.options.turns, ttlMs: this.options.ttlSeconds * 1000 },
    );
  }
}

function key(conversation: ConversationRef): string {
  return `parley:history:${conversation.platform}:${conversation.id}`;
}
