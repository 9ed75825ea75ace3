import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Adapter, AdapterContext } from '../../src/index.js';
import { startAdapters } from '../../src/adapter-start.js';
import { rememberSecrets } from '../../src/secret-values.js';
import { MemoryStore } from '../../src/store/index.js';
import { adapterContext } from './helpers.js';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';

/** A logger whose lines land in an array. */
function capture() {
  const lines: { level: number; msg: string; platform?: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** An adapter whose start() fails `failures` times with the given messages (the last repeats), then succeeds. */
function flaky(platform: string, messages: string[], failures: number): Adapter & { calls: number } {
  const adapter = {
    platform,
    path: `/${platform}`,
    contentTypes: ['application/json'],
    calls: 0,
    async start() {
      adapter.calls++;
      if (adapter.calls <= failures) throw new Error(messages[Math.min(adapter.calls, messages.length) - 1]);
    },
    receive: async () => ({ response: { status: 200 }, messages: [] }),
    send: async () => ({ ids: [] }),
  };
  return adapter;
}

const context = (logger: AdapterContext['logger']): AdapterContext => {
  const store = new MemoryStore();
  return adapterContext(store, { logger });
};
const fast = { initialMs: 5, maxMs: 20 };

describe('startAdapters', () => {
  it('retries a failing start in the background and reports starting, failed, then ready', async () => {
    const { logger } = capture();
    const slack = flaky('slack', ['auth.test answered 500'], 4);
    const starts = startAdapters([slack], () => context(logger), logger, fast);
    expect(starts.states()).toEqual({ slack: 'starting' });
    expect(starts.isReady('slack')).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1)); // the first attempt has failed
    expect(starts.states()).toEqual({ slack: 'failed: auth.test answered 500' });
    await starts.allReady;
    expect(starts.states()).toEqual({ slack: 'ready' });
    expect(starts.isReady('slack')).toBe(true);
    expect(slack.calls).toBe(5);
  });

  it('/readyz shows a failed start with the configured secrets hidden, as a log line does (it is not signed in)', async () => {
    const { logger } = capture();
    rememberSecrets('readyz-test-secret-4711');
    const slack = flaky('slack', ['could not reach redis://:readyz-test-secret-4711@10.0.0.9:6379 (xoxb-1234-5678-abcdef)'], 1);
    const starts = startAdapters([slack], () => context(logger), logger, fast);
    await new Promise((resolve) => setTimeout(resolve, 1)); // the first attempt has failed
    const shown = starts.states().slack;
    expect(shown).toMatch(/^failed: could not reach redis:/);
    expect(shown).not.toContain('readyz-test-secret-4711');
    expect(shown).not.toContain('xoxb-1234');
    await starts.allReady;
  });

  it('logs a warning once per change of state, not once per attempt', async () => {
    const { logger, lines } = capture();
    const slack = flaky('slack', ['refused', 'refused', 'refused', 'answered 500', 'answered 500'], 5);
    await startAdapters([slack], () => context(logger), logger, fast).allReady;
    const warnings = lines.filter((l) => l.level === 40).map((l) => l.msg);
    expect(warnings).toEqual(['adapter failed to start; retrying in the background', 'adapter failed to start; retrying in the background']);
    expect(lines.filter((l) => l.msg.startsWith('adapter started after failing'))).toHaveLength(1);
  });

  it('the Slack adapter with its Web API unreachable: one warning for the outage, not one per attempt', async () => {
    const { logger, lines } = capture();
    // A port nothing listens on: every auth.test is refused (the Web API client's "http request failed").
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const slack = slackAdapter(slackConfigFromEnv({ SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: `http://127.0.0.1:${port}/api/` })!);
    let attempts = 0;
    const start = slack.start!.bind(slack);
    slack.start = (ctx) => (attempts++, start(ctx));
    const starts = startAdapters([slack], () => context(logger), logger, fast);
    try {
      for (let waited = 0; attempts < 5 && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(attempts).toBeGreaterThanOrEqual(5);
      expect(lines.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual(['adapter failed to start; retrying in the background']);
    } finally {
      starts.stop();
    }
  });

  it('one adapter failing does not hold up another', async () => {
    const { logger } = capture();
    const starts = startAdapters([flaky('slack', ['down'], Infinity), flaky('web', [], 0)], () => context(logger), logger, fast);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(starts.isReady('web')).toBe(true);
    expect(starts.states().slack).toBe('failed: down');
    starts.stop();
    await expect(starts.allReady).rejects.toThrow();
  });
});
