/**
 * The Slack SDKs log into parley's log (adapters/slack/sdk-logger.ts), on a real server with Slack
 * and the AI faked over HTTP: a warning in a Web API answer and a developer's listener's `logger`
 * come out as pino JSON lines, and nothing is written to the console.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack, slashCommand } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

type Line = { level: number; msg: string; component?: string };

describe('the Slack SDKs log through parley', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  const lines: Line[] = [];
  const consoleLines: unknown[][] = [];

  beforeAll(async () => {
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void consoleLines.push(args));
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
    server = await startSlackBot(
      slack,
      ai,
      {},
      (app) => {
        app.command('/hello', async ({ ack, logger: listenerLogger }) => {
          listenerLogger.info('hello from the developer listener');
          await ack('hi');
        });
      },
      { bot: { logger } },
    );
  });
  afterAll(async () => {
    await server?.close();
    await slack?.close();
    await ai?.close();
    vi.restoreAllMocks();
  });

  it("a warning in a Web API answer is a JSON line of parley's log, not a console line", async () => {
    slack.on('chat.postMessage', (call) => ({ body: { ok: true, channel: call.args.channel, ts: '1700000000.000100', response_metadata: { warnings: ['superfluous_charset'] } } }));
    expect((await postSlack(server.url, appMention({ text: 'warn me' }))).status).toBe(200);
    await until(() => slack.callsTo('chat.postMessage').length > 0 || undefined, 'the answer');
    const warning = await until(() => lines.find((l) => l.msg.startsWith('superfluous_charset')), 'the warning logged');
    expect(warning).toMatchObject({ level: 40, component: 'slack-sdk', msg: 'superfluous_charset' });
    expect(consoleLines).toEqual([]);
  });

  it('a warning Slack attaches to every answer (a deprecated method) is one line, not one per message; later ones are counted in leftOut', async () => {
    const posted = slack.callsTo('chat.postMessage').length;
    slack.on('chat.postMessage', (call) => ({ body: { ok: true, channel: call.args.channel, ts: '1700000000.000200', warning: 'method_deprecated', response_metadata: { warnings: ['method_deprecated'] } } }));
    for (let i = 0; i < 10; i++) expect((await postSlack(server.url, appMention({ text: `deprecated ${i}` }))).status).toBe(200);
    await until(() => slack.callsTo('chat.postMessage').length >= posted + 10 || undefined, 'the answers');
    await until(() => lines.filter((l) => l.msg === 'message answered').length >= 11 || undefined, 'answered');
    expect(lines.filter((l) => l.msg === 'method_deprecated')).toHaveLength(1);
  });

  it("a developer listener's logger writes to parley's log", async () => {
    const res = await postSlack(server.url, slashCommand({ command: '/hello', text: '' }));
    expect(res.status).toBe(200);
    const line = await until(() => lines.find((l) => l.msg === 'hello from the developer listener'), 'the listener line');
    expect(line).toMatchObject({ level: 30, component: 'slack-sdk' });
    expect(consoleLines).toEqual([]);
  });

  it('no SDK debug line reaches the log at LOG_LEVEL=debug', () => {
    expect(lines.filter((l) => l.component === 'slack-sdk' && l.level < 30)).toEqual([]);
  });
});
