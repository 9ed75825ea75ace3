/**
 * A deploy's SIGTERM to `parley serve` on the in-memory defaults (no Redis): what is still waiting
 * in the process runs during the drain while there is clearly time for it, and what is not answered
 * within SHUTDOWN_TIMEOUT_MS is lost (Slack got its 200 and will not send it again), so it is named
 * at error, by ids, and counted.
 */
import { request, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi, type ScriptedAnswer } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startParley, type ParleyProcess } from '../helpers/processes.js';
import { appMention, DEFAULT_SIGNING_SECRET, postSlack, signSlack, type SlackEventEnvelope } from '../helpers/slack-events.js';
import { refusesConnections } from '../helpers/port.js';
import { until } from '../helpers/until.js';

interface LogLine {
  level: number;
  msg: string;
  unfinished?: number;
  lost?: number;
  apologised?: number;
  messages?: { job: string; platform: string; conversation: string; apologised?: true }[];
}

const logLines = (out: string): LogLine[] =>
  out
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);

/** The AI answers the first question once `firstAnswer` settles and never answers the others: they cannot finish before the deadline. */
const firstOnly = (index: number, firstAnswer: Promise<unknown>): ScriptedAnswer => (index === 0 ? { text: 'the first answer', hold: firstAnswer } : { hold: new Promise(() => undefined) });

describe('SIGTERM with the in-memory queue', () => {
  let ai: FakeOpenAi | undefined;
  let slack: FakeSlack | undefined;
  let parley: ParleyProcess | undefined;
  afterEach(async () => {
    if (parley?.child.exitCode === null) parley.child.kill('SIGKILL');
    await Promise.all([ai?.close(), slack?.close()]);
    ai = slack = parley = undefined;
  });

  async function serve(mode: 'queue' | 'direct', firstAnswer: Promise<unknown>, timeoutMs = 2000, answer = firstOnly): Promise<{ url: string; mention(channel: string): Promise<SlackEventEnvelope> }> {
    ai = await startFakeOpenAi((_call, index) => answer(index, firstAnswer));
    slack = await startFakeSlack();
    parley = await startParley(['serve'], {
      MODE: mode,
      OPENAI_BASE_URL: ai.url,
      SLACK_BOT_TOKEN: 'xoxb-shutdown',
      SLACK_SIGNING_SECRET: 'test-signing-secret',
      SLACK_API_URL: slack.url,
      WORKER_CONCURRENCY: '1',
      SHUTDOWN_TIMEOUT_MS: String(timeoutMs),
      RATE_LIMIT_USER_PER_MINUTE: '0',
    });
    const url = parley.url!;
    return {
      url,
      async mention(channel) {
        const event = appMention({ text: `hello from ${channel}`, channel });
        expect((await postSlack(`${url}/slack/events`, event)).status).toBe(200);
        return event;
      },
    };
  }

  it('runs the waiting messages during the drain, and names at error each acknowledged message it could not answer', async () => {
    let answerFirst: (value?: unknown) => void = () => undefined;
    // Time enough left, once the first answer comes, for another as slow: the second message starts.
    const { url, mention } = await serve('queue', new Promise((resolve) => (answerFirst = resolve)), 6000);
    const answered = await mention('C0FIRST');
    const cutShort = await mention('C0SECOND');
    const neverStarted = await mention('C0THIRD');
    await until(() => ai!.calls.length === 1, 'the first AI call to start');
    parley!.child.kill('SIGTERM');
    // The port closes first: a webhook sent during the drain finds no server, and Slack sends it again later, to the next process.
    // Asked on connections of their own: a pooled keep-alive one may be swept or still open meanwhile (helpers/port.ts).
    await until(() => refusesConnections(url), 'the port to close');
    expect(await refusesConnections(url)).toBe(true);
    // Only now does the first answer come: the second message, still waiting, is run by the drain (its AI call starts), one at a time.
    answerFirst();
    await until(() => ai!.calls.length === 2, 'the waiting message to be run during the drain');
    expect(await parley!.exited).toBe(0);
    expect(ai!.calls.length).toBe(2);
    expect(slack!.callsTo('chat.postMessage').map((call) => call.args.channel)).toEqual(['C0FIRST']);
    const lines = logLines(parley!.logs());
    const lost = lines.filter((line) => line.msg.includes('are lost'));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ level: 50, lost: 2 });
    // The deadline came with the second still running: no time was left to apologise to the third.
    expect(lost[0]!.apologised).toBeUndefined();
    expect(lost[0]!.messages!.map((m) => m.job).sort()).toEqual([`slack.${cutShort.event_id}`, `slack.${neverStarted.event_id}`].sort());
    expect(lost[0]!.messages!.every((m) => m.platform === 'slack' && /^T0PARLEY:C0(SECOND|THIRD):/.test(m.conversation))).toBe(true);
    expect(JSON.stringify(lost[0])).not.toContain('hello from');
    expect(lines.find((line) => line.msg === 'stopped')?.unfinished).toBe(2);
    expect(answered.event_id).toBeTruthy();
  });

  it('does not start a waiting message the drain has no time left for: no AI call for it, the running one answered, the waiting ones apologised to and named', async () => {
    let answerFirst: (value?: unknown) => void = () => undefined;
    // Any later question would be answered at once: only the drain's rule keeps its AI call from being made.
    const { url, mention } = await serve('queue', new Promise((resolve) => (answerFirst = resolve)), 4000, (index, first) => (index === 0 ? { text: 'the first answer', hold: first } : { text: 'a later answer' }));
    await mention('C0FIRST');
    const second = await mention('C0SECOND');
    const third = await mention('C0THIRD');
    await until(() => ai!.calls.length === 1, 'the first AI call to start');
    parley!.child.kill('SIGTERM');
    await until(() => refusesConnections(url), 'the port to close');
    // The first answer takes over half of SHUTDOWN_TIMEOUT_MS longer: another as slow cannot end before the deadline.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    answerFirst();
    expect(await parley!.exited).toBe(0);
    expect(ai!.calls.length).toBe(1);
    // The first is answered; the two not started get the apology in the time left, so their senders know to ask again.
    const posted = slack!.callsTo('chat.postMessage').map((call) => [call.args.channel, String(call.args.text)]);
    expect(posted).toEqual([
      ['C0FIRST', 'the first answer'],
      ['C0SECOND', expect.stringContaining('Please try again')],
      ['C0THIRD', expect.stringContaining('Please try again')],
    ]);
    const lines = logLines(parley!.logs());
    const lost = lines.filter((line) => line.msg.includes('are lost'));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ level: 50, lost: 2, apologised: 2, notStarted: 2 });
    // Said as it happened: the drain ended with time left, not "within SHUTDOWN_TIMEOUT_MS".
    expect(lost[0]!.msg).toContain('are lost: not started, too little of SHUTDOWN_TIMEOUT_MS left to answer them');
    expect(lost[0]!.messages!.map((m) => [m.job, m.apologised]).sort()).toEqual([[`slack.${second.event_id}`, true], [`slack.${third.event_id}`, true]].sort());
    expect(JSON.stringify(lost[0])).not.toContain('hello from');
    expect(lines.find((line) => line.msg === 'stopped')?.unfinished).toBe(2);
  });

  it('a webhook taken once the drain has begun (its request still under way on an open connection) is answered 503 with Retry-After and Connection: close, not acknowledged to be lost', async () => {
    let answerFirst: (value?: unknown) => void = () => undefined;
    // Only the first question is ever answered: a message taken during the drain would wait, then run out of time, and be lost.
    const { url, mention } = await serve('queue', new Promise((resolve) => (answerFirst = resolve)), 3000);
    await mention('C0FIRST');
    await until(() => ai!.calls.length === 1, 'the first AI call to start');
    // A webhook under way as the process is told to stop: its headers taken (the server's 100 Continue says so), its body sent once the port has closed.
    const late = appMention({ text: 'hello from the drain', channel: 'C0LATE' });
    const body = JSON.stringify(late);
    const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), expect: '100-continue', ...signSlack(DEFAULT_SIGNING_SECRET, body) };
    const webhook = request(`${url}/slack/events`, { method: 'POST', agent: false, headers });
    const answered = new Promise<IncomingMessage>((resolve, reject) => webhook.once('response', resolve).once('error', reject));
    const headersTaken = new Promise((resolve) => webhook.once('continue', resolve));
    webhook.flushHeaders();
    await headersTaken;
    parley!.child.kill('SIGTERM');
    await until(() => refusesConnections(url), 'the port to close');
    webhook.end(body);
    const res = await answered;
    res.resume();
    // Held only in this process, it could be lost with it: the sender is told to send it again, to a process that stays.
    expect(res.statusCode).toBe(503);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.headers.connection).toBe('close');
    answerFirst();
    expect(await parley!.exited).toBe(0);
    // It was not queued: no AI call for it, nothing lost, nothing unfinished.
    expect(ai!.calls.length).toBe(1);
    expect(slack!.callsTo('chat.postMessage').map((call) => call.args.channel)).toEqual(['C0FIRST']);
    const lines = logLines(parley!.logs());
    expect(lines.filter((line) => line.msg.includes('are lost'))).toEqual([]);
    expect(lines.find((line) => line.msg === 'stopped')?.unfinished).toBe(0);
  });

  it('MODE=direct: answers still under way at SHUTDOWN_TIMEOUT_MS are counted unfinished and named at error, not reported as 0', async () => {
    const { mention } = await serve('direct', Promise.resolve());
    // Slack is answered at once in direct mode; each answer goes on in the process.
    const first = await mention('C0FIRST');
    const second = await mention('C0SECOND');
    const third = await mention('C0THIRD');
    await until(() => ai!.calls.length === 3, 'the three AI calls to start');
    parley!.child.kill('SIGTERM');
    expect(await parley!.exited).toBe(0);
    expect(slack!.callsTo('chat.postMessage').map((call) => call.args.channel)).toEqual(['C0FIRST']);
    const lines = logLines(parley!.logs());
    const lost = lines.find((line) => line.msg.includes('are lost'));
    expect(lost).toMatchObject({ level: 50, lost: 2 });
    expect(lost!.messages!.map((m) => m.job).sort()).toEqual([`slack.${second.event_id}`, `slack.${third.event_id}`].sort());
    expect(lines.find((line) => line.msg === 'stopped')?.unfinished).toBe(2);
    expect(first.event_id).toBeTruthy();
  });
});
