/**
 * What managed Redis does in production, with real processes (`serve --no-worker` + `worker`) and
 * real redis-servers: a failover behind one endpoint whose name moves (connections still open
 * to the old primary, now a replica, get READONLY on every write until they reconnect) while
 * messages flow. (A restart with AOF on, LOADING and a Sentinel failover were driven the same way
 * when this was written and needed no change; test/integration/redis-sentinel.test.ts keeps Sentinel.) Slack and the AI are faked over HTTP; a message is sent again on a non-200 as Slack
 * redelivers it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startParley, startPrivateRedis, type ParleyProcess, type PrivateRedis } from '../helpers/processes.js';
import { startMovingProxy, type MovingProxy } from '../helpers/moving-proxy.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

let slack: FakeSlack;
let ai: FakeOpenAi;
const processes: ParleyProcess[] = [];
const servers: PrivateRedis[] = [];
const admins = new Map<number, Redis>();

beforeAll(async () => {
  // Answers take a moment, so that jobs are running when the fault comes.
  [slack, ai] = await Promise.all([startFakeSlack(), startFakeOpenAi((call) => ({ text: `echo: ${lastUserText(call)}`, delayMs: 200 }))]);
});
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => Promise.race([p.stop(), new Promise((resolve) => setTimeout(resolve, 5000)).then(() => p.child.kill('SIGKILL'))])));
  slack.reset();
});
afterAll(async () => {
  for (const redis of admins.values()) redis.disconnect();
  await Promise.all(servers.map((server) => server.stop()));
  await Promise.all([slack.close(), ai.close()]);
});

/** One admin connection per server, for the whole file. */
function admin(port: number): Redis {
  let redis = admins.get(port);
  if (!redis) {
    redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    admins.set(port, redis);
  }
  return redis;
}

async function startBot(url: string): Promise<string> {
  const env = {
    REDIS_URL: url,
    OPENAI_BASE_URL: ai.url,
    SLACK_BOT_TOKEN: 'xoxb-failover',
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    SLACK_API_URL: slack.url,
    RATE_LIMIT_USER_PER_MINUTE: '0',
    CACHE_TTL_SECONDS: '0',
    JOB_BACKOFF_MS: '100',
    QUEUE_LOCK_MS: '3000',
  };
  const [ingress] = await Promise.all([startParley(['serve', '--no-worker'], env), startParley(['worker'], env)]).then((started) => (processes.push(...started), started));
  await until(async () => (await fetch(`${ingress.url}/readyz`)).status === 200, 'ingress to be ready', 20_000);
  return `${ingress.url}/slack/events`;
}

/**
 * Messages posted one every 50 ms from before `fault` (run once the first is answered) until 20
 * more have gone after it, so they flow before, during and after it; each posted until it is
 * acknowledged, as Slack redelivers (here every 200 ms, for up to `giveUpMs`).
 */
async function traffic(url: string, name: string, fault: () => Promise<void>, giveUpMs = 30_000): Promise<{ texts: string[]; acknowledged: string[]; refused: number }> {
  const texts: string[] = [];
  const acknowledged: string[] = [];
  let refused = 0;
  const send = async (text: string, i: number) => {
    const event = appMention({ text, channel: `C${i % 10}` });
    const giveUpAt = Date.now() + giveUpMs;
    for (let retryNum = 0; Date.now() < giveUpAt; retryNum++) {
      const status = await postSlack(url, event, retryNum > 0 ? { retryNum } : {}).then((res) => res.status, () => 0);
      if (status === 200) return void acknowledged.push(text);
      refused++;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  let over = false;
  const faulted = until(() => texts.length > 0 && answers(texts[0]!) > 0, 'the first message to be answered', 15_000)
    .then(fault)
    .then(() => void (over = true));
  faulted.catch(() => undefined); // awaited below; a failed fault ends the sending meanwhile
  const sends: Promise<void>[] = [];
  for (let i = 0, after = 0; after < 20 && i < 1000; i++) {
    texts.push(`${name} ${i}`);
    sends.push(send(texts[i]!, i));
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (over) after++;
  }
  await faulted;
  await Promise.all(sends);
  return { texts, acknowledged, refused };
}

/** Every message answered, none twice; the figures in the failure. */
async function expectAnsweredOnce({ texts, acknowledged, refused }: { texts: string[]; acknowledged: string[]; refused: number }): Promise<void> {
  const unanswered = () => texts.filter((text) => answers(text) === 0);
  await until(() => unanswered().length === 0, 'every message to be answered', 30_000).catch((error: Error) => {
    const readonly = processes.map((p) => p.logs().split('READONLY').length - 1);
    throw new Error(`${error.message}: ${acknowledged.length} of ${texts.length} acknowledged (${refused} refusals), ${unanswered().length} unanswered; READONLY in the logs of ingress, worker: ${readonly.join(', ')}`);
  });
  await new Promise((resolve) => setTimeout(resolve, 1000)); // would a duplicate still come?
  expect(texts.filter((text) => answers(text) > 1)).toEqual([]);
  expect(acknowledged).toHaveLength(texts.length);
}

const answers = (text: string) => slack.callsTo('chat.postMessage').filter((call) => call.args.text === `echo: ${text}`).length;

describe('a failover behind one endpoint (the name moves; open connections stay on the old primary)', () => {
  let a: PrivateRedis;
  let b: PrivateRedis;
  let proxy: MovingProxy;
  beforeAll(async () => {
    a = await startPrivateRedis([]);
    b = await startPrivateRedis(['--replicaof', '127.0.0.1', String(a.port)]);
    servers.push(a, b);
    proxy = await startMovingProxy(a.port);
    await until(async () => (await admin(a.port).info('replication')).includes('state=online'), 'the primary to see its replica online', 10_000);
  });
  afterAll(() => proxy.close());

  it('every message sent across the failover is acknowledged and answered once', async () => {
    const url = await startBot(proxy.url);
    const sent = await traffic(url, 'failover', async () => {
      // The planned failover managed Redis runs: writes paused on A until B has caught up, B
      // promoted, A a replica of B; then the endpoint's name moves to B.
      await admin(a.port).call('FAILOVER', 'TO', '127.0.0.1', String(b.port));
      await until(async () => (await admin(b.port).role())[0] === 'master', 'B to be the primary', 10_000);
      proxy.moveTo(b.port);
    });
    await expectAnsweredOnce(sent);
  }, 120_000);
});
