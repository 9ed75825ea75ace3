/**
 * A refused OpenAI key raises an alert through the whole bot: the web chat, the fake OpenAI taking
 * only some keys, and a local fake of the alert webhook. One post per refused key, naming the key
 * by its number only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeCallback } from '../fakes/callback-server.js';
import { startAlertingBot, type AlertingBot } from '../helpers/alerting-bot.js';
import { postedTexts } from '../helpers/ops.js';
import { until } from '../helpers/until.js';
import { assistantReplies } from '../helpers/web-bot.js';

const KEY_PARTS = /bad-key|good-key|older-key|1234|5678|9012/;

let running: AlertingBot | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** The posts about keys (past the budget, a budget alert is posted too). */
const keyAlerts = (webhook: FakeCallback) => postedTexts(webhook).filter((text) => text.includes('API key'));

/** The fake OpenAI takes good-key-5678 only. */
async function start(keys: string, env: Record<string, string> = {}): Promise<AlertingBot> {
  running = await startAlertingBot({ OPENAI_API_KEY: keys, ...env }, { acceptKeys: ['good-key-5678'] });
  return running;
}

describe('a refused API key', () => {
  it('"bad,good": one post about key #1, whatever the traffic, and no key in it', async () => {
    const { ai, webhook, web } = await start('bad-key-1234,good-key-5678');
    for (const [i, text] of ['one', 'two', 'three'].entries()) {
      await web.post('k1', text);
      await web.waitFor('k1', (e) => assistantReplies(e).length === i + 1);
    }
    expect(ai.calls.map((c) => c.key)).toEqual(['bad-key-1234', 'good-key-5678', 'good-key-5678', 'good-key-5678']);
    await until(() => webhook.calls.length > 0, 'the key alert');
    const metrics = await (await fetch(`${web.url}/metrics`)).text();
    expect(metrics).toMatch(/^parley_alerts_total\{kind="ai_key_rejected"\} 1$/m);
    await web.close();
    expect(postedTexts(webhook)).toEqual(['parley: the AI provider refused API key #1 of 2 (401); key #2 is tried instead. Replace it in OPENAI_API_KEY.']);
    expect(webhook.calls[0]!.raw).not.toMatch(KEY_PARTS);
  });

  it('every key refused: one post per key, the last saying none is left', async () => {
    const { webhook, web } = await start('bad-key-1234,older-key-9012', { JOB_ATTEMPTS: '1' });
    await web.post('k2', 'hello?');
    await web.waitFor('k2', (e) => assistantReplies(e).length === 1);
    await web.post('k2', 'anyone?');
    await web.waitFor('k2', (e) => assistantReplies(e).length === 2);
    await web.close();
    expect(postedTexts(webhook).sort()).toEqual([
      'parley: the AI provider refused API key #1 of 2 (401); key #2 is tried instead. Replace it in OPENAI_API_KEY.',
      'parley: the AI provider refused API key #2 of 2 (401); no key is left to try. Replace it in OPENAI_API_KEY.',
    ]);
    for (const call of webhook.calls) expect(call.raw).not.toMatch(KEY_PARTS);
  });

  it("a refused key of OPENAI_FALLBACK_API_KEY is named as that variable's, apart from the primary's", async () => {
    const { ai, webhook, web } = await start('bad-key-1234,good-key-5678', {
      OPENAI_FALLBACK_MODEL: 'cheap-model',
      OPENAI_FALLBACK_API_KEY: 'older-key-9012,good-key-5678',
      AI_BUDGET_POLICY: 'fallback',
      AI_BUDGET_USD_PER_DAY: '0.000001',
    });
    await web.post('k3', 'one');
    await web.waitFor('k3', (e) => assistantReplies(e).length === 1);
    await web.post('k3', 'two'); // past the budget: the fallback answers
    await web.waitFor('k3', (e) => assistantReplies(e).length === 2);
    expect(ai.calls.map((c) => [c.body.model, c.key])).toEqual([
      ['gpt-4o-mini', 'bad-key-1234'],
      ['gpt-4o-mini', 'good-key-5678'],
      ['cheap-model', 'older-key-9012'],
      ['cheap-model', 'good-key-5678'],
    ]);
    await web.close();
    expect(keyAlerts(webhook).sort()).toEqual([
      'parley: the AI provider refused API key #1 of 2 (401); key #2 is tried instead. Replace it in OPENAI_API_KEY.',
      'parley: the AI provider refused API key #1 of 2 (401); key #2 is tried instead. Replace it in OPENAI_FALLBACK_API_KEY.',
    ]);
  });

  it('the fallback on the same keys (OPENAI_FALLBACK_API_KEY unset): one post for a key both refuse', async () => {
    const { ai, webhook, web } = await start('bad-key-1234,good-key-5678', { OPENAI_FALLBACK_MODEL: 'cheap-model', AI_BUDGET_POLICY: 'fallback', AI_BUDGET_USD_PER_DAY: '0.000001' });
    await web.post('k4', 'one');
    await web.waitFor('k4', (e) => assistantReplies(e).length === 1);
    await web.post('k4', 'two');
    await web.waitFor('k4', (e) => assistantReplies(e).length === 2);
    expect(ai.calls.filter((c) => c.refused).map((c) => c.body.model)).toEqual(['gpt-4o-mini', 'cheap-model']);
    await web.close();
    expect(keyAlerts(webhook)).toEqual(['parley: the AI provider refused API key #1 of 2 (401); key #2 is tried instead. Replace it in OPENAI_API_KEY.']);
  });
});
