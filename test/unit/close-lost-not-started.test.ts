/**
 * bot.close() with the in-memory queue, its drain ending with time left: a waiting message it chose
 * not to start (the slowest recent answer would not fit in what is left of SHUTDOWN_TIMEOUT_MS) is
 * named lost as not started for lack of time, not as "not answered within SHUTDOWN_TIMEOUT_MS"
 * (which it said, seconds before the deadline); one still running at the deadline is told apart.
 */
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeWithin } from '../../src/bot-close.js';
import { AnsweringHere, logLost, lostOnExit } from '../../src/lost-messages.js';
import { MemoryQueue } from '../../src/queue/index.js';
import type { InboundMessage } from '../../src/index.js';

const message = (n: number): InboundMessage =>
  ({ id: `Ev${n}`, platform: 'slack', conversation: { platform: 'slack', id: `T1:C${n}:1.0` }, user: { id: 'U1' }, text: `text ${n}`, receivedAt: new Date(0).toISOString(), raw: {} }) as InboundMessage;

type Line = { level: number; msg: string; lost?: number; notStarted?: number; timeoutMs?: number; messages: { job: string; notStarted?: true }[] };

describe('the lost-messages line of a drain that did not start a waiting message', () => {
  afterEach(() => vi.useRealTimers());

  it('says it was not started for too little of SHUTDOWN_TIMEOUT_MS left, and marks it so', async () => {
    // The clock moves only when told: the running answer "takes" 6 s of a 10 s drain, so the waiting
    // one (expected to take 1.5 × 6 s) does not fit in the 4 s left, and the drain ends there.
    vi.useFakeTimers({ toFake: ['Date'] });
    const lines: Line[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const queue = new MemoryQueue<unknown>({ attempts: 1, backoffMs: 1, maxBackoffMs: 1 });
    let finish!: () => void;
    const started: string[] = [];
    queue.process(async (job) => {
      started.push(job.id);
      await new Promise<void>((resolve) => (finish = resolve));
      vi.setSystemTime(Date.now() + 6000);
    }, { concurrency: 1 });
    for (let n = 0; n < 2; n++) await queue.add({ id: `slack.Ev${n}`, group: `slack.C${n}`, data: { type: 'message', message: message(n) } });
    expect(started).toEqual(['slack.Ev0']);
    const here = new AnsweringHere();
    const closing = closeWithin(
      { servers: [], adapters: [], queue, running: () => 0, lost: () => lostOnExit(queue, here), release: async () => undefined, drop: async () => undefined, logger },
      10_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    finish();
    expect(await closing).toEqual({ unfinished: 1 });
    expect(started).toEqual(['slack.Ev0']);
    const lost = lines.filter((line) => line.msg.includes('are lost'));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ level: 50, lost: 1, notStarted: 1, timeoutMs: 10_000 });
    expect(lost[0]!.messages).toEqual([{ job: 'slack.Ev1', platform: 'slack', conversation: 'T1:C1:1.0', notStarted: true }]);
    expect(lost[0]!.msg).toContain('not started, too little of SHUTDOWN_TIMEOUT_MS left to answer them');
    expect(lost[0]!.msg).not.toContain('within SHUTDOWN_TIMEOUT_MS');
    expect(lost[0]!.msg).not.toContain('still running');
  });

  it('tells the ones not started from those still running when the drain ended, naming every id', () => {
    const lines: Line[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    logLost(logger, [{ job: 'slack.Ev1', platform: 'slack', conversation: 'T1:C1:1.0' }], { timeoutMs: 1000 });
    logLost(
      logger,
      [
        { job: 'slack.Ev2', platform: 'slack', conversation: 'T1:C2:1.0' },
        { job: 'slack.Ev3', platform: 'slack', conversation: 'T1:C3:1.0', notStarted: true },
        { job: 'slack.Ev4', platform: 'slack', conversation: 'T1:C4:1.0', notStarted: true },
      ],
      { timeoutMs: 1000 },
    );
    expect(lines[0]!.msg).toMatch(/^shutdown: 1 message\(s\) not answered are lost: still running \(or waiting for a retry or their turn\) when the drain ended \(held/);
    expect(lines[0]!.notStarted).toBeUndefined();
    expect(lines[1]).toMatchObject({ lost: 3, notStarted: 2, timeoutMs: 1000 });
    expect(lines[1]!.messages.map((m) => m.job)).toEqual(['slack.Ev2', 'slack.Ev3', 'slack.Ev4']);
    expect(lines[1]!.msg).toContain('are lost: 2 not started, too little of SHUTDOWN_TIMEOUT_MS left to answer them; 1 still running (or waiting for a retry or their turn) when the drain ended');
  });
});
