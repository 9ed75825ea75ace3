/**
 * The hand-written check of messages and mentions (adapters/slack/schema-fast.ts) never takes a
 * body the zod schemas (schema.ts) would refuse, on mutated Slack events generated with fast-check;
 * and it does take the common valid ones, so the ack path really skips zod for them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventSchemas, eventsApiBody } from '../../adapters/slack/schema.js';
import { fitsMessageCallback } from '../../adapters/slack/schema-fast.js';
import { appMention, assistantThreadStarted, botMessage, channelMessage, directMessage, messageChanged } from '../helpers/slack-events.js';
import { mutated } from './arbitraries.js';

/** What parse.ts's zod check accepts for an Events API body. */
function zodAccepts(body: Record<string, unknown>): boolean {
  const parsed = eventsApiBody.safeParse(body);
  if (!parsed.success) return false;
  if (parsed.data.type !== 'event_callback') return true;
  const schema = eventSchemas.get(parsed.data.event.type);
  return !schema || schema.safeParse(parsed.data.event).success;
}

const withFiles = () => {
  const event = directMessage({ text: 'see attached' });
  return { ...event, event: { ...event.event, subtype: 'file_share', files: [{ url_private: 'https://files.slack.com/x', mimetype: 'image/png', name: 'x.png' }] } };
};
const valid = [
  () => appMention({ text: 'what is parley?' }),
  () => directMessage({ text: 'hello' }),
  () => channelMessage({ text: 'in a thread', threadTs: '1700000000.000100' }),
  () => botMessage({ botId: 'B0OTHER' }),
  () => messageChanged({ text: 'edited' }),
  withFiles,
];

describe('fitsMessageCallback', () => {
  it('takes the common valid messages and mentions, and leaves other events to zod', () => {
    for (const build of valid) expect(fitsMessageCallback(JSON.parse(JSON.stringify(build())))).toBe(true);
    expect(fitsMessageCallback(JSON.parse(JSON.stringify(assistantThreadStarted())))).toBe(false);
  });

  it('never takes a body the zod schemas refuse (10,000 mutated events)', () => {
    const events = fc.constantFrom<() => object>(...valid, () => assistantThreadStarted());
    let taken = 0;
    fc.assert(
      fc.property(mutated(events), (payload) => {
        const body = JSON.parse(JSON.stringify(payload)) as Record<string, unknown>;
        if (!fitsMessageCallback(body)) return true;
        taken++;
        return zodAccepts(body);
      }),
      { numRuns: 10_000 },
    );
    expect(taken).toBeGreaterThan(500); // mutations that keep a body valid are checked too
  });
});
