import { InvalidPayloadError, checkPayload, mediaTypeOf, type HttpRequest, type InvalidPayloadStatus } from 'parley/adapter-kit';
import { eventSchemas, eventsApiBody, interactionBodies, interactionKind, slashCommandBody } from './schema.js';
import { fitsMessageCallback } from './schema-fast.js';
import { namesAnInstallation } from './workspace-lookup.js';

/** A Slack request body: Events API JSON, or a form (slash commands; `payload=` for interactivity). */
export type SlackBody = Record<string, unknown> & { type?: string; challenge?: string; ssl_check?: string; command?: string };

/**
 * Parse a verified Slack body and check it against what parley and Bolt accept (schema.ts).
 * A misfit is never a 5xx. The Events API (JSON) redelivers anything but a 2xx for hours, so a
 * payload that can never succeed is answered 200 and dropped; slash commands and interactivity
 * (forms) are never redelivered, so they get a 400 the user sees. With `manyWorkspaces` (OAuth),
 * a command or an interaction must also name the installation that answers it.
 */
export function parseSlackBody(request: HttpRequest, manyWorkspaces = false): SlackBody {
  const text = request.body.toString('utf8');
  const form = mediaTypeOf(request) === 'application/x-www-form-urlencoded';
  const status: InvalidPayloadStatus = form ? 400 : 200;
  const body = form ? parseForm(text) : parseJson(text);
  if (body === undefined) throw new InvalidPayloadError('The Slack request body could not be parsed.', undefined, status, 'malformed_body');
  if (!form) return checkEventsApi(body);
  if (body.ssl_check !== undefined) return body;
  const checked = typeof body.payload !== 'string' ? checkPayload(slashCommandBody, body, 'The Slack slash command', status) : checkInteraction(parseJson(body.payload), status);
  return namingAnInstallation(checked, manyWorkspaces, status);
}

/** With many workspaces, a command or an interaction that names no installation does not fit (over HTTP and Socket Mode alike). */
function namingAnInstallation(checked: SlackBody, manyWorkspaces: boolean, status: InvalidPayloadStatus): SlackBody {
  if (manyWorkspaces && !namesAnInstallation(checked)) {
    throw new InvalidPayloadError('The Slack payload names no workspace (team.id or user.team_id; enterprise.id for an org-wide install): no installation can answer it.', checked, status);
  }
  return checked;
}

/** Socket Mode envelope types whose payload is what the same request carries over HTTP. */
const ENVELOPE_PAYLOADS = new Set(['events_api', 'slash_commands', 'interactive']);

/**
 * A Socket Mode envelope's payload, given the same checks as over HTTP (the payload is already
 * parsed JSON; `manyWorkspaces` as for parseSlackBody). Every misfit is status 200: Socket Mode acknowledges and drops it. Other envelope
 * types (hello, disconnect) carry no payload to check: returned as they are.
 */
export function checkEnvelopePayload(type: string, payload: unknown, manyWorkspaces = false): unknown {
  if (!ENVELOPE_PAYLOADS.has(type)) return payload;
  if (!isObject(payload)) throw new InvalidPayloadError(`The Slack Socket Mode ${type} envelope carries no payload object.`, payload, 200, 'malformed_body');
  if (type === 'events_api') return checkEventsApi(payload);
  const checked = type === 'slash_commands' ? checkPayload(slashCommandBody, payload, 'The Slack slash command', 200) : checkInteraction(payload, 200);
  return namingAnInstallation(checked, manyWorkspaces, 200);
}

function checkInteraction(payload: SlackBody | undefined, status: InvalidPayloadStatus): SlackBody {
  if (payload === undefined) throw new InvalidPayloadError('The Slack interaction payload is not a JSON object.', undefined, status, 'malformed_body');
  const kind = interactionKind(payload);
  if (!kind) throw new InvalidPayloadError('The Slack interaction payload is of no kind Bolt routes (actions, options, views, shortcuts).', payload, status);
  return checkPayload(interactionBodies[kind], payload, `The Slack ${kind} payload`, status);
}

function checkEventsApi(body: SlackBody): SlackBody {
  // Messages and mentions: the same check by hand (schema-fast.ts); zod for everything else and for every misfit.
  if (fitsMessageCallback(body)) return body;
  const checked = checkPayload(eventsApiBody, body, 'The Slack Events API payload', 200);
  const eventSchema = checked.type === 'event_callback' ? eventSchemas.get(checked.event.type) : undefined;
  if (eventSchema) checkPayload(eventSchema, (checked as { event: unknown }).event, `The Slack ${(checked as { event: { type: string } }).event.type} event`, 200);
  return checked as SlackBody;
}

function parseForm(text: string): SlackBody {
  return Object.fromEntries(new URLSearchParams(text));
}

/** A JSON object, or undefined for anything else (invalid JSON, an array, a string…). */
function parseJson(text: string): SlackBody | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is SlackBody {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
