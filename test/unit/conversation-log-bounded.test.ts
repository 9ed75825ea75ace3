/**
 * The conversation log as a message answered in this process writes it (conversation-log-bounded.ts):
 * a write the log has not taken within the wait no longer holds the message, and its failure after
 * that is still logged and counted, once; a failure in time is the caller's to log, as before.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { boundedLog } from '../../src/conversation-log-bounded.js';
import type { ConversationEntry, ConversationLog } from '../../src/conversation-log.js';
import { createMetrics } from '../../src/observe/index.js';
import { until } from '../helpers/until.js';

const WAIT_MS = 20;
const entry: ConversationEntry = { conversationId: 'c1', timestamp: new Date().toISOString(), platform: 'whatsapp', user: 'u1', input: 'hi', output: 'hello', model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0, latencyMs: 5 };

/** A log whose writes and reads settle only when the test says. */
function heldLog() {
  let settle!: (error?: Error) => void;
  const log: ConversationLog = {
    record: () => new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve()))),
    list: () => new Promise(() => undefined),
  };
  return { log, settle: (error?: Error) => settle(error) };
}

function setup() {
  const lines: { msg: string; level: number }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string; level: number }) });
  const metrics = createMetrics({ defaultMetrics: false });
  const failed = async () => (await metrics.conversationLogFailed.get()).values.find((value) => value.labels.platform === 'whatsapp')?.value ?? 0;
  const warned = () => lines.filter((line) => line.msg.startsWith('could not write the conversation log'));
  return { logger, metrics, failed, warned };
}

describe('boundedLog', () => {
  it('lets the message go on while the write is still under way, and logs and counts the write failing after that once', async () => {
    const { logger, metrics, failed, warned } = setup();
    const held = heldLog();
    await boundedLog(held.log, logger, metrics, WAIT_MS).record(entry);
    expect(warned()).toEqual([]);
    held.settle(new Error('Reached the max retries per request limit'));
    await until(() => warned().length === 1, 'the late failure logged');
    expect(await failed()).toBe(1);
  });

  it('passes a write that fails in time on to its caller, who logs it (not logged here as well)', async () => {
    const { logger, metrics, failed, warned } = setup();
    const held = heldLog();
    const recorded = boundedLog(held.log, logger, metrics, 60_000).record(entry);
    held.settle(new Error('refused'));
    await expect(recorded).rejects.toThrow('refused');
    expect(warned()).toEqual([]);
    expect(await failed()).toBe(0);
  });

  it('gives up a read the log does not answer: the caller writes nothing rather than wait', async () => {
    const { logger, metrics } = setup();
    await expect(boundedLog(heldLog().log, logger, metrics, WAIT_MS).list('c1', 5)).rejects.toThrow(/did not answer/);
  });
});
