import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AnsweringHere, logLost, lostOnExit } from '../../src/lost-messages.js';
import { MemoryQueue } from '../../src/queue/index.js';
import type { InboundMessage } from '../../src/index.js';

const message = (n: number): InboundMessage =>
  ({ id: `Ev${n}`, platform: 'slack', conversation: { platform: 'slack', id: `T1:C${n}:1.0` }, user: { id: 'U1' }, text: `secret text ${n}`, receivedAt: new Date(0).toISOString(), raw: {} }) as InboundMessage;

describe('what a shutdown leaves unanswered in memory', () => {
  it('names a volatile queue\'s jobs and the answers given here once each, by ids, a hundred a line', async () => {
    const queue = new MemoryQueue<unknown>({ attempts: 1, backoffMs: 1, maxBackoffMs: 1 });
    for (let n = 0; n < 150; n++) await queue.add({ id: `slack.Ev${n}`, group: `slack.C${n}`, data: { type: 'message', message: message(n) } });
    const here = new AnsweringHere();
    const never = new Promise(() => undefined);
    // One message answered here, tracked twice (its answer, then its reply posted instead): one lost message.
    here.track(never, message(500));
    here.track(never, message(500));
    expect(here.size).toBe(1);
    const lost = lostOnExit(queue, here);
    expect(lost).toHaveLength(151);
    const lines: { level: number; lost: number; messages: unknown[] }[] = [];
    logLost(pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) }), lost, { timeoutMs: 1000 });
    expect(lines.map((line) => [line.level, line.lost, line.messages.length])).toEqual([[50, 151, 100], [50, 151, 51]]);
    expect(lines[1]!.messages.at(-1)).toEqual({ job: 'slack.Ev500', platform: 'slack', conversation: 'T1:C500:1.0' });
    expect(JSON.stringify(lines)).not.toContain('secret text');
  });

  it('says why the process exits without its drain, and which messages were sent the apology', () => {
    const lines: { level: number; msg: string; lost: number; apologised?: number; exit?: string; messages: unknown[] }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    logLost(logger, [{ job: 'slack.Ev1', platform: 'slack', conversation: 'T1:C1:1.0' }], { exit: 'second SIGINT' });
    logLost(logger, [{ job: 'slack.Ev2', platform: 'slack', conversation: 'T1:C2:1.0', apologised: true }, { job: 'slack.Ev3', platform: 'slack', conversation: 'T1:C3:1.0' }], { timeoutMs: 1000 });
    expect(lines[0]).toMatchObject({ level: 50, lost: 1, exit: 'second SIGINT' });
    expect(lines[0]!.msg).toContain('before exiting (second SIGINT)');
    expect(lines[0]!.apologised).toBeUndefined();
    expect(lines[1]).toMatchObject({ level: 50, lost: 2, apologised: 1 });
    expect(lines[1]!.msg).toContain('1 of them sent the apology');
  });

  it('names nothing for a queue that keeps its jobs (Redis)', () => {
    const kept = { volatile: false, unfinishedJobs: () => [{ id: 'x', group: 'g', data: { type: 'message', message: message(1) } }] };
    expect(lostOnExit(kept as never, new AnsweringHere())).toEqual([]);
  });
});
