/**
 * Posting to Intercom as the bot's admin: one part of a reply (the core splits very long replies)
 * as an HTML comment, short 429s waited out, and the handoff to a team. A reply that may have been
 * taken although it failed (unanswered.ts) is looked for in the conversation before it is posted again.
 */
import type { IntercomClient } from 'intercom-client';
import type { Logger } from 'pino';
import { MaybePostedError, unreadableBody, waitOutRetryAfter, type ConversationRef, type ReplyPart } from 'parley/adapter-kit';
import { classifyIntercomError } from './errors.js';
import { findPostedPart } from './find-part.js';
import type { IntercomDetails } from './inbound.js';
import { markdownToIntercomHtml } from './markdown-html.js';
import type { ConversationState } from './state.js';
import { maybePostedWhenUnanswered, waitWhenUnreachable } from './unanswered.js';

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
   * or null once a teammate has taken the conversation (replied, or took it): then it is theirs, not the bot's.
   */
  async sendPart(conversation: IntercomRef, markdown: string, part: ReplyPart): Promise<string | null> {
    const conversationId = conversationIdOf(conversation);
    const { client, state } = this.options;
    if (await state.humanReplied(conversationId, this.options.adminId())) {
      this.options.logger().info({ conversation: conversationId, kind: part.kind, part: part.index }, 'a teammate has the conversation; not posting the bot\'s reply');
      return null;
    }
    // A 429 here is thrown as it is: the core waits it out (or queues it) around the part.
    const result = await classified(
      'conversations.reply',
      () =>
        maybePostedWhenUnanswered('the reply', () =>
          client.conversations.reply(
            { conversation_id: conversationId, body: { message_type: 'comment', type: 'admin', admin_id: this.options.adminId(), body: markdownToIntercomHtml(markdown) } },
            { maxRetries: 0 },
          ),
        ),
      true,
    );
    // A 2xx that is no conversation (a proxy's page, an empty body) says nothing of the reply: looked for before it is posted again.
    if (!isConversation(result)) throw new MaybePostedError(`Intercom answered the reply with ${notConversation(result)}, not the conversation; it may have taken it`);
    return newestPartId(result) ?? conversationId;
  }

  /** A part whose reply may have been taken (MaybePostedError): its part id if the conversation has it. */
  async findPart(conversation: IntercomRef, markdown: string, since: number): Promise<string | undefined> {
    const conversationId = conversationIdOf(conversation);
    const found = await this.call('reading the conversation', () => this.options.client.conversations.find({ conversation_id: conversationId }, { maxRetries: 0 }));
    // Not read is not "not there": the job tries again later rather than risk a second copy.
    if (!isConversation(found)) throw new Error(`Intercom answered reading the conversation with ${notConversation(found)}, not the conversation`);
    return findPostedPart(found, this.options.adminId(), markdown, since);
  }

  /**
   * Hand the conversation to the handoff team; without one, take it out of the bot's own inbox
   * (see unassignFromBot). The bot stays out of it after. Once a teammate has replied it is
   * theirs already: the bot only stops, assigning nothing.
   */
  async handoff(conversation: IntercomRef): Promise<void> {
    const conversationId = conversationIdOf(conversation);
    const { client, state, handoffTeamId } = this.options;
    await state.stopForHandoff(conversationId);
    if (await state.humanReplied(conversationId, this.options.adminId())) {
      this.options.logger().info({ conversation: conversationId }, 'a teammate has the conversation; not reassigning it');
      return;
    }
    if (handoffTeamId) {
      // A retry (a 5xx or a timeout after Intercom took it, a worker killed after posting it) looks before assigning again.
      if (!(await state.firstAssignment(conversationId)) && (await this.assignedToTeam(conversationId, handoffTeamId))) {
        this.options.logger().info({ conversation: conversationId, team: handoffTeamId }, 'conversation already assigned to the team by an earlier run; not assigning it again');
        return;
      }
      await this.call('the assignment', () =>
        client.conversations.manage(
          { conversation_id: conversationId, body: { message_type: 'assignment', type: 'team', admin_id: this.options.adminId(), assignee_id: handoffTeamId } },
          { maxRetries: 0 },
        ),
      );
      this.options.logger().info({ conversation: conversationId, team: handoffTeamId }, 'conversation handed off to people');
      return;
    }
    const assignment = (await this.unassignFromBot(conversationId)) ? 'unassigned from the bot' : 'left as it was';
    this.options.logger().info({ conversation: conversationId, assignment }, 'conversation handed off to people');
  }

  /** Whether the conversation is assigned to the team already (read from Intercom). */
  private async assignedToTeam(conversationId: string, teamId: string): Promise<boolean> {
    const found = await this.call('reading the conversation', () => this.options.client.conversations.find({ conversation_id: conversationId }, { maxRetries: 0 }));
    // Not read is not "not assigned": the job tries again later rather than risk a second assignment.
    if (!isConversation(found)) throw new Error(`Intercom answered reading the conversation with ${notConversation(found)}, not the conversation`);
    return String(found?.team_assignee_id ?? '') === teamId;
  }

  /**
   * Without a handoff team: a conversation assigned to the bot's own admin would stay in an inbox
   * no person reads, so it is unassigned; one assigned to a person or a team is left to them.
   * Returns whether it was unassigned.
   */
  private async unassignFromBot(conversationId: string): Promise<boolean> {
    const { client } = this.options;
    const adminId = this.options.adminId();
    const found = await this.call('reading the conversation', () => client.conversations.find({ conversation_id: conversationId }, { maxRetries: 0 }));
    if (String(found?.admin_assignee_id ?? '') !== adminId) return false;
    // Intercom's way to unassign: an assignment to admin 0 ("no admin or team").
    await this.call('the unassignment', () =>
      client.conversations.manage(
        { conversation_id: conversationId, body: { message_type: 'assignment', type: 'admin', admin_id: adminId, assignee_id: '0' } },
        { maxRetries: 0 },
      ),
    );
    return true;
  }

  /** One API call outside a reply part: the SDK's own retries are off, a short 429 is waited out here (Intercom not reachable goes to the queue). */
  private call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return waitOutRetryAfter(() => classified(what, () => waitWhenUnreachable(fn)), {
      onWait: (waitMs) => this.options.logger().info({ waitMs }, 'Intercom answered 429; waiting as it asks'),
    });
  }
}

/** An API call whose failure is thrown as the queue reads it (see errors.ts); Intercom not reachable at all is a wait (unanswered.ts). `posting`: it posts a reply. */
async function classified<T>(what: string, fn: () => Promise<T>, posting = false): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw classifyIntercomError(error, what, Date.now(), posting);
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

function isConversation(answer: unknown): boolean {
  const { type, id } = (answer ?? {}) as { type?: unknown; id?: unknown };
  return type === 'conversation' || (type === undefined && (typeof id === 'string' || typeof id === 'number'));
}

/** What came instead of a conversation, without its text (logged and kept as a dead letter's reason). */
function notConversation(answer: unknown): string {
  // intercom-client hands back a body it could not parse as { ok: false, error: { reason: 'non-json', rawBody } }.
  const raw = (answer as { error?: { reason?: unknown; rawBody?: unknown } } | undefined)?.error;
  if (raw?.reason === 'non-json' && typeof raw.rawBody === 'string') return unreadableBody(raw.rawBody);
  if (answer === undefined || answer === '') return 'an empty body';
  if (answer === null || typeof answer !== 'object') return `JSON ${answer === null ? 'null' : `of type ${typeof answer}`}`;
  const type = (answer as { type?: unknown }).type;
  return `JSON of another shape${typeof type === 'string' && /^[\w.]{1,40}$/.test(type) ? ` (type ${type})` : ''}`;
}
