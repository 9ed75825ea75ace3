/**
 * A reasoning model (DeepSeek-R1, Qwen3) on a server that writes its thinking into the answer
 * (`<think>…</think>`, as Ollama, vLLM without a reasoning parser, llama.cpp and Groq's raw format
 * do): the user sees the answer, never the thinking. Real server; Slack and the AI faked over HTTP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { slackWorldPerTest } from '../helpers/slack-bot.js';
import { until } from '../helpers/until.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';

const thought = (call: Parameters<typeof lastUserText>[0]) => `<think>\nThe user said "${lastUserText(call)}". I should answer briefly.\n</think>\n\nParis is the capital of France.`;

describe('web chat (not streamed)', () => {
  let ai: FakeOpenAi | undefined;
  let web: WebBot | undefined;
  afterEach(async () => {
    await web?.close();
    await ai?.close();
    web = ai = undefined;
  });

  it('the answer is shown without the <think> block before it', async () => {
    ai = await startFakeOpenAi((call) => ({ text: thought(call) }));
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, OPENAI_MODEL: 'deepseek-r1' });
    await web.post('think', 'capital of France?');
    await web.waitFor('think', (e) => assistantReplies(e).length >= 1);
    expect(assistantReplies(await web.transcript('think')).map((e) => e.text)).toEqual(['Paris is the capital of France.']);
  });

  it('an answer that is all thinking (cut by the output limit) is not shown as one', async () => {
    ai = await startFakeOpenAi(() => ({ text: '<think>\nLet me think about this for a long', finishReason: 'length' }));
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, OPENAI_MODEL: 'deepseek-r1', JOB_ATTEMPTS: '1', AI_ATTEMPTS: '1' });
    await web.post('all-thought', 'capital of France?');
    const entries = await web.waitFor('all-thought', (e) => assistantReplies(e).length >= 1);
    expect(assistantReplies(entries).map((e) => e.text).join('')).not.toContain('Let me think');
  });
});

describe('Slack streaming', () => {
  const start = slackWorldPerTest();

  it('the thinking is held back, the answer after it streamed', async () => {
    const world = await start({ ai: (call) => ({ text: thought(call), finishReason: 'stop' }), env: { SLACK_STREAMING: 'on' } });
    await postSlack(world.server.url, appMention({ text: 'capital of France?' }));
    await until(() => world.slack.callsTo('chat.stopStream')[0], 'the stream to be finished');
    const streamed = [...world.slack.callsTo('chat.startStream'), ...world.slack.callsTo('chat.appendStream'), ...world.slack.callsTo('chat.stopStream')]
      .map((call) => String(call.args.markdown_text ?? '') + ((call.args.chunks as { text?: string }[] | undefined) ?? []).map((c) => c.text ?? '').join(''))
      .join('');
    expect(streamed).toBe('Paris is the capital of France.');
  });
});
