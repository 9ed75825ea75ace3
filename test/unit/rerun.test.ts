/**
 * A job run again after its reply was posted (an SQS delete lost, a stalled BullMQ job, a retry
 * after a later step failed): the AI is not asked again when the reply went out in full and the
 * exchange was remembered; a reply posted only in part is still finished, as before.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Adapter, ReplyPart } from '../../src/adapter.js';
import { ConversationHistory } from '../../src/ai/history.js';
import type { AiClient, AiRequest, AiResult, AiStream } from '../../src/ai/index.js';
import { MemoryConversationLog } from '../../src/conversation-log.js';
import { answerWithAi, type MessageHandler } from '../../src/handler.js';
import { conversationGroup, messageJobId, type JobData } from '../../src/jobs.js';
import type { ConversationRef, InboundMessage } from '../../src/message.js';
import { createMetrics } from '../../src/observe/index.js';
import type { Job } from '../../src/queue/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { processJob, type WorkerDeps } from '../../src/worker.js';
import { conversation, FakeAdapter, inbound, silentLogger } from './helpers.js';

/** The AI: answers "echo: <text> (call n)", counting its calls, streamed or not. */
class CountingAi implements AiClient {
  readonly circuit = 'closed' as const;
  calls = 0;
  async reply(request: AiRequest): Promise<AiResult> {
    return { text: `echo: ${request.text} (call ${++this.calls})`, model: 'fake-model', usage: { inputTokens: 1, outputTokens: 1, costUsd: 0 }, cached: false };
  }
  stream(request: AiRequest): AiStream {
    const result = this.reply(request);
    return {
      notice: Promise.resolve(false),
      chunks: (async function* () {
        yield (await result).text;
      })(),
      result,
    } as unknown as AiStream;
  }
}

let store: MemoryStore;
let ai: CountingAi;
let log: MemoryConversationLog;
let deps: WorkerDeps;

function depsFor(adapter: Adapter): WorkerDeps {
  return {
    settings: { vision: false, mediaNotice: 'text only', handoffReply: 'handing over' },
    store,
    ai,
    history: new ConversationHistory(store, { turns: 20, tokenBudget: 3000, ttlSeconds: 3600 }),
    conversationLog: log,
    metrics: createMetrics(),
    logger: silentLogger,
    adapterFor: (platform) => (platform === adapter.platform ? adapter : undefined),
    handler: () => answerWithAi,
  };
}

beforeEach(() => {
  store = new MemoryStore();
  ai = new CountingAi();
  log = new MemoryConversationLog();
});

function job(message: InboundMessage, attempt = 1, redelivered = false): Job<JobData> {
  return { id: messageJobId(message), group: conversationGroup(message.conversation), data: { type: 'message', message }, attempt, maxAttempts: 3, ...(redelivered ? { redelivered } : {}) };
}

describe('a job run again after its reply was posted', () => {
  it.each([
    ['redelivered (an SQS delete lost, a stalled BullMQ job)', 1, true],
    ['a later attempt', 2, false],
  ])('%s: the AI is asked once, the reply posted once, the exchange remembered and logged once', async (_name, attempt, redelivered) => {
    const adapter = new FakeAdapter();
    deps = depsFor(adapter);
    const message = inbound({ text: 'once', conversation: conversation('c-again') });
    await processJob(deps, job(message));
    await processJob(deps, job(message, attempt, redelivered));
    expect(ai.calls).toBe(1);
    expect(adapter.sent.map((s) => s.reply.text)).toEqual(['echo: once (call 1)']);
    expect((await deps.history.window(message.conversation)).map((t) => t.text)).toEqual(['once', 'echo: once (call 1)']);
    expect((await log.list('c-again')).map((e) => e.output)).toEqual(['echo: once (call 1)']);
  });

  it('a reply posted only in part (its second part failed) is still finished with the first answer\'s parts', async () => {
    const posted: string[] = [];
    let failSecond = true;
    const adapter = Object.assign(new FakeAdapter(), {
      maxChars: 20,
      async sendPart(_conversation: ConversationRef, text: string, part: ReplyPart) {
        if (part.index === 1 && failSecond) throw ((failSecond = false), new Error('platform down'));
        posted.push(text);
        return `p${posted.length}`;
      },
    });
    deps = depsFor(adapter);
    const message = inbound({ text: 'a question long enough', conversation: conversation('c-part') });
    await expect(processJob(deps, job(message))).rejects.toThrow('platform down');
    await processJob(deps, job(message, 2));
    expect(ai.calls).toBe(2); // nothing says the answer was posted in full: asked as before
    expect(posted.join(' ')).toContain('(call 1)');
    expect(posted.join(' ')).not.toContain('(call 2)');
  });

  it('streamed (SLACK_STREAMING on): redelivered, the AI is asked once and the reply streamed once', async () => {
    const streams: string[] = [];
    const adapter = Object.assign(new FakeAdapter(), {
      async stream(_conversation: ConversationRef, chunks: AsyncIterable<string>) {
        let text = '';
        for await (const chunk of chunks) text += chunk;
        streams.push(text);
        return { ids: ['s1'], text };
      },
    });
    deps = depsFor(adapter);
    const message = inbound({ text: 'stream it', conversation: conversation('c-stream') });
    await processJob(deps, job(message));
    await processJob(deps, job(message, 1, true));
    expect(ai.calls).toBe(1);
    expect(streams).toEqual(['echo: stream it (call 1)']);
    expect((await deps.history.window(message.conversation)).map((t) => t.text)).toEqual(['stream it', 'echo: stream it (call 1)']);
  });

  it('a first run reads no marker before the AI', async () => {
    const adapter = new FakeAdapter();
    deps = depsFor(adapter);
    const read: string[] = [];
    const get = store.get.bind(store);
    store.get = (key) => (read.push(key), get(key));
    let readBeforeAi: string[] = [];
    const reply = ai.reply.bind(ai);
    ai.reply = (request) => ((readBeforeAi = [...read]), reply(request));
    await processJob(deps, job(inbound({ text: 'first' })));
    expect(ai.calls).toBe(1);
    expect(readBeforeAi.filter((key) => key.includes(':sent:'))).toEqual([]);
  });

  it('a handler of two replies, its second never posted: postedBefore() says false for it, and the answer is posted on the retry', async () => {
    const adapter = new FakeAdapter();
    deps = depsFor(adapter);
    let aiDown = true;
    // The README's pattern: ask postedBefore() before paying for the reply it would repeat.
    const handler: MessageHandler = async (message, ctx) => {
      await ctx.reply({ text: 'Looking into it…', kind: 'notice' });
      if (await ctx.postedBefore?.()) return;
      if (aiDown) throw ((aiDown = false), new Error('AI down'));
      await ctx.reply((await ctx.ai.reply({ conversationId: message.conversation.id, history: [], text: message.text })).text);
    };
    deps.handler = () => handler;
    const message = inbound({ text: 'two replies', conversation: conversation('c-two') });
    await expect(processJob(deps, job(message))).rejects.toThrow('AI down');
    await processJob(deps, job(message, 2));
    expect(adapter.sent.map((s) => s.reply.text)).toEqual(['Looking into it…', 'echo: two replies (call 1)']);
  });
});
