/**
 * A failover behind one endpoint whose name moves (ElastiCache, Memorystore, Azure): connections
 * opened before it stay on the old primary, now a replica, which refuses their writes (READONLY).
 * Two real redis-servers and a TCP proxy standing for the endpoint; the connections as parley
 * opens them (connectRedis).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, whenReady, type RedisClient } from '../../src/store/redis-connection.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { startMovingProxy, type MovingProxy } from '../helpers/moving-proxy.js';
import { until } from '../helpers/until.js';


describe('connections open across a failover behind one endpoint', () => {
  let a: PrivateRedis;
  let b: PrivateRedis;
  let proxy: MovingProxy;
  let onB: Redis;
  let fast: RedisClient;
  let patient: RedisClient;

  beforeAll(async () => {
    a = await startPrivateRedis(['--appendonly', 'no']);
    b = await startPrivateRedis(['--appendonly', 'no', '--replicaof', '127.0.0.1', String(a.port)]);
    proxy = await startMovingProxy(a.port);
    onB = new Redis(b.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    await until(async () => (await onB.info('replication')).includes('master_link_status:up'), 'the replica to sync', 10_000);
    // Opened before the failover, as ingress's and a worker's are.
    fast = connectRedis(proxy.url);
    patient = connectRedis(proxy.url, { enableOfflineQueue: true, maxRetriesPerRequest: null });
    for (const client of [fast, patient]) client.on('error', () => undefined);
    await Promise.all([whenReady(fast), whenReady(patient)]);
    await fast.set('before', '1');
    const primary = new Redis(a.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    await until(async () => (await primary.info('replication')).includes('state=online'), 'the primary to see its replica online', 10_000);
    await primary.call('FAILOVER', 'TO', '127.0.0.1', String(b.port));
    primary.disconnect();
    await until(async () => (await onB.role())[0] === 'master', 'B to be the primary', 10_000);
    proxy.moveTo(b.port);
  }, 30_000);
  afterAll(async () => {
    fast?.disconnect();
    patient?.disconnect();
    onB?.disconnect();
    await proxy?.close();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("a worker's (patient) connection reconnects to the new primary and its refused write goes through", async () => {
    await patient.set('patient-write', '1');
    expect(await onB.get('patient-write')).toBe('1');
  });

  it("ingress's (fail-fast) connection fails a write at most once, then writes to the new primary", async () => {
    await until(() => fast.set('fast-write', '1').then(() => true, () => false), 'a write on the fail-fast connection to go through', 10_000);
    expect(await onB.get('fast-write')).toBe('1');
    expect(await onB.get('before')).toBe('1');
  });
});
