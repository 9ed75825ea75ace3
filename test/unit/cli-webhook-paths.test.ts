/**
 * A platform's webhook path on the server's own routes, or on another platform's path, is a bad
 * value of its variable: `parley serve` and `parley check` name the variable, as for any other.
 */
import { describe, expect, it } from 'vitest';
import { adapterConfigErrors } from '../../cli/adapters.js';

const slack = { SLACK_BOT_TOKEN: 'xoxb-local', SLACK_SIGNING_SECRET: 'local-secret' };
const whatsapp = { TWILIO_ACCOUNT_SID: 'AC0000000000000000000000000000000a', TWILIO_AUTH_TOKEN: 'local-token-123', TWILIO_WHATSAPP_FROM: 'whatsapp:+14155238886' };
const messages = (env: Record<string, string>) => adapterConfigErrors(env).map((error) => error.message);

describe('webhook paths from the environment', () => {
  it('names the variable that puts a webhook on /healthz, /readyz or /metrics', () => {
    expect(messages({ ...slack, SLACK_EVENTS_PATH: '/metrics' })).toEqual([
      'SLACK_EVENTS_PATH="/metrics" is the server\'s own /metrics route, so no webhook would reach it. Fix: set SLACK_EVENTS_PATH to another path, e.g. SLACK_EVENTS_PATH=/slack/events.',
    ]);
    expect(messages({ ...whatsapp, TWILIO_WHATSAPP_PATH: '/healthz' })[0]).toMatch(/^TWILIO_WHATSAPP_PATH="\/healthz" is the server's own/);
  });

  it('names the variable that puts a second platform on a path another already has', () => {
    expect(messages({ ...slack, ...whatsapp, TWILIO_WHATSAPP_PATH: '/slack/events' })).toEqual([
      'TWILIO_WHATSAPP_PATH="/slack/events" is SLACK_EVENTS_PATH\'s path too, so one platform\'s webhooks would reach the other. Fix: give each its own path, e.g. TWILIO_WHATSAPP_PATH=/twilio/whatsapp.',
    ]);
  });

  it('takes the defaults, and a platform that is off, as they are', () => {
    expect(messages({ ...slack, ...whatsapp })).toEqual([]);
    expect(messages({ SLACK_EVENTS_PATH: '/metrics', ...whatsapp })).toEqual([]);
  });
});
