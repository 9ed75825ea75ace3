/**
 * Ctrl-C twice: the first SIGINT drains (waits for running jobs up to SHUTDOWN_TIMEOUT_MS), a second
 * one exits at once with 130, as a shell reports death by SIGINT, saying so in one log line, and
 * naming in another the messages the in-memory queue held, lost with the process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startParley, type ParleyProcess } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

describe('parley serve: a second SIGINT during the drain', () => {
  let ai: FakeOpenAi | undefined;
  let parley: ParleyProcess | undefined;
  afterEach(async () => {
    if (parley && parley.child.exitCode === null) parley.child.kill('SIGKILL');
    await ai?.close();
    ai = parley = undefined;
  });

  it('forces the exit (130) while a job still runs; the same Ctrl-C delivered twice at once (npm passing it on) only drains', async () => {
    ai = await startFakeOpenAi(() => ({ text: 'too late', delayMs: 30_000 }));
    parley = await startParley(['serve'], { LOG_FORMAT: 'json', OPENAI_BASE_URL: ai.url, SHUTDOWN_TIMEOUT_MS: '25000' });
    const posted = await fetch(`${parley.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 'slow', text: 'take your time' }) });
    expect(posted.status).toBe(202);
    await until(() => ai!.calls.length === 1, 'the AI call to start', 15_000);
    // One Ctrl-C, two copies: the terminal's to the process group and npm's to its child.
    parley.child.kill('SIGINT');
    parley.child.kill('SIGINT');
    await until(() => parley!.logs().includes('shutting down'), 'the drain to begin', 15_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(parley.child.exitCode).toBeNull(); // still waiting for the job
    const pressed = Date.now();
    parley.child.kill('SIGINT');
    const code = await Promise.race([parley.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 5000))]);
    expect(code).toBe(130);
    expect(Date.now() - pressed).toBeLessThan(3000);
    const forced = parley.logs().split('\n').filter((line) => line.includes('second SIGINT: exiting now'));
    expect(forced).toHaveLength(1);
    expect(JSON.parse(forced[0]!)).toMatchObject({ level: 40, msg: 'second SIGINT: exiting now, without waiting for running jobs to finish' });
    // The job still running (in memory only, its web request answered 202) is named, by ids only.
    const lost = parley.logs().split('\n').filter((line) => line.includes('are lost'));
    expect(lost).toHaveLength(1);
    const named = JSON.parse(lost[0]!) as { level: number; lost: number; exit: string; messages: { platform: string }[] };
    expect(named).toMatchObject({ level: 50, lost: 1, exit: 'second SIGINT' });
    expect(named.messages.map((m) => m.platform)).toEqual(['web']);
    expect(lost[0]).not.toContain('take your time');
  }, 60_000);

  it('a second SIGTERM forces the exit too (143)', async () => {
    parley = await startParley(['serve'], { LOG_FORMAT: 'json', REDIS_URL: 'redis://127.0.0.1:1', SHUTDOWN_TIMEOUT_MS: '25000' });
    parley.child.kill('SIGTERM');
    await until(() => parley!.logs().includes('shutting down'), 'the drain to begin', 15_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    parley.child.kill('SIGTERM');
    const code = await Promise.race([parley.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 5000))]);
    expect(code).toBe(143);
    expect(parley.logs()).toContain('second SIGTERM: exiting now');
  }, 60_000);
});
