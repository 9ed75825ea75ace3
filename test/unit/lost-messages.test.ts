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

  it("tells notices (a rate-limit warning, a queued apology) apart from people's messages", async () => {
    const queue = new MemoryQueue<unknown>({ attempts: 1, backoffMs: 1, maxBackoffMs: 1 });
    const to = message(1).conversation;
    await queue.add({ id: 'slack.Ev1', group: 'slack.C1', data: { type: 'message', message: message(1) } });
    await queue.add({ id: 'notice.slack.Ev2', group: 'slack.C2', data: { type: 'notice', conversation: to, reply: { kind: 'notice', text: 'slow down' } } });
    await queue.add({ id: 'apology.slack.Ev3', group: 'apology.slack.Ev3', data: { type: 'notice', conversation: to, reply: { kind: 'apology', text: 'sorry' } } });
    const lost = lostOnExit(queue, new AnsweringHere());
    expect(lost.map((job) => [job.job, job.notice ?? false])).toEqual([['slack.Ev1', false], ['notice.slack.Ev2', true], ['apology.slack.Ev3', true]]);
    const lines: { level: number; msg: string; lost: number; notices?: number; messages: unknown[] }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    logLost(logger, lost, { timeoutMs: 1000 });
    logLost(logger, lost.slice(1), { exit: 'second SIGTERM' });
    expect(lines[0]).toMatchObject({ level: 50, lost: 1, notices: 2 });
    expect(lines[0]!.messages).toHaveLength(3);
    expect(lines[0]!.msg).toContain('shutdown: 1 message(s) not answered and 2 notice(s) not posted');
    // Only notices: no message is said to be lost.
    expect(lines[1]).toMatchObject({ level: 50, lost: 0, notices: 2 });
    expect(lines[1]!.msg).toMatch(/^shutdown: 2 notice\(s\) not posted .* before exiting \(second SIGTERM\) are lost/);
    expect(lines[1]!.msg).not.toContain('message(s)');
  });

  it('names nothing for a queue that keeps its jobs (Redis)', () => {
    const kept = { volatile: false, unfinishedJobs: () => [{ id: 'x', group: 'g', data: { type: 'message', message: message(1) } }] };
    expect(lostOnExit(kept as never, new AnsweringHere())).toEqual([]);
  });
});
