/** The bot tokens Slack refused for good (adapters/slack/refused-tokens.ts): what the check before the AI does. */
import { describe, expect, it } from 'vitest';
import { RefusedTokens } from '../../adapters/slack/refused-tokens.js';
import { MemoryStore, PermanentError, type Store } from '../../src/index.js';

const refusal = Object.assign(new Error('An API error occurred: token_revoked'), { code: 'slack_webapi_platform_error', data: { ok: false, error: 'token_revoked' } });

describe('RefusedTokens', () => {
  it('a refused token noted: checked, it dead-letters as slack_<error>; the store key never holds the token', async () => {
    const memory = new MemoryStore();
    const keys: string[] = [];
    const store = { get: (key: string) => memory.get(key), set: (key: string, value: string, ttl: number) => (keys.push(key), memory.set(key, value, ttl)) } as unknown as Store;
    const refused = new RefusedTokens(() => store);
    await refused.noted('xoxb-secret', refusal);
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain('secret');
    const error = await refused.check('xoxb-secret').then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).reason).toBe('slack_token_revoked');
    await expect(refused.check('xoxb-other')).resolves.toBeUndefined();
  });

  it('a token that can still be renewed (a rotating one whose refresh failed for now) passes', async () => {
    const store = new MemoryStore();
    const refused = new RefusedTokens(() => store);
    await refused.noted('xoxb-rotating', refusal);
    await expect(refused.check('xoxb-rotating', async () => 'xoxe.xoxb-new')).resolves.toBeUndefined();
    await expect(refused.check('xoxb-rotating', async () => undefined)).rejects.toBeInstanceOf(PermanentError);
  });

  it('a store that fails the read (Redis down) does not fail the message: best effort, as noting is', async () => {
    const down = { get: () => Promise.reject(new Error('connection is closed')) } as unknown as Store;
    await expect(new RefusedTokens(() => down).check('xoxb-any')).resolves.toBeUndefined();
  });
});
