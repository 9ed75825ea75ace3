/**
 * Slack requests that arrive before the Bolt App has initialized (auth.test has not answered: the
 * Web API is down or refusing at start). Bolt cannot take them then: its authorize step is only
 * set up by `init()`, so `App#processEvent` drops every event as unauthorized. So parley reads
 * event_callbacks itself, with the bot user id Slack puts in every event's `authorizations`; the
 * message is queued and acknowledged, and its job waits until the adapter has started.
 *
 * Commands and interactions need the developer's Bolt listeners. A slash command is answered with
 * a short note only its sender sees; anything else (buttons, modals, menus) gets a 503, which Slack
 * shows as a failed action to try again. Slack never redelivers those, so nothing loops.
 */
import { HttpError, type Received } from 'parley/adapter-kit';
import { inboundFromEvent, type ClassifyOptions, type EventCallback } from './events.js';
import type { SlackBody } from './parse.js';

export const STARTING_NOTE = 'The bot is starting up and cannot run commands yet. Please try again in a minute.';

/** Verified Slack requests while the App is not initialized. */
export async function receiveWhileStarting(body: SlackBody, options: Omit<ClassifyOptions, 'botUserId'>): Promise<Received> {
  if (body.type === 'event_callback') {
    const event = body.event;
    if (typeof event !== 'object' || event === null) return { response: { status: 200, outcome: 'ignored' }, messages: [] };
    const message = inboundFromEvent(body as unknown as EventCallback, { ...options, botUserId: botUserIdOf(body) });
    return { response: { status: 200, outcome: message ? undefined : 'ignored' }, messages: message ? [message] : [] };
  }
  if (typeof body.command === 'string') {
    return { response: { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: STARTING_NOTE }, messages: [] };
  }
  throw new HttpError(503, 'adapter_starting', 'The Slack app is still starting (the Slack Web API has not answered yet); try again in a minute.');
}

/**
 * The app's bot user in this workspace: Slack names it in `authorizations` of every event_callback,
 * unless the installation it names is a person's (`is_bot: false`, an app with user scopes): that
 * user_id is the person who installed it, whose own messages would then go unanswered.
 */
export function botUserIdOf(body: SlackBody | EventCallback): string | undefined {
  const authorizations = body.authorizations;
  const first: unknown = Array.isArray(authorizations) ? authorizations[0] : undefined;
  if (typeof first !== 'object' || first === null || (first as { is_bot?: unknown }).is_bot === false) return undefined;
  const id = (first as { user_id?: unknown }).user_id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}
