/**
 * The Slack adapter loads Bolt only when its App is first needed (adapters/slack/sdk.ts): a bot
 * answers a mention with the Web API client alone; the first request the fast path does not take
 * (a slash command) builds the App, with the bot's ids from start's one auth.test.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('Bolt, loaded on first need', () => {
  it('is not loaded to answer a mention, and is for a slash command, with no second auth.test', () => {
    const root = new URL('../..', import.meta.url).pathname;
    const output = execFileSync(process.execPath, ['--import', 'tsx', 'test/helpers/slack-bolt-loading.ts'], { cwd: root, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'silent' } });
    const steps = JSON.parse(output.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(steps).toEqual({
      started: false,
      authTests: 1,
      mentionStatus: 200,
      replies: 1,
      afterMention: false,
      // No listener of the developer's takes it: Bolt answers that nobody acknowledged it.
      commandStatus: 404,
      afterCommand: true,
      authTestsAfter: 1,
    });
  }, 60_000);
});
