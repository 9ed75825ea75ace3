/**
 * /readyz while Slack's Socket Mode connection is lost and apps.connections.open fails: the Slack
 * adapter is shown failed with the reason (it said "ready" throughout), and the process stays in
 * the load balancer (200): only the core decides that.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSocketBot, type SocketBot } from '../helpers/slack-socket-bot.js';
import { until } from '../helpers/until.js';

let world: SocketBot | undefined;
afterEach(async () => {
  await world?.closeAll();
  world = undefined;
});

const readyz = async (bot: SocketBot['bot']) => {
  const res = await bot.fetch(new Request('http://127.0.0.1/readyz'));
  return { status: res.status, slack: ((await res.json()) as { adapters: Record<string, string> }).adapters.slack };
};

describe('/readyz with Socket Mode reconnecting', () => {
  it('names the Slack adapter failed while the connection is down and apps.connections.open refuses, with a 200', async () => {
    const { bot, slack, socket } = (world = await startSocketBot());
    await until(async () => ((await readyz(bot)).slack === 'ready' ? true : undefined), 'the adapter to be ready');
    slack.on('apps.connections.open', () => ({ status: 503, body: { ok: false, error: 'service_unavailable' } }));
    socket.requestReconnect('link_disabled');
    // The SDK waits 5 s before it reconnects.
    await until(async () => ((await readyz(bot)).slack?.startsWith('failed: Socket Mode reconnecting') ? true : undefined), 'readyz to name the failure', 15_000);
    expect(await readyz(bot)).toEqual({ status: 200, slack: expect.stringContaining('503') });
  }, 30_000);
});
