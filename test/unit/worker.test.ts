import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { PermanentError, RetryAfterError, type Adapter } from '../../src/adapter.js';
import { ConversationHistory } from '../../src/ai/history.js';
import { AiError, type AiClient, type AiRequest, type AiResult } from '../../src/ai/index.js';
import { answerWithAi, type MessageHandler } from '../../src/handler.js';
import { conversationGroup, keys, messageJobId, type JobData } from '../../src/jobs.js';
import type { InboundMessage } from '../../src/message.js';
import { createMetrics } from '../../src/observe/index.js';
import { MemoryQueue, type Job } from '../../src/queue/index.js';
import { MemoryConversationLog } from '../../src/conversation-log.js';
import { MemoryStore } from '../../src/store/index.js';
import { abandonJob } from '../../src/apology.js';
import { STATUS_REFRESH_MS } from '../../src/failure.js';
import { answerMessage, processJob, type WorkerDeps } from '../../src/worker.js';
import { sendOnce } from '../../src/send-once.js';
import { CachedAnswers } from '../../src/cached-answers.js';
import { splitMessage } from '../../src/text/split.js';
import { conversation, FakeAdapter, inbound, silentLogger, sleep, waitFor } from './helpers.js';

/** The AI boundary: answers with `respond`, records every request. */
class FakeAi implements AiClient {
  readonly circuit = 'closed' as const;
  readonly requests: AiRequest[] = [];
  respond: (request: AiRequest) => Promise<string> = async (request) => `echo: ${request.text}`;

  async reply(request: AiRequest): Promise<AiResult> {
    this.requests.push(request);
    const text = await this.respond(request);
    return { text, model: 'fake-model', usage: { inputTokens: 1, outputTokens: 1, costUsd: 0 }, cached: false };
  }
}

let store: MemoryStore;
let adapter: FakeAdapter;
let ai: FakeAi;
let handler: MessageHandler;
let deps: WorkerDeps;
const queues: MemoryQueue<JobData>[] = [];

beforeEach(() => {
  store = new MemoryStore();
  adapter = new FakeAdapter();
  ai = new FakeAi();
  handler = answerWithAi;
  deps = {
    settings: { vision: false, mediaNotice: 'text only, please', handoffReply: 'handing you over' },
    store,
    ai,
    history: new ConversationHistory(store, { turns: 20, tokenBudget: 3000, ttlSeconds: 3600 }),
    metrics: createMetrics(),
    logger: silentLogger,
    adapterFor: (platform) => (platform === adapter.platform ? (adapter as Adapter) : undefined),
    handler: () => handler,
  };
});
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(queues.splice(0).map((q) => q.close(0)));
  await store.close();
});

function job(message: InboundMessage, attempt = 1, maxAttempts = 3): Job<JobData> {
  return { id: messageJobId(message), group: conversationGroup(message.conversation), data: { type: 'message', message }, attempt, maxAttempts };
}

function workerQueue(attempts: number): MemoryQueue<JobData> {
  const q = new MemoryQueue<JobData>({ attempts, backoffMs: 2, maxBackoffMs: 10 });
  q.process((j) => processJob(deps, j), { concurrency: 4 });
  queues.push(q);
  return q;
}

const kinds = () => adapter.sent.map((s) => s.reply.kind ?? 'answer');
const apologies = () => adapter.sent.filter((s) => s.reply.kind === 'apology');

async function metricValue(name: 'repliesSent' | 'repliesFailed', labels: Record<string, string>): Promise<number> {
  const { values } = await deps.metrics[name].get();
  return values.find((v) => Object.entries(labels).every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value))?.value ?? 0;
}

describe('processJob answers', () => {
  it('leaves clearing "thinking…" to a platform that clears it with the reply, but clears it when nothing was posted', async () => {
    (adapter as { replyClearsIndicator?: boolean }).replyClearsIndicator = true;
    await processJob(deps, job(inbound({ conversation: conversation('c-clears') })));
    expect(adapter.indications).toEqual([{ conversation: 'c-clears', state: 'thinking' }]);
    handler = async () => undefined; // answers nothing
    await processJob(deps, job(inbound({ conversation: conversation('c-silent') })));
    expect(adapter.indications.slice(1)).toEqual([
      { conversation: 'c-silent', state: 'thinking' },
      { conversation: 'c-silent', state: 'done' },
    ]);
  });

  it('stops refreshing "thinking…" once a reply is posted, though the handler goes on', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let replied!: () => void;
    const repliedOnce = new Promise<void>((resolve) => (replied = resolve));
    let finish!: () => void;
    handler = async (_message, context) => {
      await context.reply('first, a quick answer');
      replied();
      await new Promise<void>((resolve) => (finish = resolve)); // the handler goes on working after its reply
    };
    const answering = processJob(deps, job(inbound({ conversation: conversation('c-refresh') })));
    await repliedOnce;
    vi.advanceTimersByTime(STATUS_REFRESH_MS * 3);
    finish();
    await answering;
    expect(adapter.indications.filter((i) => i.state === 'thinking')).toHaveLength(1);
  });

  it('asks the AI, posts the answer in the conversation, remembers both turns, and shows "thinking…"', async () => {
    const message = inbound({ text: 'what is 2+2?', conversation: conversation('c-answer') });
    await processJob(deps, job(message));
    expect(ai.requests).toHaveLength(1);
    expect(ai.requests[0]).toMatchObject({ conversationId: 'c-answer', text: 'what is 2+2?', history: [] });
    expect(adapter.sent).toEqual([{ conversation: message.conversation, reply: { text: 'echo: what is 2+2?', kind: 'answer', model: 'fake-model' } }]);
    expect(adapter.indications).toEqual([
      { conversation: 'c-answer', state: 'thinking' },
      { conversation: 'c-answer', state: 'done' },
    ]);
    const window = await deps.history.window(message.conversation);
    expect(window.map((t) => [t.role, t.text, t.model])).toEqual([
      ['user', 'what is 2+2?', undefined],
      ['assistant', 'echo: what is 2+2?', 'fake-model'],
    ]);
    expect(await metricValue('repliesSent', { platform: 'test', kind: 'answer' })).toBe(1);
    expect(await store.get(keys.lock(message.conversation))).toBeUndefined();
  });

  it("notes an answer's cache key for an erase only for an adapter that erases conversations (forgets)", async () => {
    ai.reply = async (request) => ({ text: `echo: ${request.text}`, model: 'fake-model', usage: { inputTokens: 1, outputTokens: 1, costUsd: 0 }, cached: false, cacheKey: `key-of-${request.text}` });
    // A client whose cache can forget (as the bot's is): its answers carry the key they are cached under.
    Object.assign(ai, { forgetCached: async () => undefined });
    deps.cachedAnswers = new CachedAnswers(store, 3600);
    const noted = (id: string) => store.listRange(`parley:answer-keys:test:${id}`, 0, -1);
    await processJob(deps, job(inbound({ id: 'm-kept', text: 'kept', conversation: conversation('c-never-erased') })));
    expect(adapter.sent).toHaveLength(1);
    expect(await noted('c-never-erased')).toEqual([]);
    Object.assign(adapter, { forgets: true });
    await processJob(deps, job(inbound({ id: 'm-erasable', text: 'erasable', conversation: conversation('c-erasable') })));
    expect(await noted('c-erasable')).toEqual(['key-of-erasable']);
  });

  it('writes the exchange to the conversation log: who, what, the answer, model, tokens, latency', async () => {
    const log = new MemoryConversationLog();
    deps.conversationLog = log;
    const message = inbound({ text: 'log me', conversation: conversation('c-log'), user: { id: 'u-log' }, tenant: 'acme' });
    await processJob(deps, job(message));
    const [entry, ...rest] = await log.list('c-log');
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ conversationId: 'c-log', platform: 'test', user: 'u-log', tenant: 'acme', input: 'log me', output: 'echo: log me', model: 'fake-model', inputTokens: 1, outputTokens: 1 });
    expect(entry!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(entry!.timestamp)).toBeGreaterThanOrEqual(Date.parse(message.receivedAt));
  });

  it('answers even when the conversation log cannot be written', async () => {
    deps.conversationLog = { record: async () => Promise.reject(new Error('log table down')), list: async () => [] };
    await processJob(deps, job(inbound({ conversation: conversation('c-log-down') })));
    expect(kinds()).toEqual(['answer']);
    // Not only a log line: the exchange missing from the log is counted, for an alert to find.
    expect((await deps.metrics.registry.getSingleMetricAsString('parley_conversation_log_failed_total'))).toContain('parley_conversation_log_failed_total{platform="test"} 1');
  });

  it("counts an apology the conversation log could not take", async () => {
    deps.conversationLog = { record: async () => Promise.reject(new Error('log table down')), list: async () => [] };
    await abandonJob(deps, job(inbound({ conversation: conversation('c-log-down-apology') })), 'stalled');
    expect((await deps.metrics.registry.getSingleMetricAsString('parley_conversation_log_failed_total'))).toContain('parley_conversation_log_failed_total{platform="test"} 1');
  });

  it('sends the earlier turns of the conversation to the AI', async () => {
    const conv = conversation('c-history');
    await processJob(deps, job(inbound({ text: 'my name is Ada', conversation: conv })));
    await processJob(deps, job(inbound({ text: 'what is my name?', conversation: conv })));
    expect(ai.requests[1]?.history.map((t) => t.text)).toEqual(['my name is Ada', 'echo: my name is Ada']);
  });

  it('posts a notice job once, even when the job is processed again', async () => {
    const notice: Job<JobData> = {
      id: 'notice.test.e1',
      group: 'test.c1',
      data: { type: 'notice', conversation: conversation(), reply: { kind: 'notice', text: 'slow down' } },
      attempt: 1,
      maxAttempts: 3,
    };
    await processJob(deps, notice);
    await processJob(deps, { ...notice, attempt: 2 });
    expect(adapter.sent.map((s) => s.reply)).toEqual([{ kind: 'notice', text: 'slow down' }]);
    expect(ai.requests).toHaveLength(0);
  });

  it('a failing indicator does not fail the message', async () => {
    adapter.indicate = async () => {
      throw new Error('typing indicator unavailable');
    };
    await processJob(deps, job(inbound()));
    expect(kinds()).toEqual(['answer']);
  });

  it("binds the job's request id on the message's log lines; a job queued without one (an older version's) is answered all the same", async () => {
    const lines: Record<string, unknown>[] = [];
    deps.logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const carried = inbound({ conversation: conversation('c-request-id') });
    await processJob(deps, { ...job(carried), data: { type: 'message', message: carried, requestId: 'req-42' } });
    const older = inbound({ conversation: conversation('c-no-request-id') });
    await processJob(deps, job(older));
    const answered = lines.filter((line) => line.msg === 'message answered');
    expect(answered).toEqual([expect.objectContaining({ job: messageJobId(carried), requestId: 'req-42' }), expect.objectContaining({ job: messageJobId(older) })]);
    expect(answered[1]).not.toHaveProperty('requestId');
  });

  it('dead-ends a message for a platform without adapter with PermanentError(no_adapter)', async () => {
    const message = inbound({ platform: 'nowhere', conversation: conversation('c', 'nowhere') });
    await expect(processJob(deps, job(message))).rejects.toMatchObject({ name: 'PermanentError', reason: 'no_adapter' });
  });
});

describe('a reply the adapter holds back (sendPart answers null: the conversation is no longer the bot\'s)', () => {
  it('is not counted as sent or delivered, nor logged as an answer, and is not posted by a retry', async () => {
    const lines: Record<string, unknown>[] = [];
    deps.logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const log = new MemoryConversationLog();
    deps.conversationLog = log;
    const offered: string[] = [];
    (adapter as unknown as Adapter).sendPart = async (_conversation, text) => (offered.push(text), null);
    const message = inbound({ text: 'slow question', conversation: conversation('c-held') });
    await processJob(deps, job(message));
    expect(offered).toEqual(['echo: slow question']);
    expect(await metricValue('repliesSent', { platform: 'test', kind: 'answer' })).toBe(0);
    expect((await deps.metrics.replySeconds.get()).values.find((v) => v.metricName === 'parley_reply_seconds_count')?.value ?? 0).toBe(0);
    expect(lines.find((line) => line.msg === 'message answered')).toBeUndefined();
    expect(lines.find((line) => line.msg === 'message not answered: its reply was held back')).toMatchObject({ level: 30, replies: 0, withheld: 1 });
    // Recorded for the console as held back, not as an answer; "thinking…" is cleared since nothing was posted.
    expect(await log.list('c-held')).toMatchObject([{ input: 'slow question', output: 'echo: slow question', outcome: 'withheld', model: 'fake-model' }]);
    expect(adapter.indications.at(-1)).toEqual({ conversation: 'c-held', state: 'done' });
    // Still marked sent: a later run of the job posts nothing.
    expect(await store.get(keys.sent(messageJobId(message), 1))).toBeDefined();
    await processJob(deps, job(message, 2));
    expect(offered).toHaveLength(1);
  });

  it('held back, then the handler fails: the retry neither posts it nor counts it as delivered', async () => {
    const lines: Record<string, unknown>[] = [];
    deps.logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const offered: string[] = [];
    (adapter as unknown as Adapter).sendPart = async (_conversation, text) => (offered.push(text), null);
    let runs = 0;
    handler = async (_message, context) => {
      await context.reply('held answer');
      if (++runs === 1) throw new Error('failed after the reply');
    };
    const message = inbound({ conversation: conversation('c-held-retry') });
    await expect(processJob(deps, job(message, 1))).rejects.toThrow('failed after the reply');
    await processJob(deps, job(message, 2));
    expect(offered).toEqual(['held answer']);
    expect(await metricValue('repliesSent', { platform: 'test', kind: 'answer' })).toBe(0);
    expect(lines.find((line) => line.msg === 'message answered')).toBeUndefined();
    expect(lines.find((line) => line.msg === 'message not answered: its reply was held back')).toMatchObject({ replies: 0, withheld: 1, attempt: 2 });
  });
});

describe('effectively-once replies', () => {
  it('a recovered job does not post again the replies it already posted', async () => {
    let runs = 0;
    handler = async (_message, context) => {
      runs++;
      await context.reply('part one');
      await context.reply({ text: 'part two', kind: 'answer' });
      if (runs === 1) throw new Error('crashed after sending, before finishing');
    };
    const message = inbound();
    await expect(processJob(deps, job(message, 1))).rejects.toThrow('crashed');
    await processJob(deps, job(message, 2));
    expect(runs).toBe(2);
    expect(adapter.sent.map((s) => s.reply.text)).toEqual(['part one', 'part two']);
    expect(apologies()).toHaveLength(0);
  });

  it('a retry posts only the replies that were not posted yet', async () => {
    let runs = 0;
    handler = async (_message, context) => {
      runs++;
      await context.reply('first');
      if (runs === 1) throw new Error('failed between replies');
      await context.reply('second');
    };
    const q = workerQueue(3);
    await q.add(job(inbound()));
    await waitFor(() => adapter.sent.length === 2);
    await sleep(30);
    expect(adapter.sent.map((s) => s.reply.text)).toEqual(['first', 'second']);
    expect(await q.deadLetters()).toEqual([]);
  });

  it("a job ends only once its reply's marker is written, and a marker that cannot be written fails the attempt without an apology", async () => {
    const writes: Array<(ok: boolean) => void> = [];
    const real = store.set.bind(store);
    // The "sent" marker's write waits for the test (as a slow Redis would); the history and the log go through.
    store.set = (key, value, ttlMs) =>
      key.includes(':sent:') ? new Promise<void>((resolve, reject) => writes.push((ok) => (ok ? resolve(real(key, value, ttlMs)) : reject(new Error('store down'))))) : real(key, value, ttlMs);
    let ended = false;
    const answered = processJob(deps, job(inbound(), 1)).finally(() => (ended = true));
    await waitFor(() => writes.length === 1);
    expect(adapter.sent).toHaveLength(1); // posted; its marker is still being written
    await sleep(20);
    expect(ended).toBe(false);
    writes[0]!(true);
    await answered;

    const failing = processJob(deps, job(inbound(), 1, 3));
    await waitFor(() => writes.length === 2);
    writes[1]!(false);
    await expect(failing).rejects.toThrow('store down');
    expect(adapter.sent).toHaveLength(2);
    expect(apologies()).toHaveLength(0); // the answer was posted
    expect(await metricValue('repliesSent', { platform: 'test', kind: 'answer' })).toBe(2);
  });

  it('a job run again after it answered (its process died before the queue heard) remembers the exchange once', async () => {
    const log = new MemoryConversationLog();
    deps.conversationLog = log;
    const message = inbound({ text: 'once only', conversation: conversation('c-rerun') });
    await processJob(deps, job(message, 1));
    await processJob(deps, job(message, 1)); // a stalled job runs again with the same attempt
    expect(adapter.sent.map((s) => s.reply.text)).toEqual(['echo: once only']);
    expect((await deps.history.window(message.conversation)).map((t) => [t.role, t.text])).toEqual([
      ['user', 'once only'],
      ['assistant', 'echo: once only'],
    ]);
    expect((await log.list('c-rerun')).map((e) => e.input)).toEqual(['once only']);
    // A later message of the conversation is remembered as usual.
    await processJob(deps, job(inbound({ text: 'next', conversation: conversation('c-rerun') })));
    expect((await deps.history.window(message.conversation)).map((t) => t.text)).toEqual(['once only', 'echo: once only', 'next', 'echo: next']);
    expect(await log.list('c-rerun')).toHaveLength(2);
  });

  it('a retry after the history could not be written writes it then, once', async () => {
    const realPush = store.listPush.bind(store);
    let pushes = 0;
    store.listPush = (key, values, options) => (++pushes === 1 ? Promise.reject(new Error('store blip')) : realPush(key, values, options));
    const message = inbound({ text: 'remember me', conversation: conversation('c-blip') });
    await expect(processJob(deps, job(message, 1))).rejects.toThrow('store blip');
    await processJob(deps, job(message, 2));
    expect(adapter.sent.map((s) => s.reply.text)).toEqual(['echo: remember me']);
    expect((await deps.history.window(message.conversation)).map((t) => t.text)).toEqual(['remember me', 'echo: remember me']);
  });

  it('the same text in two different messages is posted twice (markers are per job)', async () => {
    ai.respond = async () => 'same answer';
    await processJob(deps, job(inbound()));
    await processJob(deps, job(inbound()));
    expect(adapter.sent.map((s) => s.reply.text)).toEqual(['same answer', 'same answer']);
  });

  it('a send that fails (platform 429) is retried by the queue and then posted once', async () => {
    let sends = 0;
    adapter.beforeSend = () => {
      sends++;
      if (sends === 1) throw new RetryAfterError('429', 5);
    };
    const q = workerQueue(3);
    await q.add(job(inbound()));
    await waitFor(() => adapter.sent.length === 1);
    await sleep(30);
    expect(kinds()).toEqual(['answer']);
    expect(ai.requests).toHaveLength(2);
    // A wait the platform asked for is no failed reply.
    expect(await metricValue('repliesFailed', { platform: 'test' })).toBe(0);
    expect(await q.deadLetters()).toEqual([]);
  });

  it("a platform's long Retry-After is waited in full (not come back to within the hour it asked for), an AI's wait at most a minute", async () => {
    deps.maxWaitMs = 2 * 60 * 60_000;
    adapter.beforeSend = () => {
      throw new RetryAfterError('Slack rate limit', 3_600_000);
    };
    const platformWait = await processJob(deps, job(inbound({ conversation: conversation('c-long-429') }))).catch((error: unknown) => error);
    expect(platformWait).toBeInstanceOf(RetryAfterError);
    expect((platformWait as RetryAfterError).retryAfterMs).toBe(3_600_000);
    expect(await metricValue('repliesFailed', { platform: 'test' })).toBe(0);
    // Never past AI_MAX_WAIT_MS: at most what is left of it.
    deps.maxWaitMs = 10 * 60_000;
    const bounded = await processJob(deps, job(inbound({ conversation: conversation('c-long-429b') }))).catch((error: unknown) => error);
    expect((bounded as RetryAfterError).retryAfterMs).toBeLessThanOrEqual(10 * 60_000);
    expect((bounded as RetryAfterError).retryAfterMs).toBeGreaterThan(9 * 60_000);
    // The AI's wait: the job comes back within STATUS_REFRESH_MS to keep "thinking…" up.
    adapter.beforeSend = undefined;
    ai.respond = async () => {
      throw new AiError('overloaded', 'Every AI slot stayed taken; trying again later', { retryAfterMs: 300_000 });
    };
    const aiWait = await processJob(deps, job(inbound({ conversation: conversation('c-ai-429') }))).catch((error: unknown) => error);
    expect((aiWait as RetryAfterError).retryAfterMs).toBe(STATUS_REFRESH_MS);
  });
});

describe('apology on final failure', () => {
  it('posts exactly one apology, only after the last attempt, and the message is dead-lettered', async () => {
    ai.respond = async () => {
      throw new Error('AI is down');
    };
    const q = workerQueue(3);
    const message = inbound();
    await q.add(job(message));
    await waitFor(async () => (await q.deadLetters()).length === 1);
    await sleep(20);
    expect(ai.requests).toHaveLength(3);
    expect(kinds()).toEqual(['apology']);
    expect(apologies()[0]?.conversation).toEqual(message.conversation);
    const [letter] = await q.deadLetters();
    expect(letter).toMatchObject({ id: messageJobId(message), reason: 'attempts_exhausted', attempts: 3, data: { type: 'message', message } });
    expect(await metricValue('repliesSent', { platform: 'test', kind: 'apology' })).toBe(1);
  });

  it('does not apologise for a failure that will be retried', async () => {
    ai.respond = async () => {
      throw new Error('AI is down');
    };
    await expect(processJob(deps, job(inbound(), 1, 3))).rejects.toThrow('AI is down');
    await expect(processJob(deps, job(inbound(), 2, 3))).rejects.toThrow('AI is down');
    expect(adapter.sent).toEqual([]);
  });

  it('apologises at once for a PermanentError', async () => {
    handler = async () => {
      throw new PermanentError('outside the 24 h window', 'outside_window');
    };
    const q = workerQueue(5);
    await q.add(job(inbound()));
    await waitFor(async () => (await q.deadLetters()).length === 1);
    expect(kinds()).toEqual(['apology']);
    expect((await q.deadLetters())[0]).toMatchObject({ reason: 'outside_window', attempts: 1 });
  });

  it('a replayed message that fails again does not apologise a second time', async () => {
    ai.respond = async () => {
      throw new Error('AI is down');
    };
    const q = workerQueue(2);
    const message = inbound();
    await q.add(job(message));
    await waitFor(async () => (await q.deadLetters()).length === 1);
    expect(await q.replay(messageJobId(message))).toBe(true);
    await waitFor(() => ai.requests.length === 4);
    await waitFor(async () => (await q.deadLetters()).length === 1);
    await sleep(20);
    expect(apologies()).toHaveLength(1);
  });

  it('does not apologise when the platform refused the answer itself (it would refuse the apology too), and clears "thinking…" itself', async () => {
    (adapter as { replyClearsIndicator?: boolean }).replyClearsIndicator = true;
    const tried: string[] = [];
    adapter.beforeSend = (_conversation, reply) => {
      tried.push(reply.kind ?? 'answer');
      throw new PermanentError('outside the 24 h window', 'outside_window');
    };
    await expect(processJob(deps, job(inbound({ conversation: conversation('c-refused') }), 3, 3))).rejects.toThrow('outside');
    expect(tried).toEqual(['answer']);
    expect(adapter.indications.map((i) => i.state)).toEqual(['thinking', 'done']);
  });

  it('apologises when the last attempt could not post its answer for a passing reason (the platform was down)', async () => {
    adapter.beforeSend = (_conversation, reply) => {
      if (reply.kind !== 'apology') throw new Error('platform 503');
    };
    await expect(processJob(deps, job(inbound({ conversation: conversation('c-down') }), 3, 3))).rejects.toThrow('503');
    expect(kinds()).toEqual(['apology']);
  });

  it('apologises when a streamed answer fails before anything was posted', async () => {
    handler = async (_message, context) => {
      await context.replyStream(
        (async function* (): AsyncGenerator<string> {
          await sleep(1);
          if (Date.now() > 0) throw new Error('AI is down');
          yield 'never reached';
        })(),
      );
    };
    await expect(processJob(deps, job(inbound(), 3, 3))).rejects.toThrow('AI is down');
    expect(kinds()).toEqual(['apology']);
  });

  it('a job the queue gave up on without running it gets the apology once, unless it was answered', async () => {
    const lost = job(inbound({ conversation: conversation('c-lost') }));
    await abandonJob(deps, lost, 'stalled');
    await abandonJob(deps, lost, 'stalled'); // told twice (two processes): still one apology
    expect(kinds()).toEqual(['apology']);
    const { values } = await deps.metrics.deadLettered.get();
    expect(values.find((v) => v.labels.reason === 'stalled')?.value).toBe(2);
    const answered = job(inbound({ conversation: conversation('c-answered') }));
    await store.set(keys.sent(answered.id, 1), new Date().toISOString());
    await abandonJob(deps, answered, 'stalled');
    expect(kinds()).toEqual(['apology']);
  });

  it('a queued apology whose message has been answered since (both dead letters replayed) is not posted; one still owed is', async () => {
    const answered = job(inbound({ conversation: conversation('c-replayed') }));
    const apology = (of: Job<JobData>) => ({ id: `apology.${of.id}`, group: `apology.${of.id}`, data: { type: 'notice', conversation: of.data.type === 'message' ? of.data.message.conversation : conversation(), reply: { kind: 'apology', text: 'sorry' } }, attempt: 1, maxAttempts: 3 }) as Job<JobData>;
    await processJob(deps, answered);
    expect(kinds()).toEqual(['answer']);
    await processJob(deps, apology(answered));
    expect(kinds()).toEqual(['answer']);
    const unanswered = job(inbound({ conversation: conversation('c-owed') }));
    await processJob(deps, apology(unanswered));
    expect(kinds()).toEqual(['answer', 'apology']);
  });

  it('a job the queue gave up on forgets its wait, so a replay waits the whole AI_MAX_WAIT_MS again', async () => {
    const notice = { id: 'notice.abandoned-1', group: 'c-ab', data: { type: 'notice', conversation: conversation('c-ab'), reply: { kind: 'notice', text: 'slow down' } }, attempt: 1, maxAttempts: 3 } as const;
    await store.set(keys.waiting(notice.id), String(Date.now() - 3_600_000));
    await abandonJob(deps, notice as never, 'stalled');
    expect(await store.get(keys.waiting(notice.id))).toBeUndefined();
    // Replayed, its first 429 is a wait, not max_wait at once.
    deps.maxWaitMs = 60_000;
    adapter.beforeSend = () => {
      throw new RetryAfterError('rate limited', 1000);
    };
    await expect(processJob(deps, notice as never)).rejects.toBeInstanceOf(RetryAfterError);
  });

  it('a failed apology does not hide the original error', async () => {
    ai.respond = async () => {
      throw new Error('AI is down');
    };
    adapter.beforeSend = () => {
      throw new Error('platform is down too');
    };
    await expect(processJob(deps, job(inbound(), 3, 3))).rejects.toThrow('AI is down');
  });
});

describe('waits and poison', () => {
  it('a rate-limited AI call waits without spending an attempt, keeps "thinking…", and is answered once with no apology', async () => {
    let throttled = true;
    ai.respond = async (request) => {
      if (throttled) throw new AiError('rate_limited', 'The AI provider is rate limiting', { retryAfterMs: 20, throttledSince: Date.now() });
      return `echo: ${request.text}`;
    };
    const q = workerQueue(1); // one attempt: a wait that spent it would dead-letter the message
    await q.add({ id: 'wait-1', group: 'g', data: { type: 'message', message: inbound({ text: 'hi', conversation: conversation('c-wait') }) } });
    await waitFor(() => adapter.indications.length >= 2);
    // Still waiting: the "thinking…" status was never cleared.
    expect(adapter.indications.map((i) => i.state)).not.toContain('done');
    throttled = false;
    await waitFor(() => adapter.sent.length === 1);
    expect(kinds()).toEqual(['answer']);
    expect(adapter.indications.at(-1)!.state).toBe('done');
    expect(adapter.indications.filter((i) => i.state === 'done')).toHaveLength(1);
    expect(await q.deadLetters()).toEqual([]);
  });

  it('a message waiting for an AI slot is logged at info as waiting, not as a failure', async () => {
    const lines: { level: number; msg: string }[] = [];
    deps.logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    ai.respond = async () => {
      throw new AiError('overloaded', 'Every AI slot stayed taken; trying again later', { retryAfterMs: 1000 });
    };
    await expect(processJob(deps, job(inbound({ conversation: conversation('c-slots') })))).rejects.toBeInstanceOf(RetryAfterError);
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
    expect(lines.find((line) => line.msg === 'message waiting; will try again')).toMatchObject({ level: 30, retryAfterMs: 1000 });
  });

  it('an open circuit waits too, and only AI_MAX_WAIT_MS gives the message up, with one apology', async () => {
    deps.maxWaitMs = 1000;
    ai.respond = async () => {
      throw new AiError('circuit_open', 'AI provider circuit is open: failing fast', { retryAfterMs: 50 });
    };
    const q = workerQueue(100);
    await q.add({ id: 'open-1', group: 'g', data: { type: 'message', message: inbound({ conversation: conversation('c-open') }) } });
    await waitFor(async () => (await q.deadLetters()).length === 1, 5000);
    const [letter] = await q.deadLetters();
    expect(letter).toMatchObject({ reason: 'max_wait', attempts: 1 });
    expect(ai.requests.length).toBeGreaterThan(5);
    expect(kinds()).toEqual(['apology']);
  });

  it('an exhausted quota dead-letters at once, with the apology', async () => {
    ai.respond = async () => {
      throw new AiError('quota', 'AI provider answered 429: You exceeded your current quota', { status: 429, retryable: false });
    };
    const q = workerQueue(5);
    await q.add({ id: 'quota-1', group: 'g', data: { type: 'message', message: inbound({ conversation: conversation('c-quota') }) } });
    await waitFor(async () => (await q.deadLetters()).length === 1);
    expect((await q.deadLetters())[0]).toMatchObject({ reason: 'ai_quota', attempts: 1 });
    expect(ai.requests).toHaveLength(1);
    expect(kinds()).toEqual(['apology']);
  });

  it('a poison message (its data breaks the code that reads it) dead-letters on its first failure', async () => {
    handler = async (message) => {
      (message.raw as { missing: { field: string } }).missing.field.toUpperCase();
    };
    const q = workerQueue(5);
    await q.add({ id: 'poison-1', group: 'g', data: { type: 'message', message: inbound({ conversation: conversation('c-poison'), raw: {} }) } });
    await waitFor(async () => (await q.deadLetters()).length === 1);
    expect((await q.deadLetters())[0]).toMatchObject({ reason: 'poison', attempts: 1 });
    expect(kinds()).toEqual(['apology']);
  });

  it('a network TypeError is not poison: it is retried', async () => {
    let calls = 0;
    handler = async (_message, context) => {
      if (++calls === 1) throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
      await context.reply('second time');
    };
    const q = workerQueue(3);
    await q.add({ id: 'net-1', group: 'g', data: { type: 'message', message: inbound({ conversation: conversation('c-net') }) } });
    await waitFor(() => adapter.sent.length === 1);
    expect(kinds()).toEqual(['answer']);
    expect(calls).toBe(2);
  });

  it('a SyntaxError (a JSON.parse of a 502 page the handler fetched) is not poison: it is retried and answered', async () => {
    let calls = 0;
    handler = async (_message, context) => {
      if (++calls === 1) JSON.parse('<html><body>502 Bad Gateway</body></html>');
      await context.reply('second time');
    };
    const q = workerQueue(3);
    await q.add({ id: 'syntax-1', group: 'g', data: { type: 'message', message: inbound({ conversation: conversation('c-syntax') }) } });
    await waitFor(() => adapter.sent.length === 1);
    expect(kinds()).toEqual(['answer']);
    expect(calls).toBe(2);
    expect(await q.deadLetters()).toEqual([]);
  });

  it('a ConfigError (a bad option met while answering, splitMessage\'s size say) is dead-lettered at once as config: no retry can fix it', async () => {
    let calls = 0;
    handler = async () => {
      calls++;
      splitMessage('text', 0);
    };
    const q = workerQueue(3);
    await q.add({ id: 'config-1', group: 'g', data: { type: 'message', message: inbound({ conversation: conversation('c-config') }) } });
    await waitFor(async () => (await q.deadLetters()).length === 1);
    expect((await q.deadLetters())[0]).toMatchObject({ reason: 'config', attempts: 1 });
    expect(calls).toBe(1);
    expect(kinds()).toEqual(['apology']);
  });

  it('a job for an adapter that has not started waits, then is answered once it has', async () => {
    let ready = false;
    deps.adapterReady = () => ready;
    const q = workerQueue(1);
    await q.add({ id: 'start-1', group: 'g', data: { type: 'message', message: inbound({ text: 'early', conversation: conversation('c-start') }) } });
    await sleep(100);
    expect(adapter.sent).toEqual([]);
    ready = true;
    await waitFor(() => adapter.sent.length === 1, 5000);
    expect(kinds()).toEqual(['answer']);
    expect(await q.deadLetters()).toEqual([]);
  });

  it('an apology the platform asks to wait for (its adapter started) says so at info', async () => {
    deps.adapterReady = () => true;
    adapter.beforeSend = () => {
      throw new RetryAfterError('rate limited (chat.postMessage)', 120_000);
    };
    const lines: { level: number; msg: string }[] = [];
    deps.logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    const notice = { id: 'apology.log-1', group: 'apology.log-1', data: { type: 'notice', conversation: conversation('c-log-1'), reply: { kind: 'apology', text: 'sorry' } }, attempt: 1, maxAttempts: 3 } as const;
    await expect(processJob(deps, notice as never)).rejects.toBeInstanceOf(RetryAfterError);
    expect(lines.filter((line) => line.level === 30).map((line) => line.msg)).toEqual(['notice waiting; will try again']);
  });

  it("a notice the platform asks to wait for waits no longer than what is left of AI_MAX_WAIT_MS, then is given up (max_wait)", async () => {
    deps.adapterReady = () => true;
    deps.maxWaitMs = 60_000;
    adapter.beforeSend = () => {
      throw new RetryAfterError('rate limited (chat.postMessage)', 7_200_000);
    };
    const notice = { id: 'notice.wait-1', group: 'c-wait-n', data: { type: 'notice', conversation: conversation('c-wait-n'), reply: { kind: 'notice', text: 'slow down' } }, attempt: 1, maxAttempts: 3 } as const;
    const waited = await processJob(deps, notice as never).catch((error: unknown) => error);
    expect(waited).toBeInstanceOf(RetryAfterError);
    expect((waited as RetryAfterError).retryAfterMs).toBeLessThanOrEqual(60_000);
    // Past AI_MAX_WAIT_MS since its first wait: given up, not held another two hours.
    deps.maxWaitMs = 1;
    await sleep(5);
    const givenUp = await processJob(deps, notice as never).catch((error: unknown) => error);
    expect(givenUp).toBeInstanceOf(PermanentError);
    expect((givenUp as PermanentError).reason).toBe('max_wait');
  });

  it('an apology the platform fails for now (a 5xx) on its last attempt waits within AI_MAX_WAIT_MS instead of being dead-lettered, then is posted once', async () => {
    deps.adapterReady = () => true;
    let failing = true;
    adapter.beforeSend = () => {
      if (failing) throw new Error('Slack answered HTTP 500');
    };
    const notice = { id: 'apology.5xx-1', group: 'apology.5xx-1', data: { type: 'notice', conversation: conversation('c-5xx-1'), reply: { kind: 'apology', text: 'sorry' } }, attempt: 3, maxAttempts: 3 } as const;
    const waited = await processJob(deps, notice as never).catch((error: unknown) => error);
    expect(waited).toBeInstanceOf(RetryAfterError);
    expect(String(waited)).toContain('Slack answered HTTP 500');
    failing = false;
    await processJob(deps, notice as never);
    await processJob(deps, notice as never);
    expect(apologies()).toHaveLength(1);
  });

  it('an apology the platform keeps failing (a 5xx) is given up once AI_MAX_WAIT_MS has passed (max_wait)', async () => {
    deps.adapterReady = () => true;
    deps.maxWaitMs = 1;
    adapter.beforeSend = () => {
      throw new Error('Slack answered HTTP 500');
    };
    const notice = { id: 'apology.5xx-2', group: 'apology.5xx-2', data: { type: 'notice', conversation: conversation('c-5xx-2'), reply: { kind: 'apology', text: 'sorry' } }, attempt: 1, maxAttempts: 3 } as const;
    await processJob(deps, notice as never).catch(() => undefined);
    await sleep(5);
    const givenUp = await processJob(deps, notice as never).catch((error: unknown) => error);
    expect(givenUp).toBeInstanceOf(PermanentError);
    expect((givenUp as PermanentError).reason).toBe('max_wait');
  });

  it('an apology given up for an adapter that never started, replayed, waits the whole AI_MAX_WAIT_MS again', async () => {
    deps.maxWaitMs = 2500;
    deps.adapterReady = () => false;
    const q = workerQueue(3);
    await q.add({ id: 'apology.replay-1', group: 'apology.replay-1', data: { type: 'notice', conversation: conversation('c-replay-n'), reply: { kind: 'apology', text: 'sorry' } } });
    await waitFor(async () => (await q.deadLetters()).length === 1, 10_000);
    const replayedAt = Date.now();
    await q.replay('apology.replay-1');
    await waitFor(async () => (await q.deadLetters()).length === 1, 10_000);
    expect(Date.now() - replayedAt).toBeGreaterThanOrEqual(2500);
    expect(adapter.sent).toEqual([]);
  }, 20_000);

  it('an apology for an adapter that has not started waits for it too, then is posted once (its attempts are not spent meanwhile)', async () => {
    let ready = false;
    deps.adapterReady = () => ready;
    const lines: { level: number; msg: string }[] = [];
    deps.logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    await workerQueue(1).add({ id: 'start-3', group: 'g3', data: { type: 'message', message: inbound({ text: 'early', conversation: conversation('c-start-3') }) } });
    const q = workerQueue(1);
    await q.add({ id: 'apology.start-2', group: 'apology.start-2', data: { type: 'notice', conversation: conversation('c-start-2'), reply: { kind: 'apology', text: 'sorry' } } });
    await sleep(1500); // past the second a job waits in place for a starting adapter
    expect(adapter.sent).toEqual([]);
    expect(await q.deadLetters()).toEqual([]);
    // Waiting for a starting adapter (re-checked every 2 s) is said at debug: the adapter's own state is logged once.
    expect(lines.filter((line) => line.level >= 30)).toEqual([]);
    ready = true;
    await waitFor(() => adapter.sent.length === 2, 5000);
    expect(kinds().sort()).toEqual(['answer', 'apology']);
    expect(await q.deadLetters()).toEqual([]);
  });
});

/** Direct mode's way of answering: no queue orders the conversation, so it takes the lock. */
function answerDirect(message: InboundMessage): Promise<void> {
  const jobId = messageJobId(message);
  return answerMessage(deps, message, { jobId, attempt: 1, isFinalFailure: () => true, serialize: true, sink: (c, reply, n) => sendOnce(deps, jobId, n, c, reply) });
}

describe('conversation lock (direct mode only: the queue keeps order otherwise)', () => {
  it('the worker takes no conversation lock: the queue runs a conversation one job at a time', async () => {
    let lockHeld: string | undefined = 'unchecked';
    handler = async (message, context) => {
      lockHeld = await store.get(keys.lock(message.conversation));
      await context.reply('done');
    };
    await processJob(deps, job(inbound({ conversation: conversation('c-queued') })));
    expect(lockHeld).toBeUndefined();
    expect(kinds()).toEqual(['answer']);
  });

  function tracking(holdMs: number) {
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    let overall = 0;
    let overallPeak = 0;
    const track: MessageHandler = async (message, context) => {
      const id = message.conversation.id;
      running.set(id, (running.get(id) ?? 0) + 1);
      peak.set(id, Math.max(peak.get(id) ?? 0, running.get(id) ?? 0));
      overallPeak = Math.max(overallPeak, ++overall);
      await sleep(holdMs);
      running.set(id, (running.get(id) ?? 0) - 1);
      overall--;
      await context.reply(`done ${message.text}`);
    };
    return { track, peak, overallPeak: () => overallPeak };
  }

  it('answers one message of a conversation at a time, even when two jobs run at once', async () => {
    const { track, peak } = tracking(40);
    handler = track;
    const conv = conversation('c-locked');
    await Promise.all([1, 2, 3].map((n) => answerDirect(inbound({ text: `m${n}`, conversation: conv }))));
    expect(peak.get('c-locked')).toBe(1);
    expect(adapter.sent).toHaveLength(3);
    expect(await store.get(keys.lock(conv))).toBeUndefined();
  });

  it('answers different conversations in parallel', async () => {
    const { track, overallPeak } = tracking(40);
    handler = track;
    await Promise.all(['a', 'b', 'c'].map((id) => answerDirect(inbound({ conversation: conversation(id) }))));
    expect(overallPeak()).toBe(3);
  });

  it('waits while another process holds the lock, then answers', async () => {
    const message = inbound({ conversation: conversation('c-wait') });
    const key = keys.lock(message.conversation);
    const token = (await store.acquireLock(key, 60_000)) as string;
    const done = answerDirect(message);
    await sleep(120);
    expect(ai.requests).toHaveLength(0);
    await store.releaseLock(key, token);
    await done;
    expect(kinds()).toEqual(['answer']);
  });

  it('releases the lock when the message fails', async () => {
    handler = async () => {
      throw new Error('handler bug');
    };
    const message = inbound({ conversation: conversation('c-fail') });
    await expect(answerDirect(message)).rejects.toThrow('handler bug');
    expect(await store.get(keys.lock(message.conversation))).toBeUndefined();
    expect(adapter.indications.at(-1)).toEqual({ conversation: 'c-fail', state: 'done' });
  });
});

describe('the default handler without the AI', () => {
  it('answers media without text with the media notice, and asks the AI nothing', async () => {
    const message = inbound({ text: '', attachments: [{ url: 'https://example.com/a.jpg', contentType: 'image/jpeg' }] });
    await processJob(deps, job(message));
    expect(adapter.sent.map((s) => s.reply)).toEqual([{ text: 'text only, please', kind: 'notice' }]);
    expect(ai.requests).toHaveLength(0);
  });

  it('sends image URLs to the AI when vision is on', async () => {
    deps = { ...deps, settings: { ...deps.settings, vision: true } };
    const message = inbound({ text: 'what is this?', attachments: [{ url: 'https://example.com/a.jpg', contentType: 'image/jpeg' }] });
    await processJob(deps, job(message));
    expect(ai.requests[0]).toMatchObject({ text: 'what is this?', imageUrls: ['https://example.com/a.jpg'] });
  });

  it('answers a handoff request with the handoff reply and hands the conversation over', async () => {
    const handedOff: string[] = [];
    (adapter as unknown as Adapter).handoff = async (conversation) => void handedOff.push(conversation.id);
    const message = inbound({ text: 'human please', handoff: true });
    await processJob(deps, job(message));
    expect(adapter.sent.map((s) => s.reply.text)).toEqual(['handing you over']);
    expect(handedOff).toEqual([message.conversation.id]);
    expect(ai.requests).toHaveLength(0);
  });
});
