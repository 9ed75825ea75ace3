/**
 * The Slack ack fast path. The events parley answers and the assistant-thread events (mentions,
 * messages, assistant threads) are classified here, without Bolt's `processEvent` and listener
 * chain, and acknowledged as soon as their message is queued. After the ack, parley does its own
 * assistant-thread work (suggested prompts, the thread's title: assistant.ts), and Bolt gets the
 * event when a developer's listener there could see it (listeners.ts).
 * Every other event, command and interaction goes through Bolt as before (dispatch.ts).
 *
 * An event handed to Bolt after the ack runs the App's whole chain as Bolt would run it (its
 * `ack` is a no-op: the platform has its answer already); parley's classifying middleware sees
 * no collector on it, so its message is never taken twice. A listener's failure is logged.
 */
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import type { InboundMessage } from 'parley/adapter-kit';
import type { AssistantThreads } from './assistant.js';
import { inboundFromEvent, type ClassifyOptions, type EventCallback } from './events.js';
import type { SlackBody } from './parse.js';

/** Slack's redelivery headers, handed on to Bolt's context (`context.retryNum`). */
export interface RetryMeta {
  retryNum?: number;
  retryReason?: string;
}

/** What the fast path made of an event: the message to queue (if any), and Bolt's turn after the ack (if wanted). */
export interface FastEvent {
  message?: InboundMessage;
  afterAck?: () => Promise<void>;
}

export interface FastPathOptions {
  /** The Bolt App, built on first call: only an event a listener there wants needs it. */
  app(): App;
  /** Whether a listener of the developer's could see events of this type. */
  couldSee(type: string): boolean;
  classify: Omit<ClassifyOptions, 'botUserId'>;
  /** The app's bot user in the event's workspace (mentions of it are stripped, its own messages ignored). */
  botUserIdFor(body: EventCallback): string | undefined | Promise<string | undefined>;
  /** Whether the store holds `key` (read for an edited mention only: was its message answered already?). */
  stored(key: string): Promise<boolean>;
  /** parley's own assistant-thread work after the ack. */
  assistant: AssistantThreads;
  logger(): Logger;
}

/** Event types the fast path takes: those parley answers and the assistant-thread events. */
const FAST_EVENT_TYPES = new Set(['app_mention', 'message', 'assistant_thread_started', 'assistant_thread_context_changed']);

export interface FastPath {
  /** The fast path's reading of an Events API body, or undefined when Bolt must see it before the ack. */
  take(body: SlackBody, meta: RetryMeta): Promise<FastEvent | undefined>;
}

export function createFastPath(options: FastPathOptions): FastPath {
  const { app, couldSee, logger } = options;
  const { threadFollowUps } = options.classify;

  async function handToBolt(body: SlackBody, meta: RetryMeta): Promise<void> {
    try {
      await app().processEvent({ body, retryNum: meta.retryNum, retryReason: meta.retryReason, ack: async () => undefined });
    } catch (error) {
      logger().error({ err: error, event: (body.event as { type?: unknown }).type }, 'a Bolt listener failed (after the ack)');
    }
  }

  return {
    async take(body, meta) {
      if (body.type !== 'event_callback') return undefined;
      const event = body.event as { type: string } & Record<string, unknown>;
      if (!FAST_EVENT_TYPES.has(event.type)) return undefined;
      const callback = body as unknown as EventCallback;
      const botUserId = await options.botUserIdFor(callback);
      let message = inboundFromEvent(callback, { botUserId, threadFollowUps, editedMentions: true });
      // A mention added by an edit is answered; an edit of a message answered already (its thread the bot's) is not (edited-mention.ts).
      if (message?.marks && event.edited && (await options.stored(message.marks.key))) message = undefined;
      // Why the bot stayed quiet, for whoever asks at debug (as WhatsApp's and Intercom's "nothing to answer").
      if (!message && logger().isLevelEnabled('debug')) logger().debug({ event: event.type, subtype: event.subtype, eventId: body.event_id }, 'nothing to answer in this Slack event (a bot or an edit, a subtype parley does not answer, or no user)');
      const own = options.assistant.after(callback, message);
      const wanted = couldSee(event.type);
      if (!own && !wanted) return { message };
      return { message, afterAck: () => Promise.all([own && runOwn(own, event.type), wanted && handToBolt(body, meta)]).then(() => undefined) };
    },
  };

  async function runOwn(work: () => Promise<void>, type: string): Promise<void> {
    try {
      await work();
    } catch (error) {
      logger().warn({ err: error, event: type }, "could not set the assistant thread's suggested prompts or title");
    }
  }
}
