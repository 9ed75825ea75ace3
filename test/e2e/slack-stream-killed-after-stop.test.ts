/**
 * A streamed Slack reply whose process was killed after its chat.stopStream went out, before the
 * core wrote the reply's "sent" marker (found by a chaos run: kill -9 of workers under load). The
 * job runs again in another process, with the same store: the user must be left with one answer.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { SLACK_THREAD, chunksOf, senderOn } from '../helpers/slack-stream.js';

const SHORT = 're: the whole answer';
/** Past the streamer's 256-character buffer: the message starts (and its ts is noted) before the stop. */
const LONG = `re: ${'a long answer, '.repeat(30)}the end`;

/** `text` in chunks, then the AI's failure. */
const failingAfter = (text: string) =>
  (async function* () {
    yield* chunksOf(text);
    throw new Error('the AI broke off');
  })();

/** The messages the user is left with: streams that were not deleted, and posted messages. */
const shown = (slack: FakeSlack) => {
  const deleted = new Set(slack.callsTo('chat.delete').map((c) => String(c.args.ts)));
  return [...slack.streams].filter(([ts]) => !deleted.has(ts)).map(([, s]) => s.text).concat(slack.callsTo('chat.postMessage').map((c) => String(c.args.text)));
};

describe('a Slack stream whose run died after its stop went out', () => {
  it.each([
    ['a short answer (started by the stop itself)', SHORT, 'job-short'],
    ['a long answer', LONG, 'job-long'],
  ])('killed after the stop was answered, before the sent marker (%s): the retry shows nothing again', async (_name, answer, job) => {
    const slack = await startFakeSlack();
    try {
      const store = new MemoryStore();
      const first = await senderOn(slack, store).stream(SLACK_THREAD, chunksOf(answer), `${job}:1`);
      // The process is gone before the core marked the reply sent; the job runs again.
      const retry = await senderOn(slack, store).stream(SLACK_THREAD, chunksOf(answer), `${job}:1`);
      expect(shown(slack)).toEqual([answer]);
      expect(retry).toEqual({ ids: first.ids, text: answer });
      expect(slack.callsTo('chat.startStream')).toHaveLength(1);
    } finally {
      await slack.close();
    }
  });

  it.each([
    ['its own answer differs', (answer: string) => chunksOf(answer.replace('re:', 'new:'))],
    ['its AI fails', () => failingAfter('new: the start')],
  ])('killed after the stop, before the sent marker, and the retry’s AI answers differently (%s): the retry says what the user was shown, and shows nothing', async (_name, retryChunks) => {
    for (const [answer, job] of [
      [SHORT, 'job-short'],
      [LONG, 'job-long'],
    ] as const) {
      const slack = await startFakeSlack();
      try {
        const store = new MemoryStore();
        const first = await senderOn(slack, store).stream(SLACK_THREAD, chunksOf(answer), `${job}:1`);
        const retry = await senderOn(slack, store).stream(SLACK_THREAD, retryChunks(answer), `${job}:1`);
        expect(shown(slack)).toEqual([answer]);
        expect(retry).toEqual({ ids: first.ids, text: answer });
      } finally {
        await slack.close();
      }
    }
  });

  it('a finished note of only a ts (as first written) is still honoured: nothing shown again', async () => {
    const slack = await startFakeSlack();
    try {
      const store = new MemoryStore();
      await store.set('parley:slack:stream-done:job-old:1', '1700000000.000200');
      const retry = await senderOn(slack, store).stream(SLACK_THREAD, chunksOf(SHORT), 'job-old:1');
      expect(retry).toEqual({ ids: ['1700000000.000200'], text: SHORT });
      expect(shown(slack)).toEqual([]);
    } finally {
      await slack.close();
    }
  });

  it('killed while the stop of a short answer was out (the stop started the message, and Slack finished it): the retry finds it and shows nothing again', async () => {
    const slack = await startFakeSlack();
    try {
      const store = new MemoryStore();
      slack.on('chat.stopStream', (_call, n) => (n === 0 ? { takenAtOnce: true, after: new Promise(() => undefined) } : undefined));
      void senderOn(slack, store).stream(SLACK_THREAD, chunksOf(SHORT), 'job-4:1');
      while (slack.callsTo('chat.stopStream').length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const [ts] = [...slack.streams.keys()];
      const retry = await senderOn(slack, store).stream(SLACK_THREAD, chunksOf(SHORT), 'job-4:1');
      expect(shown(slack)).toEqual([SHORT]);
      expect(retry).toEqual({ ids: [ts], text: SHORT });
      expect(slack.callsTo('chat.delete')).toHaveLength(0);
      // Found once: a third run (the core's marker lost again) reads the finished note, not the thread.
      const reads = slack.callsTo('conversations.replies').length;
      expect(await senderOn(slack, store).stream(SLACK_THREAD, chunksOf(SHORT), 'job-4:1')).toEqual({ ids: [ts], text: SHORT });
      expect(slack.callsTo('conversations.replies')).toHaveLength(reads);
    } finally {
      await slack.close();
    }
  });

  it('killed while the stop of a short answer was out, the retry unable to look (Slack failing for a moment): it fails, and the retry after shows nothing again', async () => {
    const slack = await startFakeSlack();
    try {
      const store = new MemoryStore();
      slack.on('chat.stopStream', (_call, n) => (n === 0 ? { takenAtOnce: true, after: new Promise(() => undefined) } : undefined));
      void senderOn(slack, store).stream(SLACK_THREAD, chunksOf(SHORT), 'job-6:1');
      while (slack.callsTo('chat.stopStream').length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      slack.on('conversations.replies', (_call, n) => (n === 0 ? { status: 500 } : undefined));
      await expect(senderOn(slack, store).stream(SLACK_THREAD, chunksOf(SHORT), 'job-6:1')).rejects.toThrow();
      await senderOn(slack, store).stream(SLACK_THREAD, chunksOf(SHORT), 'job-6:1');
      expect(shown(slack)).toEqual([SHORT]);
      expect(slack.callsTo('chat.startStream')).toHaveLength(1);
    } finally {
      await slack.close();
    }
  });

  it('killed while the stop of a short answer was out, another reply of the same job finished before it in the thread: not taken for this one', async () => {
    const slack = await startFakeSlack();
    try {
      const store = new MemoryStore();
      await senderOn(slack, store).stream(SLACK_THREAD, chunksOf('re: the first reply'), 'job-5:1');
      slack.on('chat.stopStream', (_call, n) => (n === 1 ? { body: { ok: false, error: 'internal_error' }, after: new Promise(() => undefined) } : undefined));
      void senderOn(slack, store).stream(SLACK_THREAD, chunksOf(SHORT), 'job-5:2');
      while (slack.callsTo('chat.stopStream').length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      await senderOn(slack, store).stream(SLACK_THREAD, chunksOf(SHORT), 'job-5:2');
      expect(shown(slack)).toEqual(['re: the first reply', SHORT]);
    } finally {
      await slack.close();
    }
  });

  it('killed while the stop of a long answer was out (Slack took it): the retry takes the message back and streams the answer once more, one left', async () => {
    const slack = await startFakeSlack();
    try {
      const store = new MemoryStore();
      slack.on('chat.stopStream', (_call, n) => (n === 0 ? { takenAtOnce: true, after: new Promise(() => undefined) } : undefined));
      void senderOn(slack, store).stream(SLACK_THREAD, chunksOf(LONG), 'job-3:1');
      while (slack.callsTo('chat.stopStream').length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      await senderOn(slack, store).stream(SLACK_THREAD, chunksOf(LONG), 'job-3:1');
      expect(shown(slack)).toEqual([LONG]);
    } finally {
      await slack.close();
    }
  });
});
