/**
 * A notice posted as reply n of a job (a spent budget's, on a retry) after a run of the job was
 * killed while streaming reply n: the message it left streaming is stopped as it stands before the
 * notice goes out, and not taken back (nothing shown now replaces its text); a later run that
 * streams an answer still takes it back. Slack is faked over HTTP.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { startFakeSlack } from '../fakes/slack-api.js';
import { until } from '../helpers/until.js';
import { SLACK_THREAD, dyingAfter, senderOn, startedNote } from '../helpers/slack-stream.js';

const REPLY = Array.from({ length: 220 }, (_, i) => `w${i}`).join('-');
const NOTICE = 'The AI budget is spent for today.';
const noticePart = (replyKey: string) => ({ index: 0, total: 1, kind: 'notice' as const, key: `${replyKey}:0` });

describe('a notice posted in place of a stream a killed run left', () => {
  it('stops the half-streamed message (kept, not deleted) before the notice; a later run that answers takes it back', async () => {
    const slack = await startFakeSlack();
    try {
      const store = new MemoryStore();
      const sender = senderOn(slack, store);
      void sender.stream(SLACK_THREAD, dyingAfter(REPLY.split('-').slice(0, 120)), 'job-4:1');
      const firstTs = await until(() => startedNote(store, 'job-4:1'), 'the note of the started stream');
      const shown = slack.streams.get(firstTs)!.text;
      // Another process runs the job again: the budget is spent, so the notice is posted.
      await sender.sendPart(SLACK_THREAD, NOTICE, noticePart('job-4:1'));
      expect(slack.streams.get(firstTs)).toEqual({ text: shown, streaming: false });
      expect(slack.callsTo('chat.delete')).toHaveLength(0);
      const order = slack.calls.filter((call) => call.method === 'chat.postMessage' || (call.method === 'chat.stopStream' && call.args.ts === firstTs)).map((call) => call.method);
      expect(order).toEqual(['chat.stopStream', 'chat.postMessage']);
      // The notice's post failed after all, and a later run (the budget raised) streams the answer: the message is taken back.
      const whole = (async function* () {
        for (const word of REPLY.split('-')) yield `${word}-`;
      })();
      await sender.stream(SLACK_THREAD, whole, 'job-4:1');
      expect(slack.callsTo('chat.delete').map((call) => call.args.ts)).toEqual([firstTs]);
    } finally {
      await slack.close();
    }
  });

  it('killed while its start was out: the message the start began is found in the thread and stopped before the notice', async () => {
    const slack = await startFakeSlack();
    try {
      const store = new MemoryStore();
      const sender = senderOn(slack, store);
      // The start takes effect at once, and its answer never comes: the process is "killed" waiting for it.
      slack.on('chat.startStream', () => ({ takenAtOnce: true, delayMs: 60_000 }));
      void sender.stream(SLACK_THREAD, dyingAfter(REPLY.split('-').slice(0, 120)), 'job-6:1');
      await until(() => slack.callsTo('chat.startStream')[0], 'the start to go out');
      const [begun] = await until(() => (slack.streams.size ? [...slack.streams.keys()] : undefined), 'the message the start began');
      expect(await store.get('parley:slack:stream:job-6:1')).toMatch(/^starting:/);
      await sender.sendPart(SLACK_THREAD, NOTICE, noticePart('job-6:1'));
      expect(slack.streams.get(begun!)!.streaming).toBe(false);
      expect(slack.callsTo('chat.delete')).toHaveLength(0);
      expect(slack.callsTo('chat.postMessage').map((call) => call.args.text)).toEqual([NOTICE]);
    } finally {
      await slack.close();
    }
  });
});
