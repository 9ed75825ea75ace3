/**
 * What a connection does with READONLY refusals (reconnectOnFailover): within FAILOVER_RESEND_MS a
 * failover (reconnect; a patient one resends), past it a replica named for good (the caller gets
 * the refusal; a reconnect only once per REPLICA_RECONNECT_MS). A clock of the test's own.
 */
import { describe, expect, it } from 'vitest';
import { FAILOVER_RESEND_MS, REPLICA_RECONNECT_MS, reconnectOnFailover } from '../../src/store/redis-connection.js';

const READONLY = new Error("READONLY You can't write against a read only replica.");

function refusals(resend: boolean) {
  let now = 1_000_000;
  const decide = reconnectOnFailover(resend, '127.0.0.1:6390', { now: () => now });
  return { at: (ms: number) => ((now = 1_000_000 + ms), decide(READONLY)), decide };
}

describe('READONLY refusals on one connection', () => {
  it('within the failover window: reconnect each time (a patient connection resends)', () => {
    const fast = refusals(false);
    const patient = refusals(true);
    for (const ms of [0, 1000, 30_000, FAILOVER_RESEND_MS - 1]) {
      expect(fast.at(ms)).toBe(1);
      expect(patient.at(ms)).toBe(2);
    }
  });

  it('past the window: the caller gets the refusal, and the connection reconnects once per REPLICA_RECONNECT_MS', () => {
    for (const resend of [false, true]) {
      const connection = refusals(resend);
      for (let ms = 0; ms < FAILOVER_RESEND_MS; ms += 1000) connection.at(ms);
      const past = FAILOVER_RESEND_MS + 1;
      expect(connection.at(past)).toBe(1);
      // A burst of refused commands: no reconnect per command.
      for (let i = 1; i < 50; i++) expect(connection.at(past + i * 10)).toBe(false);
      expect(connection.at(past + REPLICA_RECONNECT_MS - 1)).toBe(false);
      expect(connection.at(past + REPLICA_RECONNECT_MS)).toBe(1);
      expect(connection.at(past + REPLICA_RECONNECT_MS + 1)).toBe(false);
    }
  });

  it('a pause in the refusals longer than the window starts a new failover; other errors are left alone', () => {
    const connection = refusals(true);
    for (let ms = 0; ms <= FAILOVER_RESEND_MS + 1000; ms += 1000) connection.at(ms);
    expect(connection.at(3 * FAILOVER_RESEND_MS)).toBe(2);
    expect(connection.decide(new Error('LOADING Redis is loading the dataset in memory'))).toBe(false);
  });
});
