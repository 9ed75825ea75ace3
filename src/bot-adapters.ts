/**
 * createBot's options and `adapters`, checked before use: a plain-JS caller's slip (`adapter:` for
 * `adapters:`, one adapter instead of an array, an `undefined` from a factory left unconfigured)
 * gets a ConfigError saying what was given and what is expected, not a bot that silently has no
 * adapters or a TypeError from deep inside. TypeScript callers get this from the types.
 */
import type { Adapter } from './adapter.js';
import type { BotOptions } from './bot-api.js';
import { ConfigError } from './errors.js';
import { routeMatches } from './http/router.js';

// A Record over BotOptions' keys: a new option that is not listed here fails to compile.
const NAMES: Record<keyof BotOptions, true> = {
  adapters: true,
  config: true,
  env: true,
  store: true,
  queue: true,
  ai: true,
  logger: true,
  userLimiter: true,
  conversationLog: true,
  tally: true,
  onMessage: true,
  worker: true,
  routes: true,
};

/** The options, once every name in them is one of createBot's. */
export function checkBotOptions(options: BotOptions): BotOptions {
  if (typeof options !== 'object' || options === null) throw new ConfigError('createBot takes an options object. Fix: pass createBot({ adapters: [...] }).');
  const unknown = Object.keys(options).filter((name) => !Object.hasOwn(NAMES, name));
  if (unknown.length > 0) {
    throw new ConfigError(`createBot: ${unknown.map((name) => `"${name}"`).join(', ')} ${unknown.length === 1 ? 'is not an option' : 'are not options'}. Fix: check the spelling; the options are ${Object.keys(NAMES).join(', ')}.`);
  }
  checkRoutes(options.routes);
  checkLogger(options.logger);
  return options;
}

/** What parley calls on a logger of yours: pino's (a child of your pino logger works as well). */
const LOGGER_METHODS = ['child', 'debug', 'info', 'warn', 'error', 'isLevelEnabled'] as const;

/** `logger`: a pino Logger; `console`, Bolt's ConsoleLogger or winston would fail with a TypeError at the first line logged. */
function checkLogger(logger: unknown): void {
  if (logger === undefined) return;
  const missing = LOGGER_METHODS.filter((name) => typeof (logger as Record<string, unknown> | null)?.[name] !== 'function');
  if (missing.length === 0) return;
  throw new ConfigError(
    `createBot: \`logger\` takes a pino logger (it has no ${missing.join(', ')}); it was given ${describe(logger)}. Fix: pass pino() or a child of your pino logger, or leave it out (LOG_LEVEL and LOG_FORMAT then shape parley's own).`,
  );
}

/** The operational routes' paths unless moved or turned off. */
const DEFAULT_ROUTES = { health: '/healthz', ready: '/readyz', metrics: '/metrics' } as const;
type RouteName = keyof typeof DEFAULT_ROUTES;

/** The operational routes' paths: each where `routes` moves it, undefined where it turns it off. */
export function operationalPaths(routes: BotOptions['routes']): Record<RouteName, string | undefined> {
  const path = (name: RouteName) => {
    const value = routes?.[name];
    return value === false ? undefined : (value ?? DEFAULT_ROUTES[name]);
  };
  return { health: path('health'), ready: path('ready'), metrics: path('metrics') };
}

/** `routes`: each a path from the root (`/metrics`), or false; no two on one path (defaults included). */
function checkRoutes(routes: BotOptions['routes']): void {
  if (routes === undefined) return;
  for (const name of Object.keys(routes)) {
    if (!Object.hasOwn(DEFAULT_ROUTES, name)) throw new ConfigError(`createBot: routes.${name} is not a route. Fix: use health, ready or metrics.`);
  }
  const taken = new Map<string, string>();
  for (const [name, value] of Object.entries(operationalPaths(routes)) as [RouteName, unknown][]) {
    if (value === undefined) continue;
    if (typeof value !== 'string' || !value.startsWith('/')) throw new ConfigError(`createBot: routes.${name} must be a path starting with / (e.g. "${DEFAULT_ROUTES[name]}") or false; it was given ${JSON.stringify(value)}.`);
    const other = taken.get(value);
    if (other) throw new ConfigError(`createBot: routes.${other} and routes.${name} are both ${value}. Fix: give each its own path, or turn one off with false.`);
    taken.set(value, name);
  }
}

/** The adapters, checked; `routes`: the bot's, whose operational paths no adapter may take. */
export function checkedAdapters(given: unknown, routes?: BotOptions['routes']): Adapter[] {
  if (given === undefined) return [];
  if (!Array.isArray(given)) {
    throw new ConfigError(`createBot: \`adapters\` takes an array of adapters, e.g. { adapters: [webChat()] }; it was given ${describe(given)}.`);
  }
  given.forEach((adapter: unknown, index) => {
    if (!isAdapter(adapter)) {
      throw new ConfigError(`createBot: \`adapters[${index}]\` is ${describe(adapter)}, not an adapter (an object with \`platform\`, \`path\` and \`receive()\`, as webChat() or slackAdapter(…) returns).`);
    }
  });
  const adapters = [...(given as Adapter[])];
  // The operational routes are looked up first: a webhook on one of their paths would never be reached.
  const operational = Object.entries(operationalPaths(routes)).filter(([, path]) => path !== undefined);
  adapters.forEach((adapter, index) => {
    // A path not from the root is never requested; a part of one character or fewer cannot be split.
    if (!adapter.path.startsWith('/')) throw new ConfigError(`createBot: \`adapters[${index}]\` ("${adapter.platform}") has the path ${JSON.stringify(adapter.path)}; it must start with /.`);
    const { maxChars } = adapter;
    if (maxChars !== undefined && !(Number.isInteger(maxChars) && maxChars >= 2)) {
      throw new ConfigError(`createBot: \`adapters[${index}]\` ("${adapter.platform}") has maxChars ${String(maxChars)}; it must be an integer of at least 2 (or left out: no splitting).`);
    }
    // Its webhook, and its own routes on one exact path (a prefix route only loses that one path).
    for (const path of [adapter.path, ...(adapter.routes ?? []).map((r) => r.path).filter((p) => p === '/' || !p.endsWith('/'))]) {
      const route = operational.find(([, taken]) => taken === path)?.[0];
      if (route) throw new ConfigError(`createBot: \`adapters[${index}]\` ("${adapter.platform}") has the path ${path}, which is routes.${route}. Fix: give the adapter another path, or move the route (routes: { ${route}: '/other' }).`);
    }
  });
  // Replies find their adapter by platform, and requests by path: a second one would never be reached.
  for (const field of ['platform', 'path'] as const) {
    const first = new Map<string, number>();
    adapters.forEach((adapter, index) => {
      const earlier = first.get(adapter[field]);
      if (earlier !== undefined) {
        throw new ConfigError(`createBot: \`adapters[${earlier}]\` and \`adapters[${index}]\` share the ${field} ${JSON.stringify(adapter[field])}; give each platform one adapter.`);
      }
      first.set(adapter[field], index);
    });
  }
  refuseWebhookOnPostRoute(adapters);
  return adapters;
}

/**
 * A webhook (always POST) on the path of an adapter's own POST route (the web chat's
 * /web/sessions, a prefix route's path below it): one of the two would never be reached, and the
 * platform's webhooks would get the other's answer (a 201 Twilio takes for delivered).
 */
function refuseWebhookOnPostRoute(adapters: readonly Adapter[]): void {
  adapters.forEach((adapter, index) => {
    adapters.forEach((other, otherIndex) => {
      const route = (other.routes ?? []).find((r) => r.method === 'POST' && routeMatches(r, adapter.path));
      if (!route) return;
      throw new ConfigError(
        `createBot: \`adapters[${index}]\` ("${adapter.platform}") has the path ${adapter.path}, where \`adapters[${otherIndex}]\` ("${other.platform}") serves POST ${route.path}: ` +
          "its webhooks would never reach it. Fix: give the adapter another path (for parley serve, its platform's path variable).",
      );
    });
  });
}

function isAdapter(value: unknown): value is Adapter {
  const candidate = value as Partial<Adapter> | null | undefined;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.platform === 'string' && typeof candidate.path === 'string' && typeof candidate.receive === 'function';
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (isAdapter(value)) return `one adapter (${JSON.stringify(value.platform)}) rather than an array: wrap it, [adapter]`;
  if (typeof value === 'object') return `an object with keys ${JSON.stringify(Object.keys(value).slice(0, 5))}`;
  return `${typeof value} ${JSON.stringify(value)?.slice(0, 40) ?? ''}`.trim();
}
