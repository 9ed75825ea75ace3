/**
 * What parley itself registers on the Bolt App: the middleware that stops an event from a
 * workspace without an installation, and the 👍/👎 feedback listeners (feedback.ts). Registered
 * through `DeveloperListeners.own`, so none of it counts as a developer's listener. No Bolt
 * Assistant: it would end the chain for assistant events (assistant.ts does parley's part).
 */
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Feedback } from 'parley/adapter-kit';
import { listenForFeedback } from './feedback.js';
import { NOT_INSTALLED } from './workspace-tokens.js';

export interface OwnListenerOptions {
  feedback(feedback: Feedback): Promise<boolean>;
  logger(): Logger;
}

export function registerOwnListeners(app: App, options: OwnListenerOptions): void {
  app.use(async (args) => {
    // Not installed in this workspace (uninstalled): nothing to answer with, no listener to run
    // (the developer's neither: this middleware comes first). A command or an interaction is
    // acknowledged empty, as Bolt does when authorize fails, so Slack gets a 200 as for an event
    // (whose ack Bolt has sent already); workspace-tokens.ts logged it once.
    if (args.context[NOT_INSTALLED]) {
      await (args as { ack?: () => Promise<void> }).ack?.();
      return;
    }
    await args.next();
  });
  // 👍/👎 on answers: parley's own action and modal (feedback.ts).
  listenForFeedback(app, { feedback: options.feedback, logger: options.logger });
}
