/**
 * Which Slack events a developer's own Bolt listeners could see, so parley knows which events it
 * may acknowledge without Bolt and which it must also hand to Bolt after the ack (fast-path.ts).
 *
 * The App's registration methods are wrapped before parley registers its own listeners, and each
 * registration is recorded: `app.event('x')` and `app.message()` by event type, a RegExp by its
 * pattern, `app.assistant()` as the assistant events and messages, a global `app.use()` as "any
 * event". Listeners an App already held when it was handed to parley (a developer's App) are read
 * from Bolt's own arrays; a listener whose kind cannot be told counts as "any event", as does any
 * entry that appears without passing through a wrapped method (a Bolt version with a new one).
 */
import type { App } from '@slack/bolt';

/** Bolt's built-in middleware, exported by @slack/bolt: told apart by identity. */
export interface BoltBuiltins {
  ignoreSelf: unknown;
  onlyActions: unknown;
  onlyCommands: unknown;
  onlyOptions: unknown;
  onlyShortcuts: unknown;
  onlyViewActions: unknown;
}

/** Bolt's private listener arrays (App#listeners, App#middleware), read defensively. */
interface BoltInternals {
  listeners?: unknown;
  middleware?: unknown;
}

type Registration = (...args: unknown[]) => unknown;

/** Event types each registration method can deliver; undefined: recorded from its arguments. */
const EVENTS_OF: Record<string, readonly string[] | 'any' | undefined> = {
  event: undefined,
  message: ['message'],
  assistant: ['assistant_thread_started', 'assistant_thread_context_changed', 'message'],
  function: ['function_executed'],
  use: 'any',
  // Interactions and commands: never an Events API event.
  command: [],
  action: [],
  shortcut: [],
  options: [],
  view: [],
};

export class DeveloperListeners {
  private readonly types = new Set<string>();
  private readonly patterns: RegExp[] = [];
  private any = false;
  private owning = 0;
  /** The lengths of Bolt's arrays as last accounted for. */
  private known = { listeners: 0, middleware: 0 };

  private constructor(private readonly internals: BoltInternals) {}

  /** Start recording on `app`: what it already holds, then every registration from now on. */
  static track(app: App, builtins: BoltBuiltins): DeveloperListeners {
    const tracker = new DeveloperListeners(app as unknown as BoltInternals);
    tracker.readExisting(builtins);
    const methods = app as unknown as Record<string, Registration>;
    for (const name of Object.keys(EVENTS_OF)) {
      const original = methods[name];
      if (typeof original !== 'function') continue;
      methods[name] = (...args: unknown[]) => {
        if (tracker.owning === 0) tracker.record(name, args);
        try {
          return original.apply(app, args);
        } finally {
          tracker.account();
        }
      };
    }
    return tracker;
  }

  /** parley's own registrations: made through the same methods, not recorded as the developer's. */
  own<T>(register: () => T): T {
    this.owning++;
    try {
      return register();
    } finally {
      this.owning--;
    }
  }

  /** Whether a developer's listener or middleware could see an event of this type. */
  couldSee(eventType: string): boolean {
    if (this.any) return true;
    const { listeners, middleware } = this.internals;
    if (!Array.isArray(listeners) || !Array.isArray(middleware) || listeners.length !== this.known.listeners || middleware.length !== this.known.middleware) {
      this.any = true; // registered some way we did not see
      return true;
    }
    return this.types.has(eventType) || this.patterns.some((pattern) => pattern.test(eventType));
  }

  private record(method: string, args: unknown[]): void {
    const events = EVENTS_OF[method];
    if (events === 'any') this.any = true;
    else if (events) for (const type of events) this.types.add(type);
    else this.recordEvent(args[0]);
  }

  /** `app.event(name | RegExp, …)`, matched the way Bolt's matchEventType does. */
  private recordEvent(nameOrPattern: unknown): void {
    if (typeof nameOrPattern === 'string') this.types.add(nameOrPattern);
    else if (nameOrPattern instanceof RegExp) this.patterns.push(new RegExp(nameOrPattern.source, nameOrPattern.flags.replace(/[gy]/g, '')));
    else this.any = true;
  }

  /** What an App already held: interaction and command listeners see no events; Bolt's own middleware is no listener. */
  private readExisting(builtins: BoltBuiltins): void {
    const { listeners, middleware } = this.internals;
    if (!Array.isArray(listeners) || !Array.isArray(middleware)) {
      this.any = true;
      return;
    }
    const notEvents = new Set([builtins.onlyActions, builtins.onlyCommands, builtins.onlyOptions, builtins.onlyShortcuts, builtins.onlyViewActions]);
    if (listeners.some((chain) => !Array.isArray(chain) || !notEvents.has(chain[0]))) this.any = true;
    if (middleware.some((m) => m !== builtins.ignoreSelf && !isConversationContext(m))) this.any = true;
    this.account();
  }

  private account(): void {
    const { listeners, middleware } = this.internals;
    this.known = { listeners: Array.isArray(listeners) ? listeners.length : -1, middleware: Array.isArray(middleware) ? middleware.length : -1 };
  }
}

/** Bolt's conversation-store middleware (on unless `convoStore: false`): it loads context, it answers nothing. */
function isConversationContext(middleware: unknown): boolean {
  return typeof middleware === 'function' && /context\.updateConversation\s*=/.test(String(middleware));
}
