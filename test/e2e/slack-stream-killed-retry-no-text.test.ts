/**
 * A Slack stream whose process was killed mid-way (kill -9: nothing stopped its message), whose
 * retry's AI fails before any text: the retry takes the message back only once its own answer
 * begins, so the half-streamed text stays — but stopped, not left shown as streaming for good
 * beside the apology. Slack is faked over HTTP.
 */
import { describe, expect, it } from 'vitest';
import { AiError } from '../../src/ai/errors.js';
import { MemoryStore } from '../../src/index.js';
import { startFakeSlack } from '../fakes/slack-api.js';
import { until } from '../helpers/until.js';
import { SLACK_THREAD, dyingAfter, senderOn, startedNote } from '../helpers/slack-stream.js';

const REPLY = Array.from({ length: 220 }, (_, i) => `w${i}`).join('-');

describe('a Slack stream killed mid-way, whose retry\'s AI fails before any text', () => {
  it('stops the half-streamed message (it stays, not taken back, no longer streaming); a later retry that answers still takes it back', async () => {
    const slack = await startFakeSlack();
    try {
      const store = new MemoryStore();
      const sender = senderOn(slack, store);
      const conversation = SLACK_THREAD;
      // The first run shows some of the answer, then its process dies: its chunks never end.
      const dying = dyingAfter(REPLY.split('-').slice(0, 120));
      void sender.stream(conversation, dying, 'job-8:1');
      const startedTs = () => startedNote(store, 'job-8:1');
      const firstTs = await until(startedTs, 'the note of the started stream');
      expect(slack.streams.get(firstTs)!.streaming).toBe(true);
      // The job runs again in another process (the same store); its AI fails before any text.
      const failing: AsyncIterable<string> = {
        [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new AiError('server', 'the provider is down')) }),
      };
      await expect(sender.stream(conversation, failing, 'job-8:1')).rejects.toThrow('the provider is down');
      // Left for the user (with the apology, should the message be given up), but no longer streaming.
      expect(slack.streams.get(firstTs)!.streaming).toBe(false);
      expect(slack.callsTo('chat.delete')).toHaveLength(0);
      // A later run that answers takes it back, once.
      const whole = (async function* () {
        for (const word of REPLY.split('-')) yield `${word}-`;
      })();
      const delivery = await sender.stream(conversation, whole, 'job-8:1');
      expect(delivery.rest).toBeUndefined();
      expect(slack.callsTo('chat.delete').map((call) => call.args.ts)).toEqual([firstTs]);
      expect(delivery.ids[0]).not.toBe(firstTs);
    } finally {
      await slack.close();
    }
  });
});
