/**
 * Bolt's per-token WebClients, bounded. Bolt (5.1.0, the newest 5.x) gives each request's listeners
 * a WebClient from `App.clients[teamId ?? enterpriseId]`, a WebClientPool whose `pool` object maps
 * token → WebClient and is never pruned. With token rotation every refreshed bot token adds a
 * client (~27 KB) that stays for the life of the process. When parley's `authorize` hands Bolt a
 * workspace's token, the clients of that workspace's other (older) tokens are dropped, so the pool
 * holds the current token's client (and, for a moment, one a request still under way asked for).
 * A client a running listener holds keeps working: it is only no longer cached.
 *
 * `App.clients` is not Bolt's public API. In Bolt 5.1.0 it is `Record<string, { pool: Record<string,
 * WebClient> }>` (dist/App.js: `class WebClientPool { pool = {} }`, `App.clients = {}`). Anything
 * else (no `clients` object, no `pool` object) is left alone: nothing is pruned.
 * test/e2e/slack-bolt-client-pool.test.ts fails when the pool grows again, e.g. after a Bolt upgrade
 * that changed this layout.
 *
 * Bolt never drops a workspace's pool either, uninstalled or not: `App.clients` would hold a client
 * (~30 KB) for every workspace that ever sent this process an event. Only the most recently used
 * `MAX_BOLT_POOLS` workspaces keep theirs; Bolt makes a dropped one again when that workspace comes back.
 */
import type { App, AuthorizeResult } from '@slack/bolt';

/** Workspaces whose Bolt client pool is kept: about 30 MB at most. */
const MAX_BOLT_POOLS = 1000;

/** Each App.clients' owners, least recently authorized first. */
const recency = new WeakMap<object, Map<string, true>>();

/** After `authorize` gave `result`: keep only the client of the token Bolt will use for its team (or enterprise); `result` unchanged. */
export function keepCurrentBoltClient(app: App, result: AuthorizeResult): AuthorizeResult {
  prune(app, result);
  return result;
}

function prune(app: App, result: AuthorizeResult): void {
  // The token and pool Bolt 5.1.0 picks (App.processEvent's selectToken and pool lookup).
  const token = result.botToken ?? result.userToken;
  const owner = result.teamId ?? result.enterpriseId;
  if (typeof token !== 'string' || typeof owner !== 'string') return;
  const clients = (app as unknown as { clients?: unknown }).clients;
  if (!isObject(clients)) return;
  dropLeastRecent(clients as Record<string, unknown>, owner);
  const entry = (clients as Record<string, unknown>)[owner];
  if (!isObject(entry)) return;
  const pool = (entry as { pool?: unknown }).pool;
  if (!isObject(pool)) return;
  for (const cached of Object.keys(pool)) {
    if (cached !== token) delete (pool as Record<string, unknown>)[cached];
  }
}

/** Note `owner` as just used; past MAX_BOLT_POOLS owners, drop the least recently used one's pool. */
function dropLeastRecent(clients: Record<string, unknown>, owner: string): void {
  let owners = recency.get(clients);
  if (!owners) recency.set(clients, (owners = new Map()));
  owners.delete(owner);
  owners.set(owner, true);
  while (owners.size > MAX_BOLT_POOLS) {
    const oldest = owners.keys().next().value!;
    owners.delete(oldest);
    delete clients[oldest];
  }
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
