/**
 * SHUTDOWN_DELAY_MS: on SIGTERM `parley serve` says 503 on /readyz at once but keeps its port open,
 * taking and answering webhooks as usual, for the delay (a load balancer takes the pod out of its
 * endpoints only after SIGTERM); then it closes the port and drains as without it, and exits 0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startParley, type ParleyProcess } from '../helpers/processes.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

interface LogLine {
  level: number;
  msg: string;
  delayMs?: number;
}

const logLines = (out: string): LogLine[] =>
  out
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SIGTERM with SHUTDOWN_DELAY_MS', () => {
  let ai: FakeOpenAi | undefined;
  let slack: FakeSlack | undefined;
  let parley: ParleyProcess | undefined;
  afterEach(async () => {
    if (parley?.child.exitCode === null) parley.child.kill('SIGKILL');
    await Promise.all([ai?.close(), slack?.close()]);
    ai = slack = parley = undefined;
  });

  async function serve(delayMs: string): Promise<string> {
    ai = await startFakeOpenAi(() => ({ text: 'answered while stopping' }));
    slack = await startFakeSlack();
    parley = await startParley(['serve'], {
      OPENAI_BASE_URL: ai.url,
      SLACK_BOT_TOKEN: 'xoxb-delay',
      SLACK_SIGNING_SECRET: 'test-signing-secret',
      SLACK_API_URL: slack.url,
      RATE_LIMIT_USER_PER_MINUTE: '0',
      SHUTDOWN_DELAY_MS: delayMs,
    });
    const url = parley.url!;
    await until(async () => (await fetch(`${url}/readyz`)).status === 200, 'the bot to be ready', 15_000);
    return url;
  }

  /** During the delay: /readyz is 503 and says why; a signed Slack event is taken (200) and answered in its channel. */
  async function servedWhileStopping(url: string, channel: string): Promise<void> {
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not_ready', checks: { shutdown: expect.stringMatching(/^stopping/) } });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await postSlack(`${url}/slack/events`, appMention({ text: 'sent after SIGTERM', channel }))).status).toBe(200);
  }

  it('keeps taking and answering webhooks for the delay, /readyz 503 at once, then closes the port and exits 0', async () => {
    const url = await serve('5000');
    parley!.child.kill('SIGTERM');
    await until(() => parley!.logs().includes('shutdown delay'), 'the delay to begin', 15_000);
    await servedWhileStopping(url, 'C0DURING');
    expect(await parley!.exited).toBe(0);
    expect(slack!.callsTo('chat.postMessage').map((call) => call.args.channel)).toEqual(['C0DURING']);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    const lines = logLines(parley!.logs());
    expect(lines.find((line) => line.msg.startsWith('shutdown delay:'))).toMatchObject({ level: 30, delayMs: 5000 });
    expect(lines.find((line) => line.msg === 'stopped')).toMatchObject({ unfinished: 0 });
  }, 60_000);

  it('a second SIGTERM ends the delay at once; the drain still answers what was taken, and it exits 0', async () => {
    const url = await serve('600000');
    parley!.child.kill('SIGTERM');
    await until(() => parley!.logs().includes('shutdown delay'), 'the delay to begin', 15_000);
    await servedWhileStopping(url, 'C0SECOND');
    await sleep(300); // past the window in which a repeat is taken for the same signal delivered twice
    parley!.child.kill('SIGTERM');
    const code = await Promise.race([parley!.exited, sleep(15_000).then(() => 'still running')]);
    expect(code).toBe(0);
    expect(slack!.callsTo('chat.postMessage').map((call) => call.args.channel)).toEqual(['C0SECOND']);
    expect(parley!.logs()).toContain('second SIGTERM: ending the shutdown delay');
  }, 60_000);

  it('a second Ctrl-C during the delay exits at once (130), as during the drain', async () => {
    await serve('600000');
    parley!.child.kill('SIGINT');
    await until(() => parley!.logs().includes('shutdown delay'), 'the delay to begin', 15_000);
    await sleep(300);
    parley!.child.kill('SIGINT');
    const code = await Promise.race([parley!.exited, sleep(15_000).then(() => 'still running')]);
    expect(code).toBe(130);
    expect(parley!.logs()).toContain('second SIGINT: exiting now');
  }, 60_000);

  it('parley worker takes no delay (nothing sends it webhooks): SIGTERM drains and exits as without it', async () => {
    parley = await startParley(['worker'], { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `drain-delay-${process.pid}-${Date.now()}`, METRICS_PORT: 'off', SHUTDOWN_DELAY_MS: '600000' });
    parley.child.kill('SIGTERM');
    const code = await Promise.race([parley.exited, sleep(15_000).then(() => 'still running')]);
    expect(code).toBe(0);
    expect(parley.logs()).not.toContain('shutdown delay');
  }, 60_000);
});
