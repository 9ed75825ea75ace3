/**
 * A Slack Socket Mode envelope's payload gets the checks the same payload gets over HTTP
 * (adapters/slack/parse.ts); every misfit is a 200 (acknowledged and dropped).
 */
import { describe, expect, it } from 'vitest';
import { checkEnvelopePayload } from '../../adapters/slack/parse.js';
import { InvalidPayloadError } from '../../src/index.js';
import { appMention } from '../helpers/slack-events.js';

function misfit(type: string, payload: unknown): InvalidPayloadError {
  try {
    checkEnvelopePayload(type, payload);
  } catch (error) {
    if (error instanceof InvalidPayloadError) return error;
    throw error;
  }
  throw new Error(`the ${type} payload was accepted`);
}

const command = { command: '/ask', team_id: 'T1', user_id: 'U1', channel_id: 'C1', text: 'hi' };
const action = { type: 'block_actions', user: { id: 'U1' }, team: { id: 'T1' }, actions: [{ type: 'button', action_id: 'go' }] };

describe('checkEnvelopePayload (Slack Socket Mode)', () => {
  it('accepts the payloads HTTP accepts, and envelopes that carry none', () => {
    const mention = appMention({ text: 'hello' });
    expect(checkEnvelopePayload('events_api', mention)).toBe(mention);
    expect(checkEnvelopePayload('slash_commands', command)).toEqual(command);
    expect(checkEnvelopePayload('interactive', action)).toEqual(action);
    expect(checkEnvelopePayload('hello', undefined)).toBeUndefined();
  });

  it('refuses, as 200 invalid_payload, what HTTP refuses', () => {
    const mention = appMention({ text: 'hello' });
    const events = misfit('events_api', { ...mention, event: { ...mention.event, text: 12345 } });
    expect(events).toMatchObject({ status: 200, reason: 'invalid_payload' });
    expect(events.message).toMatch(/app_mention event does not fit: text/);
    expect(misfit('events_api', { type: 'event_callback', event_id: 'Ev1' }).message).toMatch(/Events API payload does not fit: event/);
    expect(misfit('slash_commands', { ...command, user_id: 7 })).toMatchObject({ status: 200, reason: 'invalid_payload' });
    expect(misfit('interactive', { ...action, user: {} })).toMatchObject({ status: 200, reason: 'invalid_payload' });
    expect(misfit('interactive', { type: 'unknown' })).toMatchObject({ status: 200, reason: 'invalid_payload' });
  });

  it('refuses an envelope with no payload object as malformed_body', () => {
    for (const payload of [undefined, null, 'text', [1]]) expect(misfit('events_api', payload)).toMatchObject({ status: 200, reason: 'malformed_body' });
  });
});
