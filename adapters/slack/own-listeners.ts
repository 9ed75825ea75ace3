/**
 * What parley itself registers on the Bolt App: the middleware that reports the message of an event
 * taken through Bolt before the ack (dispatch.ts), the 👍/👎 feedback listeners (feedback.ts), and
 * an Assistant that offers suggested prompts and titles assistant threads. Registered through
 * `DeveloperListeners.own`, so none of it counts as a developer's listener.
 */
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Feedback, InboundMessage } from 'parley/adapter-kit';
import type { Collector } from './dispatch.js';
import { inboundFromEvent, type ClassifyOptions, type EventCallback } from './events.js';
import { listenForFeedback } from './feedback.js';
import type { slackBolt } from './sdk.js';
import { NOT_INSTALLED } from './workspace-tokens.js';

export interface OwnListenerOptions {
  classify: Omit<ClassifyOptions, 'botUserId'>;
  suggestedPrompts: readonly string[];
  feedback(feedback: Feedback): Promise<boolean>;
  logger(): Logger;
}

/** A thread's title: its first question, cut to what Slack shows. */
const TITLE_CHARS = 60;

export function registerOwnListeners(app: App, bolt: ReturnType<typeof slackBolt>, options: OwnListenerOptions): void {
  app.use(async ({ body, context, next }) => {
    const collector = context.parleyCollector as Collector | undefined;
    // Not installed in this workspace (uninstalled): nothing to answer with, no listener to run.
    if (context[NOT_INSTALLED]) return collector?.found(undefined);
    let message: InboundMessage | undefined;
    try {
      // Only on Bolt's path before the ack: an event handed over after the ack has been queued already (no collector).
      if (collector && (body as { type?: string }).type === 'event_callback') {
        message = await inboundFromEvent(body as unknown as EventCallback, { ...options.classify, botUserId: context.botUserId });
      }
    } finally {
      collector?.found(message);
    }
    await next();
  });
  // 👍/👎 on answers: parley's own action and modal (feedback.ts).
  listenForFeedback(app, { feedback: options.feedback, logger: options.logger });
  app.assistant(
    new bolt.Assistant({
      threadStarted: async ({ setSuggestedPrompts }) => {
        if (options.suggestedPrompts.length === 0) return;
        await setSuggestedPrompts({ title: 'Try asking', prompts: options.suggestedPrompts.map((p) => ({ title: p, message: p })) });
      },
      // parley answers through its pipeline; here the thread only gets its title.
      userMessage: async ({ message, setTitle }) => {
        const text = 'text' in message && typeof message.text === 'string' ? message.text : '';
        if (text) await setTitle(text.length > TITLE_CHARS ? `${text.slice(0, TITLE_CHARS - 1)}…` : text);
      },
    }),
  );
}
