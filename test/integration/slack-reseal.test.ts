/**
 * `parley slack reseal` on a real Redis (a prefix of its own): installations sealed with an older
 * listed key are sealed with the first, current ones are left, and those no listed key opens are
 * named (exit 1) until they are gone (exit 0).
 */
import { randomBytes } from 'node:crypto';
import type { Installation } from '@slack/oauth';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { slackReseal } from '../../cli/slack-reseal.js';
import { keyId } from '../../adapters/slack/installation-crypto.js';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { loadConfig, RedisStore } from '../../src/index.js';
import { installation } from '../helpers/slack-installations.js';
import { testEnv } from '../helpers/web-bot.js';
import { deleteKeys, REDIS_URL, uniquePrefix, useRedis } from './redis-helpers.js';

const OLD = randomBytes(32);
const NEW = randomBytes(32);
const GONE = randomBytes(32);
const team = (id: string) => ({ teamId: id, enterpriseId: undefined, isEnterpriseInstall: false });

describe('parley slack reseal', () => {
  const prefix = uniquePrefix();
  const redis = useRedis(prefix);
  const env = {
    ...testEnv,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    SLACK_CLIENT_ID: '1111.2222',
    SLACK_CLIENT_SECRET: 'fake-client-secret-0123456789',
    SLACK_STATE_SECRET: 'state-secret-for-tests-0123456789',
    SLACK_INSTALLATION_KEY: `${NEW.toString('base64')},${OLD.toString('base64')}`,
  };
  afterEach(() => vi.restoreAllMocks());

  async function run(keys = env.SLACK_INSTALLATION_KEY): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void out.push(args.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void err.push(args.join(' ')));
    const withKeys = { ...env, SLACK_INSTALLATION_KEY: keys };
    const code = await slackReseal(loadConfig(withKeys), withKeys);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('re-seals the installations on an older key, counts the current ones and names the unreadable ones', async () => {
    const store = new RedisStore(await redis.connection(), `${prefix}:`);
    const sealedWith = (keys: Buffer[]) => new ParleyInstallationStore({ store, keys });
    const orgWide: Installation<'v2', true> = { ...installation('-'), team: undefined, enterprise: { id: 'E0ORG', name: 'Org' }, isEnterpriseInstall: true } as unknown as Installation<'v2', true>;
    await sealedWith([OLD]).storeInstallation(installation('T0OLD'));
    await sealedWith([OLD]).storeInstallation(orgWide);
    await sealedWith([NEW]).storeInstallation(installation('T0NEW'));
    await sealedWith([GONE]).storeInstallation(installation('T0GONE'));
    const current = sealedWith([NEW, OLD]);
    expect(await current.isStale(team('T0OLD'))).toBe(true);

    const first = await run();
    expect(first.out).toContain('re-sealed 2, already current 1, unreadable 1');
    expect(first.out).toContain(`unreadable: team T0GONE (sealed with key ${keyId(GONE)})`);
    expect(first.out).toMatch(/install the app again/);
    expect(first.code).toBe(1);
    expect(await current.isStale(team('T0OLD'))).toBe(false);
    expect(await current.isStale({ teamId: undefined, enterpriseId: 'E0ORG', isEnterpriseInstall: true })).toBe(false);
    // Sealed with the first key alone now: the old key can go.
    expect((await sealedWith([NEW]).fetchInstallation(team('T0OLD'))).bot!.token).toBe('xoxb-T0OLD-secret-token');

    await current.deleteInstallation(team('T0GONE'));
    const second = await run();
    expect(second.out).toContain('re-sealed 0, already current 3, unreadable 0');
    expect(second.code).toBe(0);
  });

  it('run with a wrong key (none opens any installation): says the key is likely wrong, not that every workspace must install again', async () => {
    await deleteKeys(redis.admin(), prefix); // the first test's installations
    const store = new RedisStore(await redis.connection(), `${prefix}:`);
    const sealed = new ParleyInstallationStore({ store, keys: [NEW] });
    await sealed.storeInstallation(installation('T0WRONG1'));
    await sealed.storeInstallation(installation('T0WRONG2'));
    const wrong = randomBytes(32);
    const { code, out, err } = await run(wrong.toString('base64'));
    expect(code).toBe(1);
    expect(out).toContain('re-sealed 0, already current 0, unreadable 2');
    expect(err).toContain(`no key in SLACK_INSTALLATION_KEY opens any of the 2 installations (sealed with ${keyId(NEW)}; the keys given are ${keyId(wrong)})`);
    expect(err).toMatch(/is SLACK_INSTALLATION_KEY the one the bot runs with/);
    expect(out).not.toMatch(/install the app again/);
    // Nothing was changed: the right key still opens both.
    expect((await sealed.fetchInstallation(team('T0WRONG1'))).bot!.token).toBe('xoxb-T0WRONG1-secret-token');
    expect(await sealed.isStale(team('T0WRONG2'))).toBe(false);
  });
});
