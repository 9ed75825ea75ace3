/**
 * parley's routes, independent of any server framework: webhooks, adapter routes, health,
 * readiness and metrics. The Node middleware and the fetch handler both feed this.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { HttpError, mediaTypeOf, pathOf, type Adapter, type HttpRequest, type HttpResponse, type Received, type Route } from '../adapter.js';
import type { Metrics } from '../observe/index.js';
import { AckDeadlineError, logLateAck, withinAckBudget } from './ack-budget.js';
import { ClientClosedError } from './body.js';
import { refuseEncodedBody } from './content-encoding.js';
import { rethrowBodyRefusal } from './receive-failure.js';
import { logFailure, logLostDelivery, logRefusal } from './refusals.js';
import { json, jsonError } from './responses.js';

/** One of parley's own routes; `unlessMounted`: mounted in an app (`middleware`), its path goes to the app instead. */
export type OwnRoute = Route & { unlessMounted?: boolean };

export interface RouterDeps {
  adapters(): readonly Adapter[];
  logger: Logger;
  metrics: Metrics;
  /** Readiness: each dependency's state; any not "ok" makes /readyz answer 503. */
  readiness(): Promise<Record<string, string>>;
  /**
   * Each adapter's state ("starting", "ready", "failed: …"), shown by /readyz but never making it
   * 503: one platform's outage must not take the whole process out of a load balancer.
   */
  adapterStates?(): Record<string, string>;
  /**
   * Hand verified messages to the pipeline; returns the platform's answer. Throws when nothing could
   * take them. `request`: the webhook's (its `signal` says the client closed the connection);
   * `requestId`: its X-Request-Id, carried to the log lines of its messages' answers.
   */
  accept(adapter: Adapter, received: Received, request?: HttpRequest, requestId?: string): Promise<HttpResponse>;
  /**
   * How long verifying a webhook and taking its messages may take before it is answered 503
   * (ack-budget.ts); undefined, or absent: as long as it takes.
   */
  ackBudgetMs?(adapter: Adapter): number | undefined;
  /** The bot's own routes besides the adapters' (the operator console). */
  routes?(): readonly OwnRoute[];
  /** Paths of the operational routes; undefined turns one off. */
  paths: { health?: string; ready?: string; metrics?: string };
}

type Target =
  | { kind: 'webhook'; adapter: Adapter }
  | { kind: 'route'; adapter: Adapter; route: Route }
  | { kind: 'own'; route: Route }
  | { kind: 'health' | 'ready' | 'metrics' | 'reachable' }
  /** `webhook`: the path is the adapter's webhook (counted as one received, and refused). */
  | { kind: 'wrong_method'; allow: string; adapter?: Adapter; webhook?: boolean };

export interface Router {
  /** Whether parley answers this path (otherwise an embedding app's next handler does). */
  owns(path: string): boolean;
  /** Whether this request carries a body parley must read (a webhook or an adapter POST route). */
  wantsBody(method: string, path: string): boolean;
  /**
   * Answer a request (a path nothing serves gets 404). `refused`: the HTTP layer refused it before
   * reading it all (a body over BODY_LIMIT_BYTES, one a body parser already consumed); it is
   * answered, logged and counted as a refusal of its route.
   */
  handle(request: HttpRequest, refused?: HttpError): Promise<HttpResponse>;
}

/** Build the router over the bot's adapters. */
export function createRouter(deps: RouterDeps): Router {
  // The request line carries only method, path, status, timing and ids — nothing to redact — so it
  // skips the redaction pass that every other log line gets (it is the one line per request).
  const accessLog = deps.logger.child({}, { redact: { paths: [] } });
  // A request is looked up three times (owns, wantsBody, handle): the answers are kept while the
  // route lists stay the same arrays, for a bounded number of paths (the sender chooses paths).
  const found = new Map<string, Target | undefined>();
  let foundFor: { routes: readonly Route[] | undefined; adapters: readonly Adapter[] } | undefined;
  /** `mounted`: as the app parley is mounted in sees it (without the routes that are its own then). */
  function find(method: string, path: string, mounted = false): Target | undefined {
    const routes = deps.routes?.();
    const adapters = deps.adapters();
    if (foundFor?.routes !== routes || foundFor?.adapters !== adapters || found.size >= MAX_REMEMBERED_PATHS) {
      found.clear();
      foundFor = { routes, adapters };
    }
    const key = `${mounted ? 'mounted ' : ''}${method} ${path}`;
    if (found.has(key)) return found.get(key);
    const target = lookUp(method, path, (mounted ? routes?.filter((route) => !route.unlessMounted) : routes) ?? [], adapters);
    found.set(key, target);
    return target;
  }

  function lookUp(method: string, path: string, routes: readonly Route[], adapters: readonly Adapter[]): Target | undefined {
    const { health, ready, metrics } = deps.paths;
    const operational = path === health ? 'health' : path === ready ? 'ready' : path === metrics ? 'metrics' : undefined;
    if (operational) return method === 'GET' || method === 'HEAD' ? { kind: operational } : { kind: 'wrong_method', allow: 'GET' };
    let allowed: string | undefined;
    let allowedBy: Adapter | undefined;
    let webhook = false;
    for (const route of routes) {
      if (!routeMatches(route, path)) continue;
      if (route.method === method || (route.method === 'GET' && method === 'HEAD')) return { kind: 'own', route };
      allowed = allowed ? `${allowed}, ${route.method}` : route.method;
    }
    for (const adapter of adapters) {
      if (path === adapter.path) {
        if (method === 'POST') return { kind: 'webhook', adapter };
        allowed = 'POST';
        allowedBy = adapter;
        webhook = true;
      }
      for (const route of adapter.routes ?? []) {
        if (!routeMatches(route, path)) continue;
        if (route.method === method || (route.method === 'GET' && method === 'HEAD')) return { kind: 'route', adapter, route };
        allowed = allowed ? `${allowed}, ${route.method}` : route.method;
        allowedBy = adapter;
      }
    }
    if (!allowed) return undefined;
    // A platform checks a webhook URL with a HEAD before it saves it (Intercom): it is there, nothing more.
    if (webhook && method === 'HEAD') return { kind: 'reachable' };
    return allowedBy ? { kind: 'wrong_method', allow: allowed, adapter: allowedBy, ...(webhook ? { webhook } : {}) } : { kind: 'wrong_method', allow: allowed };
  }

  async function dispatch(target: Target, request: HttpRequest, requestId: string): Promise<HttpResponse> {
    switch (target.kind) {
      case 'health':
        return json(200, { status: 'ok' });
      case 'reachable':
        return { status: 200, headers: { allow: 'POST, HEAD' }, outcome: 'control' };
      case 'ready': {
        const checks = await deps.readiness();
        const ok = Object.values(checks).every((state) => state === 'ok');
        const adapters = deps.adapterStates?.();
        return json(ok ? 200 : 503, { status: ok ? 'ready' : 'not_ready', checks, ...(adapters ? { adapters } : {}) });
      }
      case 'metrics':
        return { status: 200, headers: { 'content-type': deps.metrics.registry.contentType }, body: await deps.metrics.registry.metrics() };
      case 'wrong_method': {
        const message = `Use ${target.allow} on this path.`;
        if (target.webhook && target.adapter) {
          // A webhook sent with the wrong method is one received and one refused, as a 415 is.
          countReceived(target.adapter.platform);
          logRefusal(deps, target.adapter.platform, new HttpError(405, 'method_not_allowed', message), request.remoteAddress);
        }
        return jsonError(405, 'method_not_allowed', message, { allow: target.allow });
      }
      case 'route':
      case 'own':
        if (request.method === 'POST') refuseEncodedBody(request);
        return target.route.handle(request);
      case 'webhook':
        return webhook(target.adapter, request, requestId);
    }
  }

  // One counter child per platform: prom-client hashes a label object on every inc() otherwise.
  const received = new Map<string, { inc(): void }>();
  const countReceived = (platform: string) => {
    let counter = received.get(platform);
    if (!counter) received.set(platform, (counter = deps.metrics.webhooksReceived.labels(platform)));
    counter.inc();
  };

  async function webhook(adapter: Adapter, request: HttpRequest, requestId: string): Promise<HttpResponse> {
    const platform = adapter.platform;
    countReceived(platform);
    refuseEncodedBody(request);
    const type = mediaTypeOf(request);
    if (!adapter.contentTypes.includes(type)) {
      throw new HttpError(415, 'unsupported_media_type', `Send ${adapter.contentTypes.join(' or ')}; got "${type || 'no content type'}".`);
    }
    const started = performance.now();
    const received = await adapter.receive(request).catch(rethrowBodyRefusal);
    const budgetMs = deps.ackBudgetMs?.(adapter);
    const take = () => deps.accept(adapter, received, request, requestId);
    let response: HttpResponse;
    try {
      if (received.messages.length === 0) response = received.response;
      else if (budgetMs === undefined) response = await take();
      else response = await withinAckBudget(take, budgetMs - (performance.now() - started), adapter.ackWithinMs!, (error) => lateAck(received, platform, error));
    } catch (error) {
      // On the platform's last delivery the message is lost: named, whatever the summary leaves out.
      // Still under way at the deadline, it may be taken after all: lateAck tells.
      if (received.lastDelivery && !(error instanceof AckDeadlineError && error.underWay)) logLostDelivery(deps.logger, platform, received.lastDelivery, error);
      throw error;
    }
    if (received.afterAck && response.status < 300) {
      if (received.afterAckBeforeResponse) await afterAckNow(received.afterAck, platform);
      else runAfterAck(received.afterAck, platform);
    }
    return response;
  }

  function lateAck(received: Received, platform: string, error: unknown): void {
    logLateAck(deps.logger, platform, error);
    if (error !== undefined && received.lastDelivery) logLostDelivery(deps.logger, platform, received.lastDelivery, error);
  }

  /**
   * The HTTP layers write the answer in the same turn as handle() returns (no I/O in between), so a
   * callback queued with setImmediate runs after the answer is on its way.
   */
  function runAfterAck(afterAck: () => Promise<void>, platform: string): void {
    setImmediate(() => void afterAckNow(afterAck, platform));
  }

  function afterAckNow(afterAck: () => Promise<void>, platform: string): Promise<void> {
    return afterAck().catch((error: unknown) => deps.logger.error({ err: error, platform }, 'work after the acknowledgement failed'));
  }

  return {
    // Mounted in an app, a path parley serves only when alone (the console while it is off) is the app's.
    owns: (path) => find('GET', path, true) !== undefined || find('POST', path, true) !== undefined,
    wantsBody: (method, path) => {
      const target = find(method, path);
      return target?.kind === 'webhook' || ((target?.kind === 'route' || target?.kind === 'own') && method === 'POST');
    },
    async handle(request, refused) {
      const started = performance.now();
      const requestId = requestIdOf(request.headers['x-request-id']);
      const path = pathOf(request);
      const target = find(request.method, path);
      const adapter = target && 'adapter' in target ? target.adapter : undefined;
      const platform = adapter?.platform;
      let response: HttpResponse;
      // Answers the router makes instead of the adapter: the adapter may add to them (decorateRefusal).
      let refusal = target?.kind === 'wrong_method';
      try {
        if (refused instanceof ClientClosedError) {
          // Nothing was taken and no one is left to answer: an info line, not a refusal (nor counted).
          deps.logger.info({ method: request.method, path, remoteAddress: request.remoteAddress, platform }, 'the client closed the connection before its request body ended; nothing taken');
          response = jsonError(refused.status, refused.reason, refused.message);
        } else if (refused) {
          // A webhook refused before it was read all is still one received, as one refused after is.
          if (target?.kind === 'webhook') countReceived(target.adapter.platform);
          throw refused;
        } else {
          response = target ? await dispatch(target, request, requestId) : jsonError(404, 'not_found', `Nothing is served at ${path}.`);
        }
      } catch (error) {
        response = failure(error, platform, deps, request, target?.kind === 'webhook');
        refusal = true;
      }
      if (refusal && adapter?.decorateRefusal) response = await decorated(adapter, request, response, deps.logger);
      // Every request's line is info (issue 2), a webhook taken with a 2xx too: written in batches
      // (src/observe/logger.ts), it costs about 5 µs, within the ingress bench's spread. A webhook's
      // says what became of its messages (`outcome`: outcome.ts), which its status alone does not.
      if (accessLog.isLevelEnabled('info')) {
        const durationMs = Math.round((performance.now() - started) * 100) / 100;
        accessLog.info({ requestId, method: request.method, path, status: response.status, durationMs, platform, outcome: response.outcome }, 'request');
      }
      return { ...response, headers: { 'x-request-id': requestId, ...response.headers } };
    },
  };
}

/**
 * The caller's X-Request-Id when it reads as one (a proxy's or a tracer's id: at most 128 letters,
 * digits and `-_.:/+=`), a new one otherwise: the header is the sender's word, and a 16 KB one would
 * be written into every line of its request.
 */
function requestIdOf(given: string | undefined): string {
  return given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
}
const REQUEST_ID = /^[\w.:/+=-]{1,128}$/;

/** How many method-and-path lookups the router keeps before it starts over. */
const MAX_REMEMBERED_PATHS = 256;

/** Whether `route` serves `path`: its exact path, or below a prefix route (a path ending in /). */
export function routeMatches(route: Pick<Route, 'path'>, path: string): boolean {
  return route.path.endsWith('/') && route.path.length > 1 ? path.startsWith(route.path) : path === route.path;
}

/** `response` as the adapter's `decorateRefusal` returns it; as it is when that throws. */
async function decorated(adapter: Adapter, request: HttpRequest, response: HttpResponse, logger: Logger): Promise<HttpResponse> {
  try {
    return await adapter.decorateRefusal!(request, response);
  } catch (error) {
    logger.error({ err: error, platform: adapter.platform }, 'decorateRefusal failed; the refusal is sent as it is');
    return response;
  }
}

/** A user-caused error becomes its small JSON answer; anything else is ours: 503 so the platform redelivers. */
function failure(error: unknown, platform: string | undefined, deps: RouterDeps, request: HttpRequest, webhook: boolean): HttpResponse {
  if (error instanceof HttpError) {
    logRefusal(deps, platform, error, request.remoteAddress, pathOf(request));
    return jsonError(error.status, error.reason, error.message, error.headers);
  }
  logFailure(deps, platform, error);
  // Only a webhook's failure is a message not taken: a page shows this text as it is, and a visitor
  // told so while the transcript could not be read would type again a message that was taken.
  const text = webhook ? 'parley could not take this message right now; please retry.' : 'parley cannot answer right now; please retry in a moment.';
  return jsonError(503, 'unavailable', text, { 'retry-after': '5' });
}
