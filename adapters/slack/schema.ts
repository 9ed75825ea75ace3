/**
 * What the Slack adapter accepts, checked after the signature. Two sources decide the fields:
 * what parley reads from a message event, and what Bolt's own routing dereferences before any
 * listener runs (`body.user.id`, `body.view.callback_id`, `'channel' in event`…): a body without
 * them makes Bolt throw. Everything else passes through untouched (objects stay loose), so your
 * own listeners still see every field Slack sends.
 */
import { isWellFormed } from 'parley/adapter-kit';
import { z } from 'zod';

/**
 * Slack ids, timestamps and names are short; a cap keeps a hostile value out of store keys. Half an
 * emoji in one would make every Web API call about it fail (the client cannot encode it).
 */
const id = z.string().min(1).max(255).refine(isWellFormed, 'holds a lone UTF-16 surrogate');
/**
 * A workspace or organisation id: Bolt looks its WebClient up in a plain object by it
 * (`clients[teamId]`), so a name like `constructor` or `__proto__` would make it throw.
 */
const teamId = id.refine((value) => !(value in Object.prototype), 'names a built-in object property');
const object = z.looseObject({});

/** Fields Bolt reads on any event: `'channel' in event.item`, `event.user.id`, `event.subteam.created_by`. */
const anyEvent = z.looseObject({
  type: z.string().min(1),
  channel: z.union([z.string(), object]).optional(),
  user: z.union([z.string(), object]).optional(),
  item: object.optional(),
  subteam: object.optional(),
});

/** A message or a mention: the fields parley reads to answer it, and Bolt's Assistant (`channel`, `thread_ts`). */
const messageEvent = anyEvent.extend({
  user: id.optional(),
  channel: id.optional(),
  ts: id.optional(),
  thread_ts: id.optional(),
  text: z.string().nullish(),
  subtype: z.string().nullish(),
  bot_id: z.string().nullish(),
  channel_type: z.string().nullish(),
  team: id.nullish(),
  files: z.array(z.looseObject({ url_private: z.string().optional(), mimetype: z.string().optional(), name: z.string().optional() })).nullish(),
});

/** Bolt's Assistant reads the thread it is about from these. */
const assistantThreadEvent = anyEvent.extend({
  assistant_thread: z.looseObject({ channel_id: id, thread_ts: id, context: object.optional() }),
});

/** Events checked beyond Bolt's common fields, by event type: those parley or the Assistant read. A Map: an event type may be "__proto__". */
export const eventSchemas: ReadonlyMap<string, z.ZodType<unknown>> = new Map<string, z.ZodType<unknown>>([
  ['message', messageEvent],
  ['app_mention', messageEvent],
  ['assistant_thread_started', assistantThreadEvent],
  ['assistant_thread_context_changed', assistantThreadEvent],
]);

const eventCallback = z.looseObject({
  type: z.literal('event_callback'),
  /** The dedupe key: the one id Slack keeps across its retries. */
  event_id: id,
  team_id: id.nullish(),
  authorizations: z.array(z.looseObject({ team_id: z.string().nullish(), enterprise_id: z.string().nullish() })).optional(),
  event: anyEvent,
});

/** The Events API: JSON bodies. */
export const eventsApiBody = z.discriminatedUnion('type', [
  eventCallback,
  z.looseObject({ type: z.literal('url_verification'), challenge: z.string().min(1).max(1000) }),
  z.looseObject({ type: z.literal('app_rate_limited') }),
]);

/** A slash command: a form, every value a string. */
export const slashCommandBody = z.looseObject({
  command: z.string().regex(/^\/\S+$/, 'a slash command such as /ask'),
  team_id: teamId,
  user_id: id,
  channel_id: id,
  text: z.string().optional(),
  response_url: z.string().optional(),
});

/** What Bolt dereferences on every interaction payload (actions, options, views, shortcuts). */
const interaction = z.looseObject({
  type: z.string().min(1),
  user: z.looseObject({ id, team_id: teamId.optional() }),
  // null for org-wide installs; Bolt then reads user.team_id.
  team: z.looseObject({ id: teamId, enterprise_id: teamId.optional() }).nullish(),
  enterprise: z.looseObject({ id: teamId }).nullish(),
  channel: z.looseObject({ id: z.string() }).optional(),
  response_url: z.string().optional(),
  response_urls: z.array(z.looseObject({ response_url: z.string() })).optional(),
  function_data: object.optional(),
});

const blockAction = z.looseObject({ type: z.string(), action_id: id, block_id: z.string().optional() });
const legacyAction = z.looseObject({ type: z.string(), name: z.string() });
const callbackId = z.string().max(255);

export type InteractionKind = 'block_actions' | 'interactive_message' | 'dialog_submission' | 'block_suggestion' | 'legacy_options' | 'view' | 'shortcut';

/** Interactivity payloads (the form's `payload=` JSON), by the kind Bolt routes them as. */
export const interactionBodies: Record<InteractionKind, z.ZodType<Record<string, unknown>>> = {
  block_actions: interaction.extend({ actions: z.array(blockAction).min(1) }),
  interactive_message: interaction.extend({ callback_id: callbackId, actions: z.array(legacyAction).min(1) }),
  dialog_submission: interaction.extend({ callback_id: callbackId, submission: object.optional() }),
  block_suggestion: interaction.extend({ action_id: id, block_id: z.string() }),
  legacy_options: interaction.extend({ name: z.string(), callback_id: callbackId }),
  view: interaction.extend({
    // `state.values` is what a submission's listener reads (parley's feedback modal among them).
    view: z.looseObject({ id: z.string().optional(), callback_id: callbackId, app_installed_team_id: teamId.nullish(), state: z.looseObject({ values: object }).optional() }),
  }),
  shortcut: interaction.extend({ callback_id: callbackId, trigger_id: z.string().optional() }),
};

/**
 * Which schema an interaction gets, by the same field tests Bolt routes with (getTypeAndConversation),
 * so the check covers exactly what Bolt will read. Undefined: nothing Bolt could route.
 */
export function interactionKind(body: Record<string, unknown>): InteractionKind | undefined {
  if (body.event !== undefined || body.command !== undefined) return undefined;
  if (body.type === 'block_suggestion') return 'block_suggestion';
  if (body.name !== undefined) return 'legacy_options';
  if (body.actions !== undefined) return body.type === 'block_actions' ? 'block_actions' : 'interactive_message';
  if (body.type === 'dialog_submission') return 'dialog_submission';
  if (body.type === 'shortcut' || body.type === 'message_action') return 'shortcut';
  if (body.type === 'view_submission' || body.type === 'view_closed') return 'view';
  return undefined;
}
