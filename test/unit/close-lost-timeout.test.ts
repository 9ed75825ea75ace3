/**
 * bot.close() past SHUTDOWN_TIMEOUT_MS (a store that never closes) with the in-memory queue: the
 * jobs still waiting behind the one running are lost with the process as much as the running one,
 * so `unfinished` counts them, as the "… are lost" line names them (it said only the running one).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { closeWithin } from '../../src/bot-close.js';
import { AnsweringHere, lostOnExit } from '../../src/lost-messages.js';
import { MemoryQueue } from '../../src/queue/index.js';
import type { InboundMessage } from '../../src/index.js';

const message = (n: number): InboundMessage =>
  ({ id: `Ev${n}`, platform: 'slack', conversation: { platform: 'slack', id: `T1:C${n}:1.0` }, user: { id: 'U1' }, text: `text ${n}`, receivedAt: new Date(0).toISOString(), raw: {} }) as InboundMessage;

describe('closing past the deadline with the in-memory queue', () => {
  it('counts the waiting jobs unfinished, as many as it names lost', async () => {
    const lines: { msg: string; lost?: number; notStarted?: number; unfinished?: number }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const queue = new MemoryQueue<unknown>({ attempts: 1, backoffMs: 1, maxBackoffMs: 1 });
    let running = 0;
    // One job at a time, and it never ends: the two behind it never start.
    queue.process(() => (running++, new Promise(() => undefined)), { concurrency: 1 });
    for (let n = 0; n < 3; n++) await queue.add({ id: `slack.Ev${n}`, group: `slack.C${n}`, data: { type: 'message', message: message(n) } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(running).toBe(1);
    const here = new AnsweringHere();
    const result = await closeWithin(
      // A release that never ends (a store not answering): the orderly close loses the race.
      { servers: [], adapters: [], queue, running: () => running, lost: () => lostOnExit(queue, here), release: () => new Promise(() => undefined), drop: async () => undefined, logger },
      200,
    );
    const lost = lines.find((line) => line.msg.includes('are lost'));
    expect(lost?.lost).toBe(3);
    // The two waiting ones never started; the running one was cut short at the deadline.
    expect(lost?.notStarted).toBe(2);
    expect(lost?.msg).toContain('2 not started, too little of SHUTDOWN_TIMEOUT_MS left to answer them; 1 still running');
    expect(result.unfinished).toBe(3);
    expect(lines.find((line) => line.msg.startsWith('shutdown did not finish'))?.unfinished).toBe(3);
  });
});
