/**
 * Slack's limits are per workspace: a 429 on a call of a reply outside its parts' posts (looking
 * whether a part that timed out was taken, stopping a broken stream) that asks for more than the
 * adapter's 2 s goes to the queue at once, as a part's post does, rather than holding the worker's
 * slot from other workspaces for up to three 10 s waits. Slack is faked over HTTP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebClient } from '@slack/web-api';
import { webClientOptions } from '../../adapters/slack/adapter.js';
import { SlackSender } from '../../adapters/slack/send.js';
import { MemoryStore, RetryAfterError } from '../../src/index.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { silentLogger } from '../unit/helpers.js';

const conversation = { platform: 'slack', id: 'T1:C1:1700000000.000100', details: { team: 'T1', channel: 'C1', threadTs: '1700000000.000100', user: 'U1' } };

describe('a 429 longer than 2 s on a Slack call outside a part', () => {
  let slack: FakeSlack;
  let sender: SlackSender;
  beforeEach(async () => {
    slack = await startFakeSlack();
    const store = new MemoryStore();
    sender = new SlackSender(new WebClient('xoxb-limited', webClientOptions(slack.url)), () => store, () => silentLogger);
  });
  afterEach(() => slack.close());

  it('looking for a part that may have been posted: the wait is handed to the queue, Slack asked once', async () => {
    slack.on('conversations.replies', (_call, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '5' }, body: { ok: false, error: 'ratelimited' } } : undefined));
    const part = { index: 0, total: 1, kind: 'answer' as const, key: 'job-1:1:0' };
    const error = await sender.findPart(conversation, part, Date.now() - 1000).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetryAfterError);
    expect((error as RetryAfterError).retryAfterMs).toBe(5000);
    expect(slack.callsTo('conversations.replies')).toHaveLength(1);
  });
});
