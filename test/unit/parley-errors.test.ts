/**
 * Every error parley throws on purpose is a ParleyError with a code (the README says so): bad
 * options to the public factories and helpers included. RedisConversationLog's own option checks
 * are in test/integration/conversation-log.test.ts (they need a Redis connection).
 */
import { describe, expect, it } from 'vitest';
import { whatsappAdapter } from '../../adapters/whatsapp/index.js';
import { parseRedisUrl } from '../../src/store/redis-connection.js';
import { createAiClient, ErrorCode, ParleyError } from '../../src/index.js';
import { splitMessage } from '../../src/text/index.js';

function codeOf(act: () => unknown): string {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(ParleyError);
    return (error as ParleyError).code;
  }
  throw new Error('expected an error');
}

describe('bad options are ParleyErrors with a code', () => {
  it.each([
    ['createAiClient({ attempts: 0 })', () => createAiClient({ apiKey: 'sk-test', model: 'gpt-4o-mini', attempts: 0 })],
    ['createAiClient({ initialBackoffMs: -1 })', () => createAiClient({ apiKey: 'sk-test', model: 'gpt-4o-mini', initialBackoffMs: -1 })],
    ["createAiClient({ model: ' ' })", () => createAiClient({ apiKey: 'sk-test', model: ' ' })],
    ['whatsappAdapter({ authTokens: [] })', () => whatsappAdapter({ accountSid: `AC${'0'.repeat(32)}`, authTokens: [], from: 'whatsapp:+14155238886' })],
    ["parseRedisUrl('foo://bar')", () => parseRedisUrl('foo://bar')],
    ["splitMessage('text', 1)", () => splitMessage('text', 1)],
  ])('%s', (_what, act) => {
    expect(codeOf(act)).toBe(ErrorCode.Config);
  });
});
