/**
 * A workspace whose installation was sealed with a key SLACK_INSTALLATION_KEY no longer lists (a
 * key rotation finished too soon): as good as not installed, for good. Its events are acknowledged
 * (200, not 503 for Slack to retry forever) and not answered, logged once naming the workspace and
 * the key; a reply already queued for it is dead-lettered before the AI is asked. Real Redis, a
 * fake Slack and a fake AI on free ports.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../../adapters/slack/installation-crypto.js';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { installation, oauthBotEnv } from '../helpers/slack-installations.js';
import { until } from '../helpers/until.js';
import { REDIS_URL, uniquePrefix, useRedis } from '../integration/redis-helpers.js';

const OLD_KEY = randomBytes(32);
const NEW_KEY = randomBytes(32);

describe('an installation sealed with a key no longer listed', () => {
  const prefix = uniquePrefix();
  useRedis(prefix);
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  const bots: Bot[] = [];
  const lines: Record<string, unknown>[] = [];

  /** A bot on Redis with `keys` as SLACK_INSTALLATION_KEY, as `parley serve` (worker true or false) or `parley worker` builds it. */
  async function start(name: string, keys: Buffer[], worker: boolean): Promise<string> {
    const env = oauthBotEnv({ slack: slack.url, ai: ai.url }, { url: REDIS_URL, prefix }, keys);
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push({ ...(JSON.parse(line) as Record<string, unknown>), startedAs: name }) });
    const bot = createBot({ config: loadConfig(env), adapters: [slackAdapter(slackConfigFromEnv(env)!)], worker, logger });
    bots.push(bot);
    const server = await bot.listen(0, '127.0.0.1');
    await bot.ready;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async function sealWithOldKey(team: string): Promise<void> {
    await new ParleyInstallationStore({ store: bots[0]!.store, keys: [OLD_KEY] }).storeInstallation(installation(team));
  }

  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
  });
  afterAll(async () => {
    for (const bot of bots) await bot.close();
    await slack?.close();
    await ai?.close();
  });

  it('a reply queued before the key was dropped is dead-lettered without an AI call or a post', async () => {
    const serve = await start('queued', [OLD_KEY], false);
    await sealWithOldKey('T0QUEUED');
    const mention = appMention({ team: 'T0QUEUED', channel: 'C0QUEUED', text: 'queued before the rotation', botUserId: 'U0BOT' });
    expect((await postSlack(`${serve}/slack/events`, mention)).status).toBe(200);
    slack.reset();

    const worker = await start('worker', [NEW_KEY], true);
    const metrics = await until(async () => {
      const text = await (await fetch(`${worker}/metrics`)).text();
      return /parley_dead_lettered_total\{platform="slack",reason="slack_installation_unreadable"\} 1/.test(text) ? text : undefined;
    }, 'the dead letter');
    expect(metrics).not.toMatch(/parley_ai_calls_total\{[^}]*outcome="ok"[^}]*\} [1-9]/);
    expect(ai.calls).toHaveLength(0);
    expect(slack.calls.filter((call) => call.method !== 'auth.test')).toEqual([]);
    const givenUp = lines.find((line) => line.startedAs === 'worker' && line.msg === 'message given up');
    expect(givenUp).toMatchObject({ level: 40, attempt: 1, final: true });
    expect(JSON.stringify(givenUp)).toContain(keyId(OLD_KEY));
  });

  it('its events get 200 and no answer, logged once (warn, then debug) naming the workspace and the key', async () => {
    const events = await start('events', [NEW_KEY], true);
    await sealWithOldKey('T0OLDKEY');
    slack.reset();
    const mention = () => appMention({ team: 'T0OLDKEY', channel: 'C0OLDKEY', text: 'hello?', botUserId: 'U0BOT' });
    for (const retry of [undefined, 1, undefined]) {
      const res = await postSlack(`${events}/slack/events`, mention(), retry ? { retryNum: retry, retryReason: 'http_error' } : {});
      expect({ status: res.status, body: await res.text() }).toEqual({ status: 200, body: '' });
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(slack.calls.filter((call) => call.method !== 'auth.test')).toEqual([]);
    expect(ai.calls).toHaveLength(0);
    const own = lines.filter((line) => line.startedAs === 'events');
    expect(own.filter((line) => Number(line.level) >= 50)).toEqual([]);
    const about = own.filter((line) => line.teamId === 'T0OLDKEY' && /SLACK_INSTALLATION_KEY/.test(String(line.msg)));
    expect(about.map((line) => line.level)).toEqual([40, 20, 20]);
    expect(about[0]).toMatchObject({ sealedWithKey: keyId(OLD_KEY), msg: expect.stringMatching(/install the app again/) });
  });

  it("a record a listed key does not open (copied under another workspace's entry) is said to be damaged or copied, not sealed with a dropped key", async () => {
    const events = await start('copied', [NEW_KEY], true);
    const store = bots.at(-1)!.store;
    await new ParleyInstallationStore({ store, keys: [NEW_KEY] }).storeInstallation(installation('T0SOURCE'));
    await store.set('parley:slack:installation:-:T0COPIED', (await store.get('parley:slack:installation:-:T0SOURCE'))!);
    slack.reset();
    const res = await postSlack(`${events}/slack/events`, appMention({ team: 'T0COPIED', channel: 'C0COPIED', text: 'hello?', botUserId: 'U0BOT' }));
    expect(res.status).toBe(200);
    const about = await until(() => lines.find((line) => line.teamId === 'T0COPIED' && /SLACK_INSTALLATION_KEY/.test(String(line.msg))), 'the warning');
    expect(about).toMatchObject({ level: 40, sealedWithKey: keyId(NEW_KEY) });
    expect(String(about.msg)).toMatch(/which SLACK_INSTALLATION_KEY lists, yet it does not open it: the record is damaged, or was copied/);
    expect(String(about.msg)).not.toMatch(/no longer lists/);
    expect(ai.calls).toHaveLength(0);
  });
});

