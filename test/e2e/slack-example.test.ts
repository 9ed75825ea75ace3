import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type RunningExample } from '../../examples/slack-bolt/app.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { CHANNEL_ID, appMention, postSlack, slashCommand } from '../helpers/slack-events.js';
import { testEnv } from '../helpers/web-bot.js';
import { parleyArgs } from '../helpers/cli.js';

describe('examples/slack-bolt: an existing Bolt app that adds parley', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let running: RunningExample;
  let env: Record<string, string>;
  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    env = { ...testEnv, OPENAI_BASE_URL: ai.url, SLACK_BOT_TOKEN: 'xoxb-example', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url };
    running = await start(0, env);
  });
  afterAll(async () => {
    await running.close();
    await slack.close();
    await ai.close();
  });

  it("keeps the app's own slash command working", async () => {
    const res = await postSlack(`${running.url}/slack/events`, slashCommand({ command: '/ticket', text: 'printer on fire' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ response_type: 'ephemeral', text: 'Ticket opened: printer on fire' });
  });

  it('answers a mention through parley', async () => {
    const event = appMention({ text: 'hello from the example' });
    expect((await postSlack(`${running.url}/slack/events`, event)).status).toBe(200);
    const deadline = Date.now() + 8000;
    while (slack.callsTo('chat.postMessage').length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(slack.callsTo('chat.postMessage')[0]?.args).toMatchObject({ channel: CHANNEL_ID, thread_ts: event.event.ts, text: 'echo: hello from the example' });
  });

  it('parley simulate slack sends a signed event the server accepts, and redeliveries are answered once', async () => {
    slack.reset();
    const child = spawn(process.execPath, parleyArgs('simulate', 'slack', 'simulated hello', '--retry', '1', '--url', `${running.url}/slack/events`), {
      env: { PATH: process.env.PATH ?? '', SLACK_BOT_TOKEN: 'xoxb-example', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url },
      cwd: new URL('../..', import.meta.url).pathname,
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(stdout).toMatch(/sent app_mention to .*: 200/);
    expect(stdout).toMatch(/redelivery #1 app_mention to .*: 200/);
    const deadline = Date.now() + 8000;
    while (slack.callsTo('chat.postMessage').length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    expect(slack.callsTo('chat.postMessage').map((c) => c.args.text)).toEqual(['echo: simulated hello']);
  });
});
