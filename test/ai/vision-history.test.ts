/**
 * With AI_VISION=true an image sent alone is remembered as a turn that names it, not as an empty
 * one: Anthropic-compatible endpoints refuse a message with empty content (400), so every later
 * request in the conversation failed. Core level, any platform: the worker and the real AI
 * client, the AI faked over HTTP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Adapter } from '../../src/adapter.js';
import { ConversationHistory } from '../../src/ai/history.js';
import { OpenAiClient } from '../../src/ai/index.js';
import { buildMessages } from '../../src/ai/messages.js';
import { answerWithAi } from '../../src/handler.js';
import { conversationGroup, messageJobId } from '../../src/jobs.js';
import type { InboundMessage } from '../../src/message.js';
import { createMetrics } from '../../src/observe/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { processJob, type WorkerDeps } from '../../src/worker.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { conversation, FakeAdapter, inbound, silentLogger } from '../unit/helpers.js';
import { testOptions } from './options.js';

type Part = { type: string; text?: string };

/** Whether a message is one an Anthropic-compatible endpoint refuses: empty content, or an empty text part. */
const isEmpty = (content: unknown) =>
  (typeof content === 'string' && content.trim() === '') || (Array.isArray(content) && (content.length === 0 || (content as Part[]).some((p) => p.type === 'text' && !p.text?.trim())));

let ai: FakeOpenAi;
let store: MemoryStore;
let adapter: FakeAdapter;
let deps: WorkerDeps;

beforeEach(async () => {
  ai = await startFakeOpenAi(
    (call) =>
      call.body.messages.some((m) => isEmpty(m.content))
        ? { status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'messages: all messages must have non-empty content' } } }
        : { text: call.body.messages.length > 2 ? 'Ginger.' : 'A cat on a sofa.' },
  );
  store = new MemoryStore();
  adapter = new FakeAdapter();
  deps = {
    settings: { vision: true, mediaNotice: 'text only, please', handoffReply: 'handing you over' },
    store,
    ai: new OpenAiClient(testOptions({ baseURL: ai.url, systemPrompt: '', attempts: 1 })),
    history: new ConversationHistory(store, { turns: 20, tokenBudget: 3000, ttlSeconds: 3600 }),
    metrics: createMetrics(),
    logger: silentLogger,
    adapterFor: (platform) => (platform === adapter.platform ? (adapter as Adapter) : undefined),
    handler: () => answerWithAi,
  };
});
afterEach(async () => {
  await store.close();
  await ai.close();
});

const answer = (message: InboundMessage) =>
  processJob(deps, { id: messageJobId(message), group: conversationGroup(message.conversation), data: { type: 'message', message }, attempt: 1, maxAttempts: 1 });

describe('an image sent alone, then a text message (AI_VISION=true)', () => {
  it('the history names the image, and the next request has no message with empty content', async () => {
    const chat = conversation('c-vision');
    await answer(inbound({ text: '', attachments: [{ url: 'https://files.example.com/cat.jpg', contentType: 'image/jpeg' }], conversation: chat }));
    await answer(inbound({ text: 'what colour is it?', conversation: chat }));

    expect(adapter.sent.map((s) => [s.reply.kind, s.reply.text])).toEqual([
      ['answer', 'A cat on a sofa.'],
      ['answer', 'Ginger.'],
    ]);
    expect(ai.calls).toHaveLength(2);
    expect(ai.calls[1]!.body.messages).toEqual([
      { role: 'user', content: '[attachment: image/jpeg]' },
      { role: 'assistant', content: 'A cat on a sofa.' },
      { role: 'user', content: 'what colour is it?' },
    ]);
  });

  it('an empty turn already in the history (stored before this fix) is left out of the request', () => {
    const at = '2024-01-01T00:00:00Z';
    const history = [
      { role: 'user' as const, text: '', at },
      { role: 'assistant' as const, text: 'A cat on a sofa.', at },
    ];
    expect(buildMessages('', { conversationId: 'c1', history, text: 'what colour is it?' })).toEqual([
      { role: 'assistant', content: 'A cat on a sofa.' },
      { role: 'user', content: 'what colour is it?' },
    ]);
  });
});
