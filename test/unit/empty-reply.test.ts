/**
 * A reply with no text is no reply: nothing is posted or recorded as sent, it does not count as
 * delivered (so "thinking…" is cleared and a final failure still apologises), and a streamed reply
 * that ends with no text fails like an empty AI answer.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Adapter, ReplyPart } from '../../src/adapter.js';
import { ConversationHistory } from '../../src/ai/history.js';
import type { AiClient } from '../../src/ai/index.js';
import type { MessageHandler } from '../../src/handler.js';
import { conversationGroup, keys, messageJobId, type JobData } from '../../src/jobs.js';
import type { InboundMessage } from '../../src/message.js';
import { createMetrics } from '../../src/observe/index.js';
import type { Job } from '../../src/queue/index.js';
import { postReply } from '../../src/replies.js';
import { MemoryStore } from '../../src/store/index.js';
import { processJob, type WorkerDeps } from '../../src/worker.js';
import { conversation, FakeAdapter, inbound, silentLogger } from './helpers.js';

let store: MemoryStore;
let adapter: FakeAdapter;
let handler: MessageHandler;
let deps: WorkerDeps;

beforeEach(() => {
  store = new MemoryStore();
  adapter = new FakeAdapter();
  (adapter as { replyClearsIndicator?: boolean }).replyClearsIndicator = true;
  deps = {
    settings: { vision: false, mediaNotice: 'text only, please', handoffReply: 'handing you over' },
    store,
    ai: { circuit: 'closed', reply: () => Promise.reject(new Error('not asked')) } satisfies AiClient,
    history: new ConversationHistory(store, { turns: 20, tokenBudget: 3000, ttlSeconds: 3600 }),
    metrics: createMetrics(),
    logger: silentLogger,
    adapterFor: (platform) => (platform === adapter.platform ? (adapter as Adapter) : undefined),
    handler: () => handler,
  };
});
afterEach(() => store.close());

const job = (message: InboundMessage, attempt = 1, maxAttempts = 3): Job<JobData> => ({
  id: messageJobId(message),
  group: conversationGroup(message.conversation),
  data: { type: 'message', message },
  attempt,
  maxAttempts,
});

describe('a reply with no text', () => {
  it('is not posted nor recorded as sent, and "thinking…" is cleared since nothing reached the user', async () => {
    handler = async (_message, context) => {
      expect(await context.reply('')).toBe('');
      await context.reply({ text: '  \n', kind: 'answer' });
    };
    const message = inbound({ conversation: conversation('c-empty') });
    await processJob(deps, job(message));
    expect(adapter.sent).toEqual([]);
    expect(await store.get(keys.sent(messageJobId(message), 1))).toBeUndefined();
    expect(adapter.indications).toEqual([
      { conversation: 'c-empty', state: 'thinking' },
      { conversation: 'c-empty', state: 'done' },
    ]);
  });

  it('does not pass for an answer: the last failed attempt still gets the one apology', async () => {
    handler = async (_message, context) => {
      await context.reply('');
      throw new Error('the handler failed after its empty reply');
    };
    await expect(processJob(deps, job(inbound(), 3, 3))).rejects.toThrow('empty reply');
    expect(adapter.sent.map((sent) => sent.reply.kind)).toEqual(['apology']);
  });

  it('streamed: a stream that ends with no text fails as an empty AI answer, and posts nothing but the apology', async () => {
    handler = async (_message, context) => {
      await context.replyStream((async function* () {})());
    };
    await expect(processJob(deps, job(inbound(), 1, 3))).rejects.toMatchObject({ kind: 'empty', retryable: true });
    expect(adapter.sent).toEqual([]);
    await expect(processJob(deps, job(inbound(), 3, 3))).rejects.toMatchObject({ kind: 'empty' });
    expect(adapter.sent.map((sent) => sent.reply.kind)).toEqual(['apology']);
  });
});

describe('postReply with no text', () => {
  it('posts no part and writes no marker, through sendPart or send', async () => {
    const parts: string[] = [];
    const partAdapter = {
      platform: 'parts',
      path: '/parts',
      contentTypes: ['application/json'],
      receive: async () => ({ response: { status: 200 }, messages: [] }),
      sendPart: async (_c: unknown, text: string, _part: ReplyPart) => (parts.push(text), `id-${parts.length}`),
    } satisfies Adapter;
    const alsoMark = { key: 'sent:job-e:1', value: 'now' };
    const ref = conversation('c-parts', 'parts');
    expect(await postReply(partAdapter, ref, { text: ' ' }, { key: 'job-e:1', markers: store, alsoMark })).toEqual({ ids: [], empty: true });
    expect(parts).toEqual([]);
    expect(await store.get(alsoMark.key)).toBeUndefined();
    expect(await postReply(adapter, conversation(), { text: '' }, { key: 'job-f:1', markers: store, alsoMark })).toEqual({ ids: [], empty: true });
    expect(adapter.sent).toEqual([]);
    expect(await store.get(alsoMark.key)).toBeUndefined();
  });
});
