/**
 * Posting to Intercom as the bot's admin: one part of a reply (the core splits very long replies)
 * as an HTML comment, short 429s waited out, and the handoff to a team.
 */
import type { IntercomClient } from 'intercom-client';
import type { Logger } from 'pino';
import { waitOutRetryAfter, type ConversationRef, type ReplyPart } from 'parley/adapter-kit';
import { classifyIntercomError } from './errors.js';
import type { IntercomDetails } from './inbound.js';
import { markdownToIntercomHtml } from './markdown-html.js';
import type { ConversationState } from './state.js';

/** Intercom takes long bodies; past this a reply is easier to read (and to retry) in parts. */
export const MAX_PART_CHARS = 10_000;

export interface SenderOptions {
  client: IntercomClient;
  state: ConversationState;
  adminId(): string;
  handoffTeamId?: string;
  logger(): Logger;
}

type IntercomRef = ConversationRef<IntercomDetails>;

export class IntercomSender {
  constructor(private readonly options: SenderOptions) {}

  /**
   * Post one part (markdown, sent as Intercom's HTML) as the bot's admin; returns the part's id,
   * or null once a teammate has replied: then it is their conversation, not the bot's.
   */
  async sendPart(conversation: IntercomRef, markdown: string, part: ReplyPart): Promise<string | null> {
    const conversationId = conversationIdOf(conversation);
    const { client, state } = this.options;
    if (await state.humanReplied(conversationId, this.options.adminId())) {
      this.options.logger().info({ conversation: conversationId, kind: part.kind, part: part.index }, 'a teammate has replied; not posting the bot\'s reply');
      return null;
    }
    // A 429 here is thrown as it is: the core waits it out (or queues it) around the part.
    const result = await classified('conversations.reply', () =>
      client.conversations.reply(
        { conversation_id: conversationId, body: { message_type: 'comment', type: 'admin', admin_id: this.options.adminId(), body: markdownToIntercomHtml(markdown) } },
        { maxRetries: 0 },
      ),
    );
    return newestPartId(result) ?? conversationId;
  }

  /**
   * Hand the conversation to the handoff team (or leave it unassigned); the bot stays out of it
   * after. Once a teammate has replied it is theirs already: the bot only stops, assigning nothing.
   */
  async handoff(conversation: IntercomRef): Promise<void> {
    const conversationId = conversationIdOf(conversation);
    const { client, state, handoffTeamId } = this.options;
    await state.stopForHandoff(conversationId);
    if (await state.humanReplied(conversationId, this.options.adminId())) {
      this.options.logger().info({ conversation: conversationId }, 'a teammate has replied; not reassigning the conversation');
      return;
    }
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

  /** One API call outside a reply part: the SDK's own retries are off, a short 429 is waited out here. */
  private call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return waitOutRetryAfter(() => classified(what, fn), {
      onWait: (waitMs) => this.options.logger().info({ waitMs }, 'Intercom answered 429; waiting as it asks'),
    });
  }
}

/** An API call whose failure is thrown as the queue reads it (see errors.ts). */
async function classified<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw classifyIntercomError(error, what);
  }
}

function conversationIdOf(conversation: IntercomRef): string {
  return conversation.details?.conversationId ?? conversation.id;
}

/** The id of the part a reply created: Intercom answers with the conversation, newest part last. */
function newestPartId(conversation: unknown): string | undefined {
  const parts = (conversation as { conversation_parts?: { conversation_parts?: { id?: unknown }[] } } | undefined)?.conversation_parts?.conversation_parts;
  const id = parts?.at(-1)?.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}
