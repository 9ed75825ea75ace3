/**
 * What the Slack stream tests share: the thread they stream to, a sender on the fake Slack, text
 * in chunks as an AI streams it, a run killed mid-stream, and the note a started stream leaves.
 */
import { WebClient } from '@slack/web-api';
import { webClientOptions } from '../../adapters/slack/adapter.js';
import { SlackSender } from '../../adapters/slack/send.js';
import type { Store } from '../../src/index.js';
import type { FakeSlack } from '../fakes/slack-api.js';
import { silentLogger } from '../unit/helpers.js';

export const SLACK_THREAD = { platform: 'slack', id: 'T1:C1:1700000000.000100', details: { team: 'T1', channel: 'C1', threadTs: '1700000000.000100', user: 'U1' } };

/** A sender on the fake Slack, keeping its notes in `store`. */
export function senderOn(slack: FakeSlack, store: Store): SlackSender {
  return new SlackSender(new WebClient('xoxb-stream', webClientOptions(slack.url)), () => store, () => silentLogger);
}

/** `text` in chunks of six characters. */
export const chunksOf = (text: string) =>
  (async function* () {
    for (let i = 0; i < text.length; i += 6) yield text.slice(i, i + 6);
  })();

/** `words` shown, then nothing more: a run whose process died mid-stream (its chunks never end). */
export const dyingAfter = (words: string[]) =>
  (async function* () {
    for (const word of words) yield `${word}-`;
    await new Promise(() => undefined);
  })();

/** The ts the note of the stream of reply `key` holds once its start came back (it says "starting:…" while the start is out). */
export async function startedNote(store: Store, key: string): Promise<string | undefined> {
  const note = await store.get(`parley:slack:stream:${key}`);
  return note?.startsWith('starting:') ? undefined : note;
}
