/**
 * What the Intercom adapter accepts, checked after the signature: a notification with a topic, and
 * for the conversation topics parley reads, the conversation's fields with the types parley reads
 * them as. Other topics pass with any `data.item`. Ids are capped: they become store keys.
 */
import { isWellFormed } from 'parley/adapter-kit';
import { z } from 'zod';

/** Intercom's ids are strings (well-formed: they go into API paths); a number is read as one. */
const id = z.union([z.string().min(1).max(255).refine(isWellFormed, 'holds a lone UTF-16 surrogate'), z.number()]);

const author = z.looseObject({ type: z.string().nullish(), id: id.nullish(), name: z.string().nullish(), email: z.string().nullish() });

const attachment = z.looseObject({ type: z.string().nullish(), name: z.string().nullish(), url: z.string().nullish(), content_type: z.string().nullish() });

const part = z.looseObject({
  id: id.nullish(),
  part_type: z.string().nullish(),
  body: z.string().nullish(),
  author: author.nullish(),
  attachments: z.array(attachment).nullish(),
});

export const conversationItem = z.looseObject({
  id,
  source: part.nullish(),
  conversation_parts: z.looseObject({ conversation_parts: z.array(part).nullish() }).nullish(),
});

/** The envelope of every notification. */
export const intercomNotification = z.looseObject({
  type: z.string().nullish(),
  /** The dedupe key: the same on every redelivery. */
  id: z.string().min(1).max(255).nullish(),
  topic: z.string().min(1).max(255),
  app_id: z.string().max(255).nullish(),
  data: z.looseObject({ item: z.unknown() }),
});

/** Topics parley reads a conversation from; their `data.item` must be one. */
export const conversationTopics: ReadonlySet<string> = new Set([
  'conversation.user.created',
  'conversation.user.replied',
  'conversation.admin.replied',
  'conversation.admin.closed',
  'conversation.admin.assigned',
  'conversation.admin.open.assigned',
]);
