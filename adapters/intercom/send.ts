/**
 * Posting to Intercom as the bot's admin: the AI's markdown as HTML comments, very long replies
 * in parts, short 429s waited out, and the handoff to a team.
 */
import type { IntercomClient } from 'intercom-client';
import type { Logger } from 'pino';
import { RetryAfterError, type ConversationRef, type Delivery, type Reply } from '../../src/index.js';
import { splitMessage } from '../../src/text/index.js';
import { classifyIntercomError } from './errors.js';
import type { IntercomDetails } from './inbound.js';
import { markdownToIntercomHtml } from './markdown-html.js';
import type { ConversationState } from './state.js';

/** Intercom takes long bodies; past this a reply is easier to read (and to retry) in parts. */
const MAX_PART_CHARS = 10_000;
/** A 429 asking for longer than this goes back to the queue (which waits without holding a worker). */
const MAX_INLINE_WAIT_MS = 10_000;
const MAX_INLINE_RETRIES = 3;

export interface SenderOptions {
  client: IntercomClient;
  state: ConversationState;
  adminId(): string;
  handoffTeamId?: string;
  logger(): Logger;
}

export class IntercomSender {
  constructor(private readonly options: SenderOptions) {}

  /** Post a reply, in parts when very long; parts already posted under `key` are skipped. */
  async send(conversation: ConversationRef, reply: Reply, key?: string): Promise<Delivery> {
    const conversationId = conversationIdOf(conversation);
    const { client, state } = this.options;
    // A teammate took over while the AI was thinking: their conversation, not ours.
    if (await state.humanReplied(conversationId, this.options.adminId())) {
      this.options.logger().info({ conversation: conversationId, kind: reply.kind ?? 'answer' }, 'a teammate has replied; not posting the bot\'s reply');
      return { ids: [] };
    }
    const ids: string[] = [];
    for (const [index, part] of splitMessage(reply.text, MAX_PART_CHARS).entries()) {
      const posted = key ? await state.partSent(key, index) : undefined;
      if (posted) {
        ids.push(posted);
        continue;
      }
      const result = await this.call('conversations.reply', () =>
        client.conversations.reply(
          { conversation_id: conversationId, body: { message_type: 'comment', type: 'admin', admin_id: this.options.adminId(), body: markdownToIntercomHtml(part) } },
          { maxRetries: 0 },
        ),
      );
      const id = newestPartId(result) ?? conversationId;
      ids.push(id);
      if (key) await state.markPartSent(key, index, id);
    }
    return { ids };
  }

  /** Hand the conversation to the handoff team (or leave it unassigned); the bot stays out of it after. */
  async handoff(conversation: ConversationRef): Promise<void> {
    const conversationId = conversationIdOf(conversation);
    const { client, state, handoffTeamId } = this.options;
    await state.stopForHandoff(conversationId);
    if (handoffTeamId) {
      await this.call('the assignment', () =>
        client.conversations.manage(
          { conversation_id: conversationId, body: { message_type: 'assignment', type: 'team', admin_id: this.options.adminId(), assignee_id: handoffTeamId } },
          { maxRetries: 0 },
        ),
      );
    }
    this.options.logger().info({ conversation: conversationId, team: handoffTeamId ?? 'unassigned' }, 'conversation handed off to people');
  }

  /** One API call; the SDK's own retries are off, a short 429 is waited out here, the rest classified. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (caught) {
        const error = classifyIntercomError(caught, what);
        if (!(error instanceof RetryAfterError) || error.retryAfterMs > MAX_INLINE_WAIT_MS || attempt >= MAX_INLINE_RETRIES) throw error;
        this.options.logger().info({ waitMs: error.retryAfterMs }, 'Intercom answered 429; waiting as it asks');
        await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs));
      }
    }
  }
}

function conversationIdOf(conversation: ConversationRef): string {
  return (conversation.details as IntercomDetails | undefined)?.conversationId ?? conversation.id;
}

/** The id of the part a reply created: Intercom answers with the conversation, newest part last. */
function newestPartId(conversation: unknown): string | undefined {
  const parts = (conversation as { conversation_parts?: { conversation_parts?: { id?: unknown }[] } } | undefined)?.conversation_parts?.conversation_parts;
  const id = parts?.at(-1)?.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}
