/**
 * DeveloperListeners (adapters/slack/listeners.ts) on real Bolt Apps: which event types a
 * developer's registrations could see, and that parley's own registrations do not count.
 */
import * as bolt from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { ParleyReceiver } from '../../adapters/slack/index.js';
import { DeveloperListeners } from '../../adapters/slack/listeners.js';

const newApp = (options: { convoStore?: false } = {}) => new bolt.App({ token: 'xoxb-test', receiver: new ParleyReceiver(), deferInitialization: true, ...options });
const noop = async () => undefined;

describe('DeveloperListeners', () => {
  it('sees nothing on a new App, and nothing parley registers itself', () => {
    const app = newApp();
    const listeners = DeveloperListeners.track(app, bolt);
    listeners.own(() => {
      app.use(async ({ next }) => next());
      app.event('app_mention', noop);
      app.assistant(new bolt.Assistant({ threadStarted: noop, userMessage: noop }));
    });
    for (const type of ['app_mention', 'message', 'assistant_thread_started', 'reaction_added']) expect(listeners.couldSee(type)).toBe(false);
  });

  it('records event names, message listeners, patterns, assistants and functions', () => {
    const app = newApp();
    const listeners = DeveloperListeners.track(app, bolt);
    app.event('app_mention', noop);
    app.event(/^reaction_/g, noop);
    app.command('/ticket', noop);
    app.action('approve', noop);
    app.view('modal', noop);
    expect(['app_mention', 'reaction_added', 'reaction_removed'].map((t) => listeners.couldSee(t))).toEqual([true, true, true]);
    expect(['message', 'assistant_thread_started', 'function_executed'].map((t) => listeners.couldSee(t))).toEqual([false, false, false]);
    app.message('hello', noop);
    app.assistant(new bolt.Assistant({ threadStarted: noop, userMessage: noop }));
    app.function('summarise', noop);
    expect(['message', 'assistant_thread_started', 'assistant_thread_context_changed', 'function_executed'].every((t) => listeners.couldSee(t))).toBe(true);
    expect(listeners.couldSee('team_join')).toBe(false);
  });

  it('takes a global middleware as "any event"', () => {
    const app = newApp();
    const listeners = DeveloperListeners.track(app, bolt);
    app.use(async ({ next }) => next());
    expect(listeners.couldSee('app_mention')).toBe(true);
  });

  it("reads an App's existing listeners: commands and interactions see no event, anything else may see any", () => {
    const commandsOnly = newApp();
    commandsOnly.command('/ticket', noop);
    commandsOnly.shortcut('open', noop);
    commandsOnly.options('menu', noop);
    expect(DeveloperListeners.track(commandsOnly, bolt).couldSee('app_mention')).toBe(false);

    const withEvent = newApp();
    withEvent.event('team_join', noop);
    expect(DeveloperListeners.track(withEvent, bolt).couldSee('app_mention')).toBe(true);

    const withMiddleware = newApp({ convoStore: false });
    withMiddleware.use(async ({ next }) => next());
    expect(DeveloperListeners.track(withMiddleware, bolt).couldSee('message')).toBe(true);
  });

  it('takes a listener added some way it did not see as "any event"', () => {
    const app = newApp();
    const listeners = DeveloperListeners.track(app, bolt);
    expect(listeners.couldSee('app_mention')).toBe(false);
    (app as unknown as { listeners: unknown[] }).listeners.push([noop]);
    expect(listeners.couldSee('app_mention')).toBe(true);
  });
});
