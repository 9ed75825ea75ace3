/** Small shared helpers for the unit tests: a fake adapter, message factories, polling. */
import pino from 'pino';
import { HttpError, type Adapter, type AdapterContext, type HttpRequest, type Indicator, type Received } from '../../src/adapter.js';
import { loadConfig } from '../../src/config.js';
import type { Store } from '../../src/store/index.js';
import type { ConversationRef, Delivery, InboundMessage, Reply } from '../../src/message.js';

export const silentLogger = pino({ level: 'silent' });

/** What a bot gives an adapter at start, with nothing behind it but `store` (and `markerStore`, the same unless given). */
export function adapterContext(store: Store, overrides: Partial<AdapterContext> = {}): AdapterContext {
  return { store, markerStore: store, logger: silentLogger, loopbackOnly: true, deliver: async () => undefined, refused: () => undefined, limiter: () => undefined, config: loadConfig({}), forget: async () => undefined, feedback: async () => true, closing: new AbortController().signal, ...overrides };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Poll until `check` is true (or throw after `timeoutMs`). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export function conversation(id = 'c1', platform = 'test'): ConversationRef {
  return { platform, id, details: { channel: id } };
}

let counter = 0;
export function inbound(overrides: Partial<InboundMessage> = {}): InboundMessage {
  counter++;
  return {
    id: `evt-${counter}`,
    platform: 'test',
    conversation: conversation(),
    user: { id: 'u1' },
    text: `hello ${counter}`,
    receivedAt: new Date().toISOString(),
    ...overrides,
  };
}

export interface SentReply {
  conversation: ConversationRef;
  reply: Reply;
}

/**
 * The fake platform: platform "test" on POST /test/hook, JSON only. A body with `challenge`
 * is a control request answered at once; otherwise `{ id, text, conversation?, user? }` is one message.
 */
export class FakeAdapter implements Adapter {
  readonly platform = 'test';
  readonly path = '/test/hook';
  readonly contentTypes = ['application/json'] as const;
  readonly received: HttpRequest[] = [];
  readonly sent: SentReply[] = [];
  readonly indications: Array<{ conversation: string; state: Indicator }> = [];
  /** Called before each send; throw from it to make a send fail. */
  beforeSend?: (conversation: ConversationRef, reply: Reply) => void | Promise<void>;

  async receive(request: HttpRequest): Promise<Received> {
    this.received.push(request);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(request.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new HttpError(400, 'malformed_body', 'The body is not valid JSON.');
    }
    if (typeof body.challenge === 'string') {
      return { response: { status: 200, headers: { 'content-type': 'text/plain' }, body: body.challenge }, messages: [] };
    }
    const message: InboundMessage = {
      id: String(body.id),
      platform: this.platform,
      conversation: conversation(typeof body.conversation === 'string' ? body.conversation : 'c1'),
      user: { id: typeof body.user === 'string' ? body.user : 'u1' },
      text: String(body.text ?? ''),
      receivedAt: new Date().toISOString(),
      raw: body,
    };
    return { response: { status: 200, body: 'ok' }, messages: [message] };
  }

  async send(conversation: ConversationRef, reply: Reply): Promise<Delivery> {
    await this.beforeSend?.(conversation, reply);
    this.sent.push({ conversation, reply });
    return { ids: [`m${this.sent.length}`] };
  }

  async indicate(conversation: ConversationRef, state: Indicator): Promise<void> {
    this.indications.push({ conversation: conversation.id, state });
  }
}
