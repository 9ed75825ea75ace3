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
  app.use(async ({ context, next }) => {
    // Not installed in this workspace (uninstalled): nothing to answer with, no listener to run.
    if (context[NOT_INSTALLED]) return;
    await next();
  });
  // 👍/👎 on answers: parley's own action and modal (feedback.ts).
  listenForFeedback(app, { feedback: options.feedback, logger: options.logger });
}
