/**
 * Requests for a developer's Bolt listeners (slash commands, interactions) answered as Bolt's own
 * HTTPReceiver answers them: Slack's unsigned SSL check gets its 200 and reaches no listener, and
 * an ack with a falsy body (a JavaScript listener's `ack(null)`) is an empty 200, not JSON `null`.
 * Real server; Slack and the AI faked over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { postSlack, slashCommand } from '../helpers/slack-events.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';

describe("Slack requests for the developer's Bolt listeners, answered as Bolt's receiver answers them", () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  const deploys: string[] = [];

  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    server = await startSlackBot(slack, ai, {}, (app) => {
      app.command('/deploy', async ({ command, ack }) => {
        deploys.push(command.text);
        await ack(`Deploying ${command.text}`);
      });
      // A listener in JavaScript, where nothing stops a null (AckFn's type does not allow it).
      app.command('/quiet', async ({ ack }) => ack(null as unknown as string));
    });
  });
  afterAll(async () => {
    await server.close();
    await slack.close();
    await ai.close();
  });

  it("answers Slack's SSL check, which comes unsigned, with an empty 200, and runs no listener for what else its body carries", async () => {
    const unsigned = (body: string) => fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Slackbot 1.0' }, body });
    const check = await unsigned('ssl_check=1&token=legacy-verification-token');
    expect(check.status).toBe(200);
    expect(await check.text()).toBe('');
    // A command smuggled into an unsigned SSL check is not run.
    const smuggled = await unsigned(`ssl_check=1&${slashCommand({ command: '/deploy', text: 'prod' })}`);
    expect(smuggled.status).toBe(200);
    expect(await smuggled.text()).toBe('');
    // Only ssl_check=1 skips the signature: anything else unsigned is refused.
    expect((await unsigned(`ssl_check=0&${slashCommand({ command: '/deploy', text: 'prod' })}`)).status).toBe(401);
    expect(deploys).toEqual([]);
    // The same command signed runs.
    const signed = await postSlack(server.url, slashCommand({ command: '/deploy', text: 'staging' }));
    expect(await signed.text()).toBe('Deploying staging');
    expect(deploys).toEqual(['staging']);
  });

  it("answers a listener's ack(null) with an empty 200, as Bolt does, not a JSON null", async () => {
    const res = await postSlack(server.url, slashCommand({ command: '/quiet', text: 'x' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBeNull();
    expect(await res.text()).toBe('');
  });
});
