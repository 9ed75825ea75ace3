/**
 * parley's own behaviour in assistant threads (Slack's AI app split view): suggested prompts when
 * a thread starts, and the thread's title from its first question. Done after the ack with
 * parley's own Web API client, not as a Bolt `Assistant`: Bolt's Assistant middleware ends the
 * chain for the events it takes (it never calls next()), so a developer's app.message(),
 * app.event('assistant_thread_started'), app.use() or own app.assistant() on the same App would
 * never see them; and its default threadContextChanged edits the bot's first message in the thread.
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { InboundMessage, Store } from 'parley/adapter-kit';
import { tryBriefly } from './best-effort.js';
import { teamOfEvent, type EventCallback, type SlackDetails } from './events.js';
import { lookupOfEvent, type EventBody } from './workspace-lookup.js';

/** A thread's title: its first question, cut to what Slack shows. */
const TITLE_CHARS = 60;
/** How long a started assistant thread waits for its first question to title it. */
const THREAD_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export const assistantKeys = {
  /** Set when Slack says an assistant thread started: only those threads get a title. */
  started: (team: string, channel: string, threadTs: string) => `parley:slack:assistant:${team}:${channel}:${threadTs}`,
  /** Claimed by the message that titles the thread: its first question (the next one, when Slack failed that title). */
  titled: (team: string, channel: string, threadTs: string) => `parley:slack:assistant-titled:${team}:${channel}:${threadTs}`,
  /** Claimed by the delivery that sets the thread's suggested prompts: a redelivered event finds it. */
  prompted: (team: string, channel: string, threadTs: string) => `parley:slack:assistant-prompted:${team}:${channel}:${threadTs}`,
};

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The most UTF-16 units a title takes: room for 60 of the longest emoji (a tag flag is 14), not for
 * a letter under hundreds of combining marks (zalgo text), which reads as one character.
 */
const TITLE_UNITS = TITLE_CHARS * 16;

/** A title cut to TITLE_CHARS characters as a reader counts them: never inside an emoji, a flag or an accented letter. */
export function cutTitle(plain: string): string {
  if (plain.length <= TITLE_CHARS) return plain;
  // Only the first TITLE_UNITS can be in the title; Node 20 segments a text in time quadratic in its
  // length (a 40,000-character question, Slack's most, took a second; 160,000 half a minute).
  const characters = Array.from(graphemes.segment(plain.slice(0, TITLE_UNITS)), ({ segment }) => segment);
  if (characters.length <= TITLE_CHARS && plain.length <= TITLE_UNITS) return plain;
  let title = '';
  for (const character of characters.slice(0, TITLE_CHARS - 1)) {
    if (title.length + character.length >= TITLE_UNITS) break;
    title += character;
  }
  // A first character longer than that all alone: its code points, as many as fit.
  if (title === '') title = Array.from(characters[0] ?? '').slice(0, TITLE_CHARS - 1).join('');
  return `${title.trimEnd()}…`;
}

/**
 * A question as a title: Slack shows titles as plain text, so its markup goes (a link shows its
 * label or address, a channel its name, a mention "@…", `&amp;` `&lt;` `&gt;` their characters)
 * and its lines become one.
 */
export function titleText(text: string): string {
  return text
    .replace(/<([^<>|]+)\|([^<>]+)>/g, (_, target: string, label: string) => (target.startsWith('#') ? `#${label}` : target.startsWith('@') ? `@${label}` : label))
    .replace(/<!(here|channel|everyone)(?:\|[^<>]*)?>/g, '@$1')
    .replace(/<#[^<>]*>/g, '#…')
    .replace(/<[@!][^<>]*>/g, '@…')
    .replace(/<([^<>]+)>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim()
    // Half an emoji (a lone surrogate) fails the Web API client's form encoding (a URIError) or mangles the next character.
    .toWellFormed();
}

export interface AssistantThreadsOptions {
  client: WebClient;
  suggestedPrompts: readonly string[];
  store(): Store;
  /** Many workspaces: the bot token of the installation (passed per call); one workspace: the client's. */
  tokenFor?(details: SlackDetails): Promise<string>;
  /** For a line about a wait before trying a call again. */
  logger?(): Logger;
}

interface AssistantThread {
  channel_id?: string;
  thread_ts?: string;
}

export interface AssistantThreads {
  /** parley's work after the ack for this event, or undefined when it has none. */
  after(body: EventCallback, message: InboundMessage | undefined): (() => Promise<void>) | undefined;
}

export function assistantThreads(options: AssistantThreadsOptions): AssistantThreads {
  const auth = async (details: SlackDetails) => (options.tokenFor ? { token: await options.tokenFor(details) } : {});

  async function started(body: EventCallback, thread: AssistantThread): Promise<void> {
    const details = detailsOf(body, thread.channel_id!);
    const ref = { channel_id: thread.channel_id!, thread_ts: thread.thread_ts! };
    const store = options.store();
    await store.set(assistantKeys.started(details.team, ref.channel_id, ref.thread_ts), '1', THREAD_TTL_MS);
    if (options.suggestedPrompts.length === 0) return;
    const prompts = options.suggestedPrompts.map((p) => ({ title: p, message: p }));
    await once(store, assistantKeys.prompted(details.team, ref.channel_id, ref.thread_ts), () =>
      tryBriefly(async () => options.client.assistant.threads.setSuggestedPrompts({ ...(await auth(details)), ...ref, title: 'Try asking', prompts }), waited('setSuggestedPrompts')),
    );
  }

  async function title(details: SlackDetails, text: string): Promise<void> {
    const { team, channel, threadTs } = details;
    const store = options.store();
    if ((await store.get(assistantKeys.started(team, channel, threadTs!))) === undefined) return; // not an assistant thread
    const cut = cutTitle(titleText(text));
    await once(store, assistantKeys.titled(team, channel, threadTs!), () =>
      tryBriefly(async () => options.client.assistant.threads.setTitle({ ...(await auth(details)), channel_id: channel, thread_ts: threadTs!, title: cut }), waited('setTitle')),
    );
  }

  function waited(method: string) {
    return (waitMs: number, error: unknown) => options.logger?.().info({ err: error, waitMs, method }, 'Slack could not set the assistant thread up just now; trying again shortly');
  }

  return {
    after(body, message) {
      const event = body.event as { type: string; assistant_thread?: AssistantThread; channel_type?: string; text?: string };
      if (event.type === 'assistant_thread_started') {
        const thread = event.assistant_thread;
        return thread?.channel_id && thread.thread_ts ? () => started(body, thread) : undefined;
      }
      // A person's question in a thread of the app's DM: an assistant thread's first one titles it.
      const details = message?.conversation.details as SlackDetails | undefined;
      if (event.type !== 'message' || event.channel_type !== 'im' || !details?.threadTs || !message?.text) return undefined;
      // Slack's own text: titleText shows its markup as a title should (a link's label, not the markdown the model reads).
      const question = event.text || message.text;
      return () => title(details, question);
    },
  };
}

/**
 * `work` done once for whatever `key` names: claimed first, so a second delivery or message
 * finds it done (or under way); released when the work fails, so a later one tries again.
 */
async function once(store: Store, key: string, work: () => Promise<unknown>): Promise<void> {
  if (!(await store.setIfAbsent(key, '1', THREAD_TTL_MS))) return;
  try {
    await work();
  } catch (error) {
    // A release that fails leaves the claim to expire with the thread: the work's own failure is what gets logged.
    await store.delete(key).catch(() => undefined);
    throw error;
  }
}

/** The installation's ids for an event without a message (assistant_thread_started). */
function detailsOf(body: EventCallback, channel: string): SlackDetails {
  const lookup = lookupOfEvent(body as unknown as EventBody);
  // The team as events.ts reads it for a message, so the thread's keys match.
  const team = teamOfEvent(body);
  return { team, channel, user: '', ...(lookup?.enterpriseId ? { enterprise: lookup.enterpriseId } : {}), ...(lookup?.isEnterpriseInstall ? { enterpriseInstall: true } : {}) };
}
