import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { until as waitUntil } from '../helpers/until.js';
import { parleyArgs } from '../helpers/cli.js';

/** The real `parley` command, as `npm start` runs it. */
function parley(args: string[], env: Record<string, string>): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, parleyArgs(...args), {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    cwd: new URL('../..', import.meta.url).pathname,
  });
}

function collect(child: ChildProcessWithoutNullStreams) {
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { out, exited };
}

/** This file's waits are for whole processes: a longer default. */
const until = <T>(read: () => T | Promise<T>, what: string, timeoutMs = 15_000) => waitUntil(read, what, timeoutMs);

describe('the parley process', () => {
  let ai: FakeOpenAi | undefined;
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await ai?.close();
    ai = child = undefined;
  });

  it('on SIGTERM stops accepting, finishes the job in flight, and exits 0', async () => {
    ai = await startFakeOpenAi(() => ({ text: 'finished after all', delayMs: 1200 }));
    child = parley(['serve'], { PORT: '0', LOG_LEVEL: 'info', OPENAI_BASE_URL: ai.url });
    const { out, exited } = collect(child);
    await until(() => out.stdout.includes('parley listening on'), 'the server to listen');
    const url = /"url":"(http:\/\/[^"]+)"/.exec(out.stdout)![1]!;
    const res = await fetch(`${url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 'term', text: 'long job' }) });
    expect(res.status).toBe(202);
    await until(() => ai!.calls.length === 1, 'the AI call to start');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = out.stdout.trim().split('\n').map((line) => JSON.parse(line) as { msg: string; unfinished?: number });
    const messages = lines.map((l) => l.msg);
    expect(messages.indexOf('message answered')).toBeGreaterThan(messages.findIndex((m) => m.startsWith('shutting down')));
    expect(lines.find((l) => l.msg === 'stopped')?.unfinished).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('with Redis unreachable: serves /healthz at once, and on SIGTERM exits within SHUTDOWN_TIMEOUT_MS', async () => {
    child = parley(['serve'], { PORT: '0', LOG_LEVEL: 'info', REDIS_URL: 'redis://127.0.0.1:1', SHUTDOWN_TIMEOUT_MS: '1500' });
    const { out, exited } = collect(child);
    await until(() => out.stdout.includes('parley listening on'), 'the server to listen');
    const url = /"url":"(http:\/\/[^"]+)"/.exec(out.stdout)![1]!;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    // The warning says where REDIS_URL points, and which variable to fix.
    await until(() => out.stdout.includes('Redis unreachable at 127.0.0.1:1 (REDIS_URL)'), 'the warning naming the address and REDIS_URL');
    // Timed by the process's own log clock, from its first line (the configuration read) to listening:
    // waiting 10 s for Redis would show there, and loading tsx (seconds, more on a loaded machine) does not.
    const lines = out.stdout.split('\n');
    const logged = lines.slice(0, lines.findIndex((line) => line.includes('parley listening on')) + 1).map((line) => JSON.parse(line) as { time: number });
    expect(logged.length).toBeGreaterThan(1); // the start-up warnings (no AI provider, no session secret) come first
    expect(logged.at(-1)!.time - logged[0]!.time).toBeLessThan(5000);
    const signalled = Date.now();
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 8000))]);
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(1500 + 2500);
    expect(out.stdout).toMatch(/"msg":"stopped"/);
  });

  it('on SIGTERM exits within SHUTDOWN_TIMEOUT_MS even with stdout a closed pipe (parley serve | head -1)', async () => {
    child = parley(['serve'], { PORT: '0', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '1000' });
    const { out, exited } = collect(child);
    await until(() => out.stdout.includes('parley listening on'), 'the server to listen');
    child.stdout.destroy(); // what head does after its line: every later write is EPIPE
    await new Promise((resolve) => setTimeout(resolve, 200));
    const signalled = Date.now();
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 1000 + 5000 + 3000))]);
    expect(code).not.toBe('still running');
    expect(Date.now() - signalled).toBeLessThan(1000 + 2500);
    expect(code).toBe(0);
  });

  it('refuses to start on a bad environment value, naming the variable and the fix', async () => {
    child = parley(['serve'], { PORT: 'eighty', OPENAI_BASE_URL: 'not a url' });
    const { out, exited } = collect(child);
    expect(await exited).toBe(1);
    expect(out.stderr).toMatch(/^PORT="eighty" is invalid: .*Fix: set PORT/m);
    expect(out.stderr).toMatch(/^OPENAI_BASE_URL="not a url" is invalid: .*Fix: set OPENAI_BASE_URL/m);
  });

  it('names every wrong variable at once, the core\'s and each platform\'s, one line each', async () => {
    const platforms = { INTERCOM_REGION: 'xx', TWILIO_WHATSAPP_FROM: '12345' };
    for (const env of [platforms, { ...platforms, PORT: 'eighty' }] as Record<string, string>[]) {
      child = parley(['serve'], env);
      const { out, exited } = collect(child);
      expect(await exited).toBe(1);
      expect(out.stderr).toMatch(/^INTERCOM_REGION="xx" is invalid: .*Fix: set INTERCOM_REGION/m);
      expect(out.stderr).toMatch(/^TWILIO_WHATSAPP_FROM="12345" is invalid: .*Fix: set TWILIO_WHATSAPP_FROM/m);
      if (env.PORT !== undefined) expect(out.stderr).toMatch(/^PORT="eighty" is invalid: .*Fix: set PORT/m);
    }
  });

  it('parley worker without REDIS_URL explains why and exits 2', async () => {
    child = parley(['worker'], {});
    const { out, exited } = collect(child);
    expect(await exited).toBe(2);
    expect(out.stderr).toContain('REDIS_URL');
  });

  it('parley worker stops cleanly on SIGTERM even while an adapter cannot start (its platform down)', async () => {
    child = parley(['worker'], { LOG_LEVEL: 'info', REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `proc-${process.pid}-${Date.now()}`, SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: 'http://127.0.0.1:1/api/' });
    const { out, exited } = collect(child);
    // The Slack adapter keeps retrying auth.test against a closed port.
    await until(() => out.stdout.includes('Slack') || out.stdout.includes('adapter'), 'the adapter failing to start');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out.stdout).toMatch(/shutting down/);
  });

  it('parley worker stopped while its start waits for Redis never says it is running', async () => {
    // The start waits up to 10 s for Redis; the drain (Redis down) outlasts it, so that start ends mid-shutdown.
    child = parley(['worker'], { LOG_LEVEL: 'info', REDIS_URL: 'redis://127.0.0.1:1', METRICS_PORT: 'off', SHUTDOWN_TIMEOUT_MS: '13000' });
    const { out, exited } = collect(child);
    await until(() => out.stdout.includes('Redis unreachable at 127.0.0.1:1 (REDIS_URL)'), 'the worker to find Redis unreachable');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const messages = out.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages.some((m) => m.startsWith('shutting down'))).toBe(true);
    expect(messages).toContain('stopped');
    expect(messages).not.toContain('parley worker running');
  }, 40_000);

  it('parley simulate slack without Slack settings names every variable it needs, so following it works the first time', async () => {
    child = parley(['simulate', 'slack', 'hi'], {});
    const first = collect(child);
    expect(await first.exited).toBe(2);
    expect(first.out.stderr).toContain('SLACK_SIGNING_SECRET');
    expect(first.out.stderr).toContain('SLACK_BOT_TOKEN');
    // Setting both, as it says: no configuration error, it signs and posts (here to a closed port).
    child = parley(['simulate', 'slack', 'hi', '--url', 'http://127.0.0.1:1/slack/events'], { SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_BOT_TOKEN: 'xoxb-local', SLACK_API_URL: 'http://127.0.0.1:1/api/' });
    const second = collect(child);
    expect(await second.exited).toBe(1);
    expect(second.out.stderr).toContain('could not reach');
    expect(second.out.stderr).not.toContain('configuration error');
  }, 40_000);

  it('parley simulate refuses a --retry that is not a whole number, and says so', async () => {
    child = parley(['simulate', 'slack', 'hi', '--retry', 'abc'], { SLACK_SIGNING_SECRET: 'test-signing-secret' });
    const { out, exited } = collect(child);
    expect(await exited).toBe(2);
    expect(out.stderr).toContain('--retry');
  });

  it('parley simulate slack with a Slack it cannot reach: no SDK warning on stderr, only what it says itself', async () => {
    child = parley(['simulate', 'slack', 'hi', '--url', 'http://127.0.0.1:1/slack/events'], { SLACK_BOT_TOKEN: 'xoxb-local', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: 'http://127.0.0.1:1/api/' });
    const { out, exited } = collect(child);
    expect(await exited).toBe(1);
    expect(out.stderr).toContain('could not reach');
    expect(out.stderr).not.toMatch(/WARN|http request failed/);
  });

  it('parley check never prints credentials in OPENAI_BASE_URL', async () => {
    child = parley(['check'], { OPENAI_BASE_URL: 'http://someone:S3cretPassw0rd@127.0.0.1:1/v1' });
    const { out, exited } = collect(child);
    expect(await exited).toBe(1);
    expect(out.stdout + out.stderr).not.toContain('S3cretPassw0rd');
    expect(out.stdout + out.stderr).toContain('AI provider');
  });

  it('parley check does not call the configuration valid when a platform\'s variable is wrong', async () => {
    child = parley(['check'], { INTERCOM_ACCESS_TOKEN: 'test-token', INTERCOM_CLIENT_SECRET: 'test-secret', INTERCOM_REGION: 'xx', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' });
    const { out, exited } = collect(child);
    expect(await exited).toBe(1);
    expect(out.stdout).not.toContain('every variable is valid');
    expect(out.stdout).toMatch(/^FAIL {2}configuration: a platform's variables are not valid/m);
    expect(out.stdout).toMatch(/^FAIL {2}adapters: .*INTERCOM_REGION/m);
  });

  it('parley dlq replay of an unknown id says there is no such dead letter and exits 1, as show does', async () => {
    child = parley(['dlq', 'replay', 'no-such-id'], { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `dlq-unknown-${process.pid}-${Date.now()}` });
    const { out, exited } = collect(child);
    expect(await exited).toBe(1);
    expect(out.stderr).toContain('no dead letter with id no-such-id; see parley dlq list');
    expect(out.stdout).not.toContain('replayed');
  });

  it('parley dlq show without an id is a usage error (exit 2), as replay without one is', async () => {
    child = parley(['dlq', 'show'], { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `dlq-noid-${process.pid}-${Date.now()}` });
    const { out, exited } = collect(child);
    expect(await exited).toBe(2);
    expect(out.stderr).toContain('usage: parley dlq show ID');
  });

  it('parley dlq says it cannot reach Redis and exits 1, instead of waiting without a word', async () => {
    child = parley(['dlq', 'list'], { REDIS_URL: 'redis://127.0.0.1:1' });
    const { out, exited } = collect(child);
    expect(await exited).toBe(1);
    // Why, in plain words (as /readyz says it), not ioredis's "Stream isn't writeable and enableOfflineQueue options is false".
    expect(out.stderr).toContain('cannot reach the queue (REDIS_URL): not connected to Redis (it refused the connection, or did not answer it)');
    expect(out.stderr).not.toContain('enableOfflineQueue');
  });

  it('parley dlq says plainly that no Redis Cluster node could be reached, and exits 1', async () => {
    child = parley(['dlq', 'list'], { REDIS_URL: 'redis+cluster://127.0.0.1:1' });
    const { out, exited } = collect(child);
    expect(await exited).toBe(1);
    expect(out.stderr).toContain('cannot reach the queue (REDIS_URL): not connected to the Redis Cluster (it refused the connection, or did not answer it)');
    expect(out.stderr).not.toContain('enableOfflineQueue');
  });

  it('started by `npm start`, stops as on SIGTERM when a supervisor stops npm (whose shell does not pass the signal on)', async () => {
    const npm = spawn('npm', ['start', '--silent'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', LOG_LEVEL: 'info' },
      cwd: new URL('../..', import.meta.url).pathname,
    });
    child = npm;
    const { out } = collect(npm);
    // npm's own start and a cold tsx transform come first: seconds more than `parley` alone on a loaded machine.
    await until(() => out.stdout.includes('parley listening on'), 'the server to listen', 30_000);
    const url = /"url":"(http:\/\/[^"]+)"/.exec(out.stdout)![1]!;
    npm.kill('SIGTERM');
    // The server itself (npm's grandchild) drains and exits: its last lines still reach the pipe.
    await until(() => out.stdout.includes('"msg":"stopped"'), 'the server to stop');
    await until(() => fetch(`${url}/healthz`).then(() => false, () => true), 'the port to close');
  }, 60_000);

  it('reachable from other machines with no platform and no web chat settings: says nothing will be answered, and why', async () => {
    child = parley(['serve'], { PORT: '0', HOST: '0.0.0.0', LOG_LEVEL: 'info' });
    const { out } = collect(child);
    await until(() => out.stdout.includes('parley listening on'), 'the server to listen');
    const warning = out.stdout.split('\n').find((line) => line.includes('no adapter is on'));
    expect(warning).toContain('WEB_CHAT=true');
    expect(JSON.parse(warning!).level).toBe(40);
  });
});
