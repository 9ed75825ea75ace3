/**
 * What `bot.ingest` needs of a message, checked at the door: a message built by hand (Socket Mode,
 * a platform of your own) that lacks a field failed as a TypeError from deep inside the pipeline
 * ("Cannot read properties of undefined"), naming nothing. Adapters' own messages skip this.
 */
import type { InboundMessage } from './message.js';

const FIELDS = ['id', 'platform', 'conversation.platform', 'conversation.id', 'user.id', 'receivedAt'] as const;

/** Throws a TypeError naming every field that is missing or not what it must be. */
export function checkInbound(message: unknown): asserts message is InboundMessage {
  if (typeof message !== 'object' || message === null) throw new TypeError(`bot.ingest: expected a message object, got ${message === null ? 'null' : typeof message}`);
  const wrong: string[] = FIELDS.filter((path) => !nonEmptyString(path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], message)));
  if (typeof (message as { text?: unknown }).text !== 'string') wrong.push('text');
  if (wrong.length > 0) {
    throw new TypeError(
      `bot.ingest: the message's ${wrong.join(', ')} ${wrong.length === 1 ? 'is' : 'are'} missing or not text. Fix: give id, platform, conversation.platform, conversation.id, user.id and receivedAt (an ISO 8601 time) as non-empty strings, and text as a string (an InboundMessage).`,
    );
  }
}

const nonEmptyString = (value: unknown): boolean => typeof value === 'string' && value !== '';
