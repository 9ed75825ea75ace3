/**
 * Adapter<TDetails> types what receive() returns: the messages' conversation.details are the
 * adapter's TDetails, as the README says. The type check (`npx tsc --noEmit -p .`) is the test:
 * each @ts-expect-error below fails it if the wrong shape is accepted.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Adapter, InboundMessage, Received } from '../../src/adapter-kit.js';

interface RoomDetails {
  room: string;
}

const message = (details: RoomDetails): InboundMessage<RoomDetails> => ({
  id: 'm1',
  platform: 'rooms',
  conversation: { platform: 'rooms', id: 'r1', details },
  user: { id: 'u1' },
  text: 'hi',
  receivedAt: new Date(0).toISOString(),
});

const adapter: Adapter<RoomDetails> = {
  platform: 'rooms',
  path: '/rooms',
  contentTypes: ['application/json'],
  async receive() {
    return { response: { status: 200 }, messages: [message({ room: 'a' })] };
  },
  maxChars: 100,
  format: (markdown) => markdown,
  async sendPart() {
    return 'id';
  },
};

export const wronglyShaped: Adapter<RoomDetails> = {
  ...adapter,
  // @ts-expect-error: the messages' `details` must be a RoomDetails
  async receive() {
    return {
      response: { status: 200 },
      messages: [{ id: 'm2', platform: 'rooms', conversation: { platform: 'rooms', id: 'r2', details: { channel: 1 } }, user: { id: 'u1' }, text: 'hi', receivedAt: '' }],
    };
  },
};

describe("an adapter's received messages are typed by its TDetails", () => {
  it('conversation.details is a RoomDetails, with no cast', async () => {
    const received = await adapter.receive({} as never);
    expectTypeOf(received).toEqualTypeOf<Received<RoomDetails>>();
    expectTypeOf(received.messages[0]!.conversation.details).toEqualTypeOf<RoomDetails | undefined>();
    expect(received.messages[0]!.conversation.details?.room).toBe('a');
  });

  it('code written before stays valid: a Promise<Received> annotation in an Adapter<RoomDetails>', () => {
    const receive = async (): Promise<Received> => ({ response: { status: 200 }, messages: [] });
    const older: Adapter<RoomDetails> = { ...adapter, receive };
    expect(older.platform).toBe('rooms');
  });
});
