/**
 * Scale-out on Redis with real processes: ingress (`serve --no-worker`) and `worker` processes
 * sharing a Redis; Slack and the AI faked over HTTP on loopback.
 */
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startParley, startPrivateRedis, type ParleyProcess, type PrivateRedis } from '../helpers/processes.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, postTwilio, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { until as waitUntil } from '../helpers/until.js';
import { parleyArgs } from '../helpers/cli.js';

const REDIS = 'redis://127.0.0.1:6379';

/** This file's waits are for whole processes: a longer default. */
const until = <T>(read: () => T | Promise<T>, what: string, timeoutMs = 30_000) => waitUntil(read, what, timeoutMs);

const replyTexts = (slack: FakeSlack) => slack.callsTo('chat.postMessage').map((c) => String(c.args.text));

describe('scale-out on Redis: several ingress and worker processes', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  const processes: ParleyProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    const redis = spawnSync('redis-cli', ['-u', REDIS, 'ping'], { encoding: 'utf8' });
    if (redis.stdout.trim() !== 'PONG') throw new Error('Redis is not running on 127.0.0.1:6379: start redis-server (or run .ci/run)');
    slack = await startFakeSlack();
    ai = await startFakeOpenAi((call) => ({ text: `re: ${lastUserText(call)}`, delayMs: lastUserText(call).startsWith('slow') ? 800 : 0 }));
  });
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.stop()));
    slack.reset();
    ai.calls.length = 0;
  });
  afterAll(async () => {
    await slack.close();
    await ai.close();
  });

  /** A fresh prefix per test: its own queue, limits and dedupe keys on the shared Redis. */
  function envFor(extra: Record<string, string> = {}): Record<string, string> {
    env = {
      REDIS_URL: REDIS,
      REDIS_PREFIX: `t${randomUUID().slice(0, 8)}`,
      OPENAI_BASE_URL: ai.url,
      SLACK_BOT_TOKEN: 'xoxb-scale',
      SLACK_SIGNING_SECRET: 'test-signing-secret',
      SLACK_API_URL: slack.url,
      RATE_LIMIT_USER_PER_MINUTE: '0',
      CACHE_TTL_SECONDS: '0',
      JOB_BACKOFF_MS: '50',
      AI_BACKOFF_MS: '20',
      AI_DEADLINE_MS: '5000',
      QUEUE_LOCK_MS: '3000',
      ...extra,
    };
    return env;
  }

  async function start(kind: 'ingress' | 'worker', extra: string[] = []): Promise<ParleyProcess> {
    const p = await startParley(kind === 'ingress' ? ['serve', '--no-worker'] : ['worker', ...extra], env);
    processes.push(p);
    return p;
  }

  it('1,000 events, 20% redelivered to the other ingress: exactly 1,000 replies', async () => {
    envFor({ WORKER_CONCURRENCY: '16' });
    const [a, b] = await Promise.all([start('ingress'), start('ingress')]);
    await Promise.all([start('worker'), start('worker')]);
    const events = Array.from({ length: 1000 }, (_, i) => appMention({ text: `question ${i}`, channel: `C${i % 50}`, user: `U${i}` }));
    const statuses: number[] = [];
    const send = async (i: number) => {
      const event = events[i]!;
      statuses.push((await postSlack(`${(i % 2 ? a : b)!.url}/slack/events`, event)).status);
      if (i % 5 === 0) statuses.push((await postSlack(`${(i % 2 ? b : a)!.url}/slack/events`, event, { retryNum: 1 })).status);
    };
    for (let i = 0; i < events.length; i += 25) await Promise.all(Array.from({ length: 25 }, (_, j) => send(i + j)));
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(statuses).toHaveLength(1200);
    await until(() => slack.callsTo('chat.postMessage').length >= 1000, '1,000 replies', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // would a duplicate still arrive?
    const texts = replyTexts(slack);
    expect(texts).toHaveLength(1000);
    expect(new Set(texts).size).toBe(1000);
  }, 120_000);

  it('Prometheus can scrape a worker: its /metrics has the AI calls and replies it made, with /healthz and /readyz beside', async () => {
    envFor();
    const ingress = await start('ingress');
    const worker = await start('worker');
    expect(worker.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await postSlack(`${ingress.url}/slack/events`, appMention({ text: 'counted where it is answered' }));
    await until(() => replyTexts(slack).includes('re: counted where it is answered'), 'the reply');
    // The reply reaches the fake Slack before the worker has read Slack's answer and counted it: scraped until counted.
    const text = await until(async () => {
      const scrape = await fetch(`${worker.url}/metrics`);
      expect(scrape.status).toBe(200);
      const body = await scrape.text();
      return /^parley_replies_sent_total\{[^}]*\} 1$/m.test(body) ? body : undefined;
    }, 'the reply counted on the worker');
    expect(text).toMatch(/^parley_ai_calls_total\{[^}]*outcome="ok"[^}]*\} 1$/m);
    expect(text).toMatch(/^parley_replies_sent_total\{[^}]*\} 1$/m);
    expect(text).toMatch(/^parley_ai_circuit_open(\{[^}]*\})? 0$/m);
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${worker.url}/readyz`)).status).toBe(200);
    // A worker takes no webhooks.
    expect((await fetch(`${worker.url}/slack/events`, { method: 'POST' })).status).toBe(404);
  });

  it('a second worker on one host whose METRICS_PORT is taken says so and still answers', async () => {
    envFor();
    const ingress = await start('ingress');
    const first = await start('worker');
    const port = new URL(first.url!).port;
    await first.stop();
    const taken = createServer().listen(Number(port), '127.0.0.1');
    await once(taken, 'listening');
    try {
      const worker = await startParley(['worker'], { ...env, METRICS_PORT: port });
      processes.push(worker);
      expect(worker.logs()).toContain('give each worker on this host its own METRICS_PORT');
      await postSlack(`${ingress.url}/slack/events`, appMention({ text: 'answered all the same' }));
      await until(() => replyTexts(slack).includes('re: answered all the same'), 'the reply');
    } finally {
      taken.close();
    }
  });

  it('two messages of one conversation sent to different ingress processes are answered in order', async () => {
    envFor();
    const [a, b] = [await start('ingress'), await start('ingress')];
    await Promise.all([start('worker'), start('worker')]);
    const first = appMention({ text: 'slow first question' });
    await postSlack(`${a.url}/slack/events`, first);
    const threadTs = first.event.ts;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await postSlack(`${b.url}/slack/events`, appMention({ text: 'second question', threadTs }));
    await until(() => slack.callsTo('chat.postMessage').length === 2, 'both replies');
    expect(replyTexts(slack)).toEqual(['re: slow first question', 're: second question']);
  }, 60_000);

  it('a global AI limit of N per minute holds across worker processes', async () => {
    envFor({ AI_CALLS_PER_MINUTE: '5' });
    const ingress = await start('ingress');
    await Promise.all([start('worker'), start('worker')]);
    for (let i = 0; i < 9; i++) await postSlack(`${ingress.url}/slack/events`, appMention({ text: `limited ${i}`, channel: `CL${i}`, user: `UL${i}` }));
    await until(() => ai.calls.length >= 5, 'five AI calls');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(ai.calls).toHaveLength(5);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(5); // the other four wait their turn, none is dropped
  }, 60_000);

  it('kill -9 of a worker in the middle of a job: the job is recovered and answered exactly once', async () => {
    envFor();
    const ingress = await start('ingress');
    const doomed = await start('worker');
    await postSlack(`${ingress.url}/slack/events`, appMention({ text: 'slow question that outlives its worker' }));
    await until(() => ai.calls.length === 1, 'the AI call to start');
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    await start('worker');
    await until(() => slack.callsTo('chat.postMessage').length === 1, 'the recovered reply', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(replyTexts(slack)).toEqual(['re: slow question that outlives its worker']);
  }, 60_000);

  it('dead letters: parley dlq lists them, replay delivers after recovery, purge empties', async () => {
    envFor({ JOB_ATTEMPTS: '2', AI_ATTEMPTS: '1' });
    let down = true;
    ai.script((call) => (down ? { status: 503 } : { text: `re: ${lastUserText(call)}` }));
    try {
      const ingress = await start('ingress');
      await start('worker');
      await postSlack(`${ingress.url}/slack/events`, appMention({ text: 'while the AI is down' }));
      await until(() => replyTexts(slack).some((t) => t.startsWith('Sorry')), 'the apology');
      const list = await cli(['dlq', 'list']);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/attempts_exhausted/);
      down = false;
      const replay = await cli(['dlq', 'replay', '--all']);
      expect(replay.stdout).toContain('replayed 1 of 1');
      await until(() => replyTexts(slack).includes('re: while the AI is down'), 'the replayed reply');
      expect((await cli(['dlq', 'list'])).stdout).toContain('no dead letters');

      down = true;
      await postSlack(`${ingress.url}/slack/events`, appMention({ text: 'another failure' }));
      await until(async () => (await cli(['dlq', 'list'])).stdout.includes('attempts_exhausted'), 'a second dead letter');
      expect((await cli(['dlq', 'purge'])).stdout).toContain('purged 1 dead letters');
      expect((await cli(['dlq', 'list'])).stdout).toContain('no dead letters');
      // Nothing to replay is not a mistake (a script replaying everything on a schedule).
      const nothing = await cli(['dlq', 'replay', '--all']);
      expect([nothing.code, nothing.stdout.trim()]).toEqual([0, 'replayed 0 of 0']);
    } finally {
      ai.script((call) => ({ text: `re: ${lastUserText(call)}`, delayMs: lastUserText(call).startsWith('slow') ? 800 : 0 }));
    }
    // Seven CLI processes, each started through tsx: about 50 s on a loaded 2-core machine.
  }, 120_000);

  async function cli(args: string[]): Promise<{ code: number | null; stdout: string }> {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, parleyArgs(...args), { cwd: new URL('../..', import.meta.url).pathname, env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { code, stdout };
  }
});

describe('a Redis restart in the middle of a run', () => {
  let redis: PrivateRedis;
  let slack: FakeSlack;
  let twilio: FakeTwilio;
  let ai: FakeOpenAi;
  const processes: ParleyProcess[] = [];
  beforeAll(async () => {
    redis = await startPrivateRedis();
    slack = await startFakeSlack();
    twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    ai = await startFakeOpenAi();
  });
  afterAll(async () => {
    // Graceful stops take a moment; past a few seconds, kill, so a slow stop cannot fail the hook.
    await Promise.all(processes.map((p) => Promise.race([p.stop(), new Promise((resolve) => setTimeout(resolve, 5000)).then(() => p.child.kill('SIGKILL'))])));
    await redis.stop();
    await slack.close();
    await twilio.close();
    await ai.close();
  });

  it('no process crashes, ingress answers 503 while Redis is down, every acknowledged message is answered', async () => {
    const env = {
      REDIS_URL: redis.url,
      OPENAI_BASE_URL: ai.url,
      SLACK_BOT_TOKEN: 'xoxb-restart',
      SLACK_SIGNING_SECRET: 'test-signing-secret',
      SLACK_API_URL: slack.url,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_WHATSAPP_FROM: BOT_NUMBER,
      TWILIO_API_URL: twilio.url,
      RATE_LIMIT_USER_PER_MINUTE: '0',
      JOB_BACKOFF_MS: '100',
      QUEUE_LOCK_MS: '3000',
    };
    const ingress = await startParley(['serve', '--no-worker'], env);
    const worker = await startParley(['worker'], env);
    processes.push(ingress, worker);
    const url = `${ingress.url}/slack/events`;
    const acknowledged: string[] = [];
    const refused: number[] = [];
    const send = async (text: string) => {
      const event = appMention({ text });
      const res = await postSlack(url, event);
      if (res.status === 200) acknowledged.push(text);
      else refused.push(res.status);
    };
    for (let i = 0; i < 10; i++) await send(`before ${i}`);
    await redis.stop();
    for (let i = 0; i < 10; i++) await send(`during ${i}`);
    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(refused)).toEqual(new Set([503]));
    // Twilio never redelivers: while Redis is down its messages are answered in-process.
    const whatsapp = await postTwilio(`${ingress.url}/twilio/whatsapp`, whatsappMessage({ Body: 'sent while Redis is down' }));
    expect(whatsapp.status).toBe(200);
    await until(() => twilio.bodies().includes('echo: sent while Redis is down'), 'the in-process WhatsApp answer', 15_000);
    await redis.start();
    await until(async () => (await fetch(`${ingress.url}/readyz`)).status === 200, 'ingress to be ready again', 20_000);
    for (let i = 0; i < 10; i++) await send(`after ${i}`);
    const unanswered = (texts: string[]) => texts.filter((text) => !replyTexts(slack).includes(`echo: ${text}`));
    const afterRestart = acknowledged.filter((text) => text.startsWith('after'));
    await until(() => unanswered(afterRestart).length === 0, 'every message acknowledged after the restart to be answered', 30_000);
    await until(() => unanswered(acknowledged).length === 0, 'every acknowledged message to be answered', 30_000).catch((error: Error) => {
      throw new Error(`${error.message}; unanswered: ${JSON.stringify(unanswered(acknowledged))}`);
    });
    expect(ingress.child.exitCode).toBeNull();
    expect(worker.child.exitCode).toBeNull();
    // Answered once: a reply posted just as Redis went away still records that it was sent (the
    // adapters' markers wait out the outage), so no job posts it again after the restart.
    const twice = acknowledged.filter((text) => replyTexts(slack).filter((reply) => reply === `echo: ${text}`).length > 1);
    expect(twice).toEqual([]);

  }, 90_000);
});
