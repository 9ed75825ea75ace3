/**
 * The shared AI limit across a Redis outage, on a redis-server of the test's own (stopped and
 * started again, or frozen; the shared one is never touched): a slot given back while Redis is down
 * is given back once it returns, not held until its lease runs out; a slot whose acquire timed out
 * while Redis was frozen, and that Redis added once it woke, is taken back.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import { RedisAdaptiveLimit } from '../../src/ai/redis-adaptive-limit.js';
import { connectRedis, type RedisClient } from '../../src/store/index.js';
import { startFreezingProxy, type FreezingProxy } from '../helpers/freezing-proxy.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { waitFor } from './redis-helpers.js';

const opened: { disconnect(): void }[] = [];
let server: PrivateRedis | undefined;
let proxy: FreezingProxy | undefined;
afterEach(async () => {
  for (const client of opened.splice(0)) client.disconnect();
  await proxy?.close();
  await server?.stop();
  server = proxy = undefined;
});

/** The two connections a worker has: the fail-fast one (acquires) and the patient one (releases). */
function connections(url: string, patientRetries = 30): { fast: RedisClient; patient: RedisClient; admin: Redis } {
  const fast = connectRedis(url, { enableAutoPipelining: true });
  const patient = connectRedis(url, { enableOfflineQueue: true, maxRetriesPerRequest: patientRetries, enableAutoPipelining: true });
  const admin = new Redis(url);
  for (const client of [fast, patient, admin]) {
    client.on('error', () => undefined);
    opened.push(client);
  }
  return { fast, patient, admin };
}

const leasesKey = (prefix: string) => `${prefix}:{${prefix}:ai-limit}:leases`;

describe('adaptive limit on Redis across an outage', () => {
  it('gives back on Redis, once it returns, the slots released while it was down', async () => {
    server = await startPrivateRedis([]);
    const { fast, patient, admin } = connections(server.url);
    const limit = new RedisAdaptiveLimit(fast, { max: 2, leaseMs: 120_000 }, 'outage', { connection: () => patient });
    await waitFor(() => fast.status === 'ready' && patient.status === 'ready', 3000, 'the connections');
    const held = [(await limit.tryAcquire()) as { token: string }, (await limit.tryAcquire()) as { token: string }];
    expect(held.every((admission) => 'token' in admission && !admission.token.startsWith('local:'))).toBe(true);
    expect(await admin.zcard(leasesKey('outage'))).toBe(2);

    await server.stop();
    await waitFor(() => fast.status !== 'ready', 3000, 'the fail-fast connection to notice');
    // The calls end during the outage: their releases must not hold the caller up...
    const startedAt = Date.now();
    for (const { token } of held) await limit.release(token, { kind: 'ok' });
    expect(Date.now() - startedAt).toBeLessThan(2000);
    // ...and a slot taken from this process's own limit meanwhile is given back there, not on Redis.
    const local = (await limit.tryAcquire()) as { token: string };
    expect(local.token).toMatch(/^local:/);
    await limit.release(local.token, { kind: 'ok' });
    const again = [await limit.tryAcquire(), await limit.tryAcquire()];
    expect(again.every((admission) => 'token' in admission && admission.token.startsWith('local:'))).toBe(true);
    for (const admission of again) await limit.release((admission as { token: string }).token, { kind: 'ok' });

    await server.start();
    // The append-only file kept the two leases; the queued releases free them within seconds (not 2 minutes).
    await waitFor(async () => (await admin.zcard(leasesKey('outage')).catch(() => -1)) === 0, 5000, 'the held slots to be given back');
    await waitFor(() => fast.status === 'ready', 5000, 'the fail-fast connection to come back');
    const after = [await limit.tryAcquire(), await limit.tryAcquire()];
    expect(after.every((admission) => 'token' in admission && !admission.token.startsWith('local:'))).toBe(true);
  }, 20_000);

  it('warns once when releases are lost for good, not once per slot', async () => {
    server = await startPrivateRedis([]);
    const { fast, patient } = connections(server.url, 1);
    const warnings: string[] = [];
    const logger = { warn: (_fields: unknown, message: string) => warnings.push(message) } as unknown as Logger;
    const limit = new RedisAdaptiveLimit(fast, { max: 3, leaseMs: 120_000 }, 'lost', { connection: () => patient, logger });
    await waitFor(() => fast.status === 'ready' && patient.status === 'ready', 3000, 'the connections');
    const held = [await limit.tryAcquire(), await limit.tryAcquire(), await limit.tryAcquire()] as { token: string }[];
    await server.stop();
    await waitFor(() => patient.status !== 'ready', 3000, 'the patient connection to notice');
    for (const { token } of held) await limit.release(token, { kind: 'failed' });
    await waitFor(() => warnings.length > 0, 5000, 'the warning');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(warnings).toEqual(['could not give AI slots back on Redis; they free themselves when their leases end']);
  }, 20_000);

  it('takes back a slot whose acquire timed out (Redis frozen) and that Redis added when it woke', async () => {
    server = await startPrivateRedis([]);
    let armed = false;
    proxy = await startFreezingProxy(server, (command) => armed && command.includes('ai-limit}:leases'), 3000);
    const { fast, patient } = connections(proxy.url);
    const admin = new Redis(server.url);
    opened.push(admin);
    const limit = new RedisAdaptiveLimit(fast, { max: 1, leaseMs: 120_000 }, 'frozen', { connection: () => patient });
    await waitFor(() => fast.status === 'ready' && patient.status === 'ready', 3000, 'the connections');
    const warm = (await limit.tryAcquire()) as { token: string };
    await limit.release(warm.token, { kind: 'ok' });
    armed = true;
    // The fail-fast connection gives up after 1.5 s: this process's own limit lends the slot.
    const lent = (await limit.tryAcquire()) as { token: string };
    expect(lent.token).toMatch(/^local:/);
    expect(proxy.frozen).toBe(1);
    await limit.release(lent.token, { kind: 'ok' });
    // Redis wakes and carries the acquire out: its lease must not outlive it.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await waitFor(async () => (await admin.dbsize()) > 0, 3000, 'Redis to be awake');
    expect(await admin.zcard(leasesKey('frozen'))).toBe(0);
    const next = await limit.tryAcquire();
    expect('token' in next && !next.token.startsWith('local:')).toBe(true);
  }, 20_000);
});
