/**
 * What parley itself registers on the Bolt App: the middleware that reports the message of an event
 * taken through Bolt before the ack (dispatch.ts) and the 👍/👎 feedback listeners (feedback.ts).
 * Registered through `DeveloperListeners.own`, so none of it counts as a developer's listener.
 * No Bolt Assistant: it would end the chain for assistant events (assistant.ts does parley's part).
 */
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Feedback, InboundMessage } from 'parley/adapter-kit';
import type { Collector } from './dispatch.js';
import { inboundFromEvent, type ClassifyOptions, type EventCallback } from './events.js';
import { listenForFeedback } from './feedback.js';
import { NOT_INSTALLED } from './workspace-tokens.js';

export interface OwnListenerOptions {
  classify: Omit<ClassifyOptions, 'botUserId'>;
  feedback(feedback: Feedback): Promise<boolean>;
  logger(): Logger;
}

export function registerOwnListeners(app: App, options: OwnListenerOptions): void {
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
}
