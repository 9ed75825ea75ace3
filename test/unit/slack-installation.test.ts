/**
 * Slack installations at rest: AES-256-GCM sealing with key rotation, and the InstallationStore
 * over parley's in-memory store (Redis and DynamoDB: test/integration/slack-installation-store.test.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Installation } from '@slack/oauth';
import { describe, expect, it } from 'vitest';
import { InstallationDecryptError, keyId, needsReencrypt, open, parseInstallationKeys, seal } from '../../adapters/slack/installation-crypto.js';
import { InstallationNotFoundError, ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { MemoryStore } from '../../src/store/index.js';
import { installation } from '../helpers/slack-installations.js';

const key = () => randomBytes(32);

describe('installation crypto', () => {
  it('seals and opens; the sealed text holds none of the plaintext', () => {
    const keys = [key()];
    const sealed = seal('xoxb-very-secret', keys, 'k');
    expect(sealed).not.toContain('xoxb');
    expect(JSON.parse(sealed)).toMatchObject({ v: 1, key: keyId(keys[0]!) });
    expect(open(sealed, keys, 'k')).toEqual({ plaintext: 'xoxb-very-secret', keyIndex: 0, needsReencrypt: false });
  });

  it('a fresh IV each time', () => {
    const keys = [key()];
    expect(seal('same', keys)).not.toBe(seal('same', keys));
  });

  it('decrypts with an older key in second place, and says to seal again', () => {
    const [oldKey, newKey] = [key(), key()];
    const sealed = seal('secret', [oldKey]);
    expect(needsReencrypt(sealed, [newKey, oldKey])).toBe(true);
    expect(open(sealed, [newKey, oldKey])).toEqual({ plaintext: 'secret', keyIndex: 1, needsReencrypt: true });
    expect(needsReencrypt(seal('secret', [newKey, oldKey]), [newKey, oldKey])).toBe(false);
  });

  it('refuses a wrong key, other associated data, a tampered record, garbage', () => {
    const keys = [key()];
    const sealed = seal('secret', keys, 'team-a');
    expect(() => open(sealed, [key()], 'team-a')).toThrow(InstallationDecryptError);
    expect(() => open(sealed, keys, 'team-b')).toThrow(InstallationDecryptError);
    const record = JSON.parse(sealed) as { data: string };
    const data = Buffer.from(record.data, 'base64');
    data[0] = data[0]! ^ 1;
    expect(() => open(JSON.stringify({ ...record, data: data.toString('base64') }), keys, 'team-a')).toThrow(InstallationDecryptError);
    expect(() => open('not json', keys)).toThrow(InstallationDecryptError);
    expect(() => open('{"v":2}', keys)).toThrow(InstallationDecryptError);
  });

  it('reads SLACK_INSTALLATION_KEY: comma-separated base64 of 32 bytes, naming a bad key by position only', () => {
    const [a, b] = [key(), key()];
    expect(parseInstallationKeys(`${a.toString('base64')}, ${b.toString('base64')}`)).toEqual([a, b]);
    expect(parseInstallationKeys(a.toString('base64url'))).toEqual([a]);
    const short = randomBytes(16).toString('base64');
    expect(() => parseInstallationKeys(`${a.toString('base64')},${short}`)).toThrow(/^key 2 of 2 is not base64 of 32 bytes \(got 16 bytes\)$/);
    expect(() => parseInstallationKeys('not base64!')).toThrow(/key 1 of 1/);
    expect(() => parseInstallationKeys(' , ')).toThrow(/no key/);
  });
});

describe('ParleyInstallationStore (in memory)', () => {
  it('stores, fetches and deletes an installation; the raw value has no token', async () => {
    const memory = new MemoryStore();
    const store = new ParleyInstallationStore({ store: memory, keys: [key()] });
    await store.storeInstallation(installation('T1'));
    const raw = await memory.get('parley:slack:installation:-:T1');
    expect(raw).toBeDefined();
    expect(raw).not.toMatch(/xox[bpe]-/);
    expect(await store.fetchInstallation({ teamId: 'T1', enterpriseId: undefined, isEnterpriseInstall: false })).toEqual({ ...installation('T1'), installedAt: expect.any(Number) }); // stored with the time it was installed
    await store.deleteInstallation({ teamId: 'T1', enterpriseId: undefined, isEnterpriseInstall: false });
    await expect(store.fetchInstallation({ teamId: 'T1', enterpriseId: undefined, isEnterpriseInstall: false })).rejects.toThrow(InstallationNotFoundError);
    expect(await store.findInstallation({ teamId: 'T1', enterpriseId: undefined, isEnterpriseInstall: false })).toBeUndefined();
    await memory.close();
  });

  it('replaceInstallation writes only over the installation it replaces, and never without the write lock', async () => {
    const memory = new MemoryStore();
    const store = new ParleyInstallationStore({ store: memory, keys: [key()] });
    const query = { teamId: 'T9', enterpriseId: undefined, isEnterpriseInstall: false };
    await store.storeInstallation(installation('T9'));
    const refreshed = installation('T9', 'xoxb-T9-refreshed', { bot: { ...installation('T9').bot!, token: 'xoxb-T9-refreshed', refreshToken: 'xoxe-1-T9-next' } });
    expect(await store.replaceInstallation(refreshed, 'xoxe-1-some-other-refresh')).toBe(false);
    // The write lock held elsewhere (a writer that died holding it): no check-and-write without it.
    const lock = await memory.acquireLock('parley:slack:installation:-:T9:write-lock', 60_000);
    expect(lock).toBeTruthy();
    await expect(store.replaceInstallation(refreshed, 'xoxe-1-T9-refresh')).rejects.toThrow(/being written/);
    expect((await store.fetchInstallation(query)).bot!.token).toBe('xoxb-T9-secret-token');
    await memory.releaseLock('parley:slack:installation:-:T9:write-lock', lock!);
    expect(await store.replaceInstallation(refreshed, 'xoxe-1-T9-refresh')).toMatchObject({ bot: { token: 'xoxb-T9-refreshed' }, installedAt: expect.any(Number) }); // what it stored
    expect((await store.fetchInstallation(query)).bot!.token).toBe('xoxb-T9-refreshed');
    await memory.close();
  });

  it('replaceInstallation of a refreshed user token writes only while the store still has the user refresh token it spent', async () => {
    const memory = new MemoryStore();
    const store = new ParleyInstallationStore({ store: memory, keys: [key()] });
    const query = { teamId: 'T8', enterpriseId: undefined, isEnterpriseInstall: false };
    const withUser = (token: string, refreshToken: string) => installation('T8', 'xoxb-T8-bot', { user: { id: 'U0INSTALLER', token, refreshToken, expiresAt: 1_900_000_000, scopes: ['search:read'] } });
    await store.storeInstallation(withUser('xoxp-T8-first', 'xoxe-1-user-first'));
    // A reinstall (same bot refresh token here, another user token) landed while the user token was being refreshed: it wins.
    await store.storeInstallation(withUser('xoxp-T8-reinstalled', 'xoxe-1-user-reinstalled'));
    const bot = installation('T8').bot!.refreshToken;
    expect(await store.replaceInstallation(withUser('xoxp-T8-refreshed', 'xoxe-1-user-next'), bot, 'xoxe-1-user-first')).toBe(false);
    expect((await store.fetchInstallation(query)).user.token).toBe('xoxp-T8-reinstalled');
    expect(await store.replaceInstallation(withUser('xoxp-T8-refreshed', 'xoxe-1-user-next'), bot, 'xoxe-1-user-reinstalled')).toMatchObject({ user: { token: 'xoxp-T8-refreshed' } });
    expect((await store.fetchInstallation(query)).user.token).toBe('xoxp-T8-refreshed');
    await memory.close();
  });

  it("replaceInstallation of a refreshed bot token keeps the store's user part unless it spent that user refresh token (a user token dropped meanwhile stays dropped)", async () => {
    const memory = new MemoryStore();
    const store = new ParleyInstallationStore({ store: memory, keys: [key()] });
    const query = { teamId: 'T6', enterpriseId: undefined, isEnterpriseInstall: false };
    const user = { id: 'U0INSTALLER', token: 'xoxp-T6-user', refreshToken: 'xoxe-1-T6-user', expiresAt: 1_900_000_000, scopes: ['search:read'] };
    await store.storeInstallation(installation('T6', 'xoxb-T6-bot', { user }));
    const { installedAt } = (await store.fetchInstallation(query)) as { installedAt?: number };
    expect(await store.dropRevokedUserToken(query, ['U0INSTALLER'], undefined)).toEqual({ dropped: true });
    const bot = { ...installation('T6').bot!, token: 'xoxb-T6-refreshed', refreshToken: 'xoxe-1-T6-next' };
    // Read before the drop: the bot refreshed (the user not), then the user too.
    for (const [refreshed, spentUser] of [[installation('T6', 'xoxb-T6-refreshed', { user, bot }), undefined], [installation('T6', 'xoxb-T6-refreshed', { user: { ...user, token: 'xoxp-T6-next', refreshToken: 'xoxe-1-T6-user-next' }, bot }), 'xoxe-1-T6-user']] as const) {
      const stored = await store.replaceInstallation(refreshed, installation('T6').bot!.refreshToken, spentUser);
      const after = await store.fetchInstallation(query);
      expect([after.bot!.token, after.bot!.refreshToken, after.user.token, after.user.refreshToken, (after as { installedAt?: number }).installedAt]).toEqual(['xoxb-T6-refreshed', 'xoxe-1-T6-next', undefined, undefined, installedAt]);
      expect(stored).toEqual(after);
      await store.storeInstallation({ ...after, bot: installation('T6').bot! } as Installation); // the bot's refresh token as it was, for the next case
    }
    await memory.close();
  });

  it('an uninstall deletes only an installation older than its event_time (the same second counts as older), under the write lock', async () => {
    const memory = new MemoryStore();
    const store = new ParleyInstallationStore({ store: memory, keys: [key()] });
    const query = { teamId: 'T7', enterpriseId: undefined, isEnterpriseInstall: false };
    const installedAt = Date.UTC(2026, 0, 1, 12, 0, 0, 900);
    await store.storeInstallation({ ...installation('T7'), installedAt } as Installation);
    const second = Math.floor(installedAt / 1000);
    expect(await store.deleteInstallationUninstalledAt(query, second - 1)).toEqual({ deleted: false, installedAt });
    expect(await store.deleteInstallationUninstalledAt(query, second)).toEqual({ deleted: false, installedAt });
    // A store's own write of the installation (a lock held elsewhere): no check-and-delete without it.
    const lock = await memory.acquireLock('parley:slack:installation:-:T7:write-lock', 60_000);
    await expect(store.deleteInstallationUninstalledAt(query, second + 1)).rejects.toThrow(/being written/);
    await memory.releaseLock('parley:slack:installation:-:T7:write-lock', lock!);
    expect(await store.deleteInstallationUninstalledAt(query, second + 1)).toEqual({ deleted: true });
    expect(await store.findInstallation(query)).toBeUndefined();
    // Stored as new: the time it was installed is recorded, and a refresh stored back by Bolt keeps it.
    await store.storeInstallation(installation('T7'));
    const recorded = (await store.fetchInstallation(query)) as Installation & { installedAt?: number };
    expect(recorded.installedAt).toBeGreaterThan(installedAt);
    await store.storeInstallation({ ...recorded, bot: { ...recorded.bot!, token: 'xoxb-T7-refreshed-by-bolt' } });
    expect(((await store.fetchInstallation(query)) as typeof recorded).installedAt).toBe(recorded.installedAt);
    await memory.close();
  });

  it('keeps a Grid workspace under its enterprise and team, an org-wide install under its enterprise', async () => {
    const memory = new MemoryStore();
    const store = new ParleyInstallationStore({ store: memory, keys: [key()] });
    await store.storeInstallation(installation('T2', 'xoxb-grid-workspace', { enterprise: { id: 'E1', name: 'Grid' } }));
    const org: Installation<'v2', true> = { ...installation('unused', 'xoxb-org-wide'), team: undefined, enterprise: { id: 'E1', name: 'Grid' }, isEnterpriseInstall: true };
    await store.storeInstallation(org);
    expect(await memory.get('parley:slack:installation:E1:T2')).toBeDefined();
    expect(await memory.get('parley:slack:installation:E1:-')).toBeDefined();
    expect((await store.fetchInstallation({ teamId: 'T2', enterpriseId: 'E1', isEnterpriseInstall: false })).bot?.token).toBe('xoxb-grid-workspace');
    expect((await store.fetchInstallation({ teamId: undefined, enterpriseId: 'E1', isEnterpriseInstall: true })).bot?.token).toBe('xoxb-org-wide');
    await memory.close();
  });

  it("a workspace installed before it joined a Grid org is found by the org's events, refreshed, uninstalled there, and replaced by a reinstall in the org", async () => {
    const memory = new MemoryStore();
    const store = new ParleyInstallationStore({ store: memory, keys: [key()] });
    await store.storeInstallation(installation('T7', 'xoxb-before-the-org'));
    // Slack migrated the workspace into org E7: same team id and installation, its events now name E7.
    const inOrg = { teamId: 'T7', enterpriseId: 'E7', isEnterpriseInstall: false } as const;
    const found = await store.fetchInstallation(inOrg);
    expect(found.bot?.token).toBe('xoxb-before-the-org');
    const refreshed = { ...found, bot: { ...found.bot!, token: 'xoxb-refreshed', refreshToken: 'xoxe-1-next' } };
    expect(await store.replaceInstallation(refreshed, found.bot!.refreshToken)).toBeTruthy();
    expect((await store.fetchInstallation(inOrg)).bot?.token).toBe('xoxb-refreshed');
    // Installed again in the org: stored under the org, the older record replaced.
    await store.storeInstallation(installation('T7', 'xoxb-in-the-org', { enterprise: { id: 'E7', name: 'Grid' } }));
    expect(await memory.get('parley:slack:installation:-:T7')).toBeUndefined();
    expect((await store.fetchInstallation(inOrg)).bot?.token).toBe('xoxb-in-the-org');
    expect(await store.deleteInstallationUninstalledAt(inOrg, Math.floor(Date.now() / 1000) + 5)).toEqual({ deleted: true });
    expect(await store.findInstallation(inOrg)).toBeUndefined();
    // Uninstalled while still stored from before the org: deleted too.
    await store.storeInstallation(installation('T8', 'xoxb-t8'));
    expect(await store.deleteInstallationUninstalledAt({ teamId: 'T8', enterpriseId: 'E7', isEnterpriseInstall: false }, Math.floor(Date.now() / 1000) + 5)).toEqual({ deleted: true });
    expect(await memory.get('parley:slack:installation:-:T8')).toBeUndefined();
    await memory.close();
  });

  it('an uninstall without event_time (deleteInstallation) leaves no record from before the org to answer next', async () => {
    const memory = new MemoryStore();
    const key5 = key();
    const store = new ParleyInstallationStore({ store: memory, keys: [key5] });
    const inOrg = { teamId: 'T5', enterpriseId: 'E5', isEnterpriseInstall: false } as const;
    // An older parley kept the record from before the org beside the reinstall in it.
    await store.storeInstallation(installation('T5', 'xoxb-in-the-org', { enterprise: { id: 'E5', name: 'Grid' } }));
    await memory.set('parley:slack:installation:-:T5', seal(JSON.stringify(installation('T5', 'xoxb-before-the-org')), [key5], 'parley:slack:installation:-:T5'));
    await store.deleteInstallation(inOrg);
    expect(await store.findInstallation(inOrg)).toBeUndefined();
    await memory.close();
  });

  it('a record sealed with an old key is read with the rotated list and sealed again with the first key', async () => {
    const memory = new MemoryStore();
    const [oldKey, newKey] = [key(), key()];
    await new ParleyInstallationStore({ store: memory, keys: [oldKey] }).storeInstallation(installation('T3'));
    const before = (await memory.get('parley:slack:installation:-:T3'))!;
    const rotated = new ParleyInstallationStore({ store: () => memory, keys: [newKey, oldKey] });
    const query = { teamId: 'T3', enterpriseId: undefined, isEnterpriseInstall: false } as const;
    expect(await rotated.isStale(query)).toBe(true);
    expect((await rotated.fetchInstallation(query)).bot?.token).toBe('xoxb-T3-secret-token');
    const after = (await memory.get('parley:slack:installation:-:T3'))!;
    expect(after).not.toBe(before);
    expect(JSON.parse(after).key).toBe(keyId(newKey));
    expect(await rotated.isStale(query)).toBe(false);
    // The new key alone now reads it.
    expect((await new ParleyInstallationStore({ store: memory, keys: [newKey] }).fetchInstallation(query)).team?.id).toBe('T3');
    await memory.close();
  });

  it('a re-encryption never puts back an older copy: a refresh or an uninstall written after the read wins', async () => {
    const [oldKey, newKey] = [key(), key()];
    for (const meanwhile of ['refresh', 'uninstall'] as const) {
      const memory = new MemoryStore();
      await new ParleyInstallationStore({ store: memory, keys: [oldKey] }).storeInstallation(installation('T6', 'xoxb-before'));
      const rotated = new ParleyInstallationStore({ store: memory, keys: [newKey, oldKey] });
      const query = { teamId: 'T6', enterpriseId: undefined, isEnterpriseInstall: false } as const;
      // Another process writes between this read and its re-encryption (the read is done when the lock is asked for).
      const acquire = memory.acquireLock.bind(memory);
      let once = false;
      memory.acquireLock = async (lockKey, ttlMs) => {
        if (!once && lockKey.endsWith(':write-lock')) {
          once = true;
          const other = new ParleyInstallationStore({ store: memory, keys: [newKey, oldKey] });
          if (meanwhile === 'refresh') await other.storeInstallation(installation('T6', 'xoxb-refreshed'));
          else await other.deleteInstallation(query);
        }
        return acquire(lockKey, ttlMs);
      };
      expect((await rotated.fetchInstallation(query)).bot?.token).toBe('xoxb-before');
      memory.acquireLock = acquire;
      const now = await rotated.findInstallation(query);
      if (meanwhile === 'refresh') expect(now?.bot?.token).toBe('xoxb-refreshed');
      else expect(now).toBeUndefined();
      await memory.close();
    }
  });

  it('a record moved under another workspace key does not open', async () => {
    const memory = new MemoryStore();
    const store = new ParleyInstallationStore({ store: memory, keys: [key()] });
    await store.storeInstallation(installation('T4'));
    await memory.set('parley:slack:installation:-:T5', (await memory.get('parley:slack:installation:-:T4'))!);
    await expect(store.fetchInstallation({ teamId: 'T5', enterpriseId: undefined, isEnterpriseInstall: false })).rejects.toThrow(InstallationDecryptError);
    await memory.close();
  });

  it('needs a key', () => {
    expect(() => new ParleyInstallationStore({ store: new MemoryStore(), keys: [] })).toThrow(/SLACK_INSTALLATION_KEY/);
  });
});
